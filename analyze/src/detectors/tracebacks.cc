// Frames kept alive by stored exceptions: an exception kept in a global or a container keeps
// its traceback, every frame of it, and every local variable of those frames.
#include <algorithm>
#include <map>
#include <set>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

class TracebackDetector : public Detector {
 public:
  const char* name() const override { return "traceback"; }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const DetectorOptions& options = input.options;
    const Snapshot& s = a.snapshot();
    std::map<std::pair<uint32_t, uint32_t>, Finding> groups;  // by exception type, path shape
    std::set<std::pair<uint32_t, uint32_t>> handled;          // being handled right now, not stored
    std::map<std::pair<uint32_t, uint32_t>, std::vector<NodeIndex>> kept;  // what each keeps
    for (uint32_t i = 0; i < s.object_count(); ++i) {
      const NodeIndex exc(i);
      const int64_t tb = detect::EdgeTo(s, exc, LabelKind::kField, "__traceback__");
      if (tb < 0 || s.TypeName(NodeIndex(static_cast<uint32_t>(tb))) != "traceback") continue;
      if (a.collector.unreachable[i]) continue;  // garbage: the cycle detectors' business
      const auto t = static_cast<uint32_t>(tb);
      // What storing the exception keeps: the exception and all it alone holds when it holds
      // its traceback alone (the usual case), else the traceback's own share.
      const uint32_t keeper = a.idom[t] == i ? i : t;
      const uint64_t bytes = a.retained[keeper];
      if (a.retained[t] < options.min_bytes) continue;
      const uint32_t shape = input.shapes.Of(exc);
      if (shape == kNoShape) continue;
      const std::pair<uint32_t, uint32_t> key{s.type[i].value(), shape};
      if (handled.count(key)) continue;
      Finding& f = groups[key];
      if (f.kind == FindingKind::kNone) {
        RetainerPath p = a.PathTo(exc);
        RenderedPath r = RenderPath(a, p);
        f.kind = FindingKind::kTraceback;
        f.count = 0;
        f.container = s.TypeQualname(exc);
        f.path.push_back(r.root);
        for (const auto& step : r.steps) f.path.push_back(step.label);
        f.path_text = r.text;
        // An exception being handled right now (held by a running frame or the thread state)
        // is not stored.
        if (p.root >= 0) {
          const RootKind k = s.roots[static_cast<size_t>(p.root)].kind;
          if (k == RootKind::kThreadFrame || k == RootKind::kThreadState) {
            groups.erase(key);
            handled.insert(key);
            continue;
          }
        }
        // The frames and, for each, the locals that hold the most. The file may say that
        // tb_next loops: the walk stops at the first traceback seen twice.
        std::set<int64_t> seen;
        for (int64_t cur = t;
             cur >= 0 && f.details.size() < 20 && seen.insert(cur).second && seen.size() <= 1000;
             cur = detect::EdgeTo(s, NodeIndex(static_cast<uint32_t>(cur)), LabelKind::kField,
                                  "tb_next")) {
          const int64_t frame = detect::EdgeTo(s, NodeIndex(static_cast<uint32_t>(cur)),
                                               LabelKind::kField, "tb_frame");
          if (frame < 0) continue;
          const auto fr = static_cast<uint32_t>(frame);
          std::vector<std::pair<uint64_t, std::string>> locals;
          for (uint64_t e = s.edge_begin[fr]; e < s.edge_begin[fr + 1]; ++e) {
            if (s.edge_label_kind[e] != LabelKind::kLocalVariable) continue;
            locals.emplace_back(a.retained[s.edge_target[e]],
                                s.String(StringId(static_cast<uint32_t>(s.LabelValue(e)))));
          }
          std::sort(locals.rbegin(), locals.rend());
          std::string line = "frame " + detect::QualifiedName(s, NodeIndex(fr));
          const std::string where = detect::Location(s, NodeIndex(fr));
          if (!where.empty()) line += " (" + where + ")";
          for (size_t k = 0; k < locals.size() && k < 3; ++k) {
            line += (k == 0 ? ": " : ", ") + locals[k].second + " " + FormatBytes(locals[k].first);
          }
          f.details.push_back(line);
        }
      }
      ++f.count;
      f.retained_bytes += bytes;
      f.objects += a.retained_count[keeper];
      if (f.examples.size() < 10) f.examples.push_back(exc);
      std::vector<NodeIndex>& keepers = kept[key];
      if (keepers.size() < 200000) keepers.push_back(NodeIndex(keeper));
    }
    for (auto& [key, f] : groups) {
      detect::CountRetainedTypes(a, kept[key], &f);
      if (f.count > 1) f.path_text = input.shapes.Text(key.second);
      f.title = (f.count > 1 ? FormatCount(f.count) + " stored " : std::string("stored ")) +
                f.container + " keep" + (f.count > 1 ? "" : "s") + " " +
                std::to_string(f.details.size()) +
                (f.details.size() == 1 ? " frame and its" : " frames and their") +
                " locals alive through __traceback__";
      f.fix =
          "keep what you need from the exception (str(e), type(e)) rather than the "
          "exception, or drop its frames: e.with_traceback(None) / "
          "traceback.clear_frames(e.__traceback__)";
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeTracebackDetector() { return std::make_unique<TracebackDetector>(); }

}  // namespace heapsnap

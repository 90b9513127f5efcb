// Frames kept alive by stored exceptions: an exception kept in a global or a container keeps
// its traceback, every frame of it, and every local variable of those frames.
//
// Fields: exception (the exception's qualified type). Details: one line per frame, with the
// locals that keep the most. An exception being handled right now (held by a running frame or
// the thread state) is not stored, and not reported.
#include <algorithm>
#include <map>
#include <set>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap {
namespace {

// "frame app.handle (app.py:12): rows 1.2 MB, cache 80 KB": a frame and its largest locals.
std::string FrameLine(const Analysis& a, uint32_t frame) {
  const Snapshot& s = a.snapshot();
  std::vector<std::pair<uint64_t, std::string>> locals;
  for (uint64_t e = s.edge_begin[frame]; e < s.edge_begin[frame + 1]; ++e) {
    if (s.edge_label_kind[e] != LabelKind::kLocalVariable) continue;
    locals.emplace_back(a.retained[s.edge_target[e]], s.LabelString(e));
  }
  std::sort(locals.rbegin(), locals.rend());
  std::string line = "frame " + detect::QualifiedName(s, NodeIndex(frame));
  const std::string where = detect::Location(s, NodeIndex(frame));
  if (!where.empty()) line += " (" + where + ")";
  for (size_t k = 0; k < locals.size() && k < 3; ++k) {
    line += (k == 0 ? ": " : ", ") + locals[k].second + " " + FormatBytes(locals[k].first);
  }
  return line;
}

// The frames of a traceback, one line each (at most 20). The file may say that tb_next loops:
// the walk stops at the first traceback seen twice.
std::vector<std::string> FrameLines(const Analysis& a, uint32_t traceback) {
  const Snapshot& s = a.snapshot();
  std::vector<std::string> lines;
  std::set<int64_t> seen;
  for (int64_t cur = traceback;
       cur >= 0 && lines.size() < 20 && seen.insert(cur).second && seen.size() <= 1000;
       cur =
           detect::EdgeTo(s, NodeIndex(static_cast<uint32_t>(cur)), LabelKind::kField, "tb_next")) {
    const int64_t frame =
        detect::EdgeTo(s, NodeIndex(static_cast<uint32_t>(cur)), LabelKind::kField, "tb_frame");
    if (frame >= 0) lines.push_back(FrameLine(a, static_cast<uint32_t>(frame)));
  }
  return lines;
}

bool HeldByRunningCode(const Snapshot& s, const RetainerPath& p) {
  if (p.root < 0) return false;
  const RootKind k = s.roots[static_cast<size_t>(p.root)].kind;
  return k == RootKind::kThreadFrame || k == RootKind::kThreadState;
}

class TracebackDetector : public Detector {
 public:
  const char* name() const override { return "traceback"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("exception", f.exception)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    using Key = std::pair<uint32_t, uint32_t>;  // exception type, path shape
    std::map<Key, detect::FindingGroup> groups;
    std::set<Key> handled;  // being handled right now, not stored
    for (uint32_t i = 0; i < s.object_count(); ++i) {
      const NodeIndex exc(i);
      const int64_t tb = detect::EdgeTo(s, exc, LabelKind::kField, "__traceback__");
      if (tb < 0 || s.TypeName(NodeIndex(static_cast<uint32_t>(tb))) != "traceback") continue;
      if (a.collector.unreachable[i]) continue;  // garbage: the cycle detectors' business
      const auto t = static_cast<uint32_t>(tb);
      if (a.retained[t] < input.options.min_bytes) continue;
      const uint32_t shape = input.shapes.Of(exc);
      if (shape == kNoShape) continue;
      const Key key{s.type[i].value(), shape};
      if (handled.count(key)) continue;
      detect::FindingGroup& g = groups[key];
      if (g.empty()) {
        g.finding.exception = s.TypeQualname(exc);
        if (HeldByRunningCode(s, detect::SetPath(a, exc, &g.finding))) {
          groups.erase(key);
          handled.insert(key);
          continue;
        }
        g.finding.details = FrameLines(a, t);
      }
      // What storing the exception keeps: the exception and all it alone holds when it holds
      // its traceback alone (the usual case), else the traceback's own share.
      const uint32_t keeper = a.idom[t] == i ? i : t;
      g.AddInstance(exc, a.retained[keeper], a.retained_count[keeper]);
      g.AddMember(NodeIndex(keeper));
    }
    for (auto& [key, g] : groups) {
      Finding f = g.Take(a);
      if (f.count > 1) f.path_text = input.shapes.Text(key.second);
      f.title = (f.count > 1 ? FormatCount(f.count) + " stored " : std::string("stored ")) +
                f.exception + " keep" + (f.count > 1 ? "" : "s") + " " +
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

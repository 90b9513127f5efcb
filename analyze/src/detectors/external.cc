// Memory held from C code: objects that nothing in the recorded heap holds, whose refcount says
// somebody does (C globals, an extension's state, atexit's list of callbacks, a C library's
// callback registry), and that keep a large share of the heap alive. One finding per type.
#include <map>

#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {
namespace {

std::string FixFor(const std::string& type) {
  if (type == "method" || type == "function" || type == "builtin_function_or_method" ||
      type == "functools.partial") {
    return "a callback registered with C code holds it (atexit.register, signal.signal, "
           "sys.settrace, weakref.finalize, a C library's callback list): unregister it when "
           "done (atexit.unregister(f)), or register a function that holds only a weakref to "
           "the object it cleans up";
  }
  if (type.rfind("_io.", 0) == 0) {
    return "an io object held by C-level state (a replaced sys.stdout, a handler's stream): "
           "close() it and drop every reference, or write to a file instead of a buffer";
  }
  return "C code or an extension module holds these references (its own cache or registry): "
         "release them through that library's API, or keep less in what you hand to it";
}

// A class's own structure, which the interpreter holds outside anything traversable: the
// namespaces of static builtin types (3.12+ keeps them in the interpreter's state), and the
// tp_subclasses dicts of weakrefs (3.8-3.11).
bool IsClassStructure(const Snapshot& s, uint32_t v) {
  if (s.TypeName(NodeIndex(v)) != "dict") return false;
  uint64_t values = 0;
  uint64_t weakrefs = 0;
  for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
    if (!Snapshot::IsDictValueLabel(s.edge_label_kind[e])) continue;
    const std::string key = s.DictKeyRepr(e);
    if (key == "'__doc__'" || key == "'__new__'" || key == "'__module__'") return true;
    ++values;
    weakrefs += s.TypeName(NodeIndex(s.edge_target[e])) == "weakref";
  }
  return values > 0 && weakrefs == values;
}

class ExternalDetector : public Detector {
 public:
  const char* name() const override { return "external"; }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    struct Group {
      Finding f;
      std::vector<NodeIndex> nodes;
      uint64_t best = 0;
    };
    std::map<std::string, Group> groups;  // by type
    for (size_t r = s.captured_roots; r < s.roots.size(); ++r) {
      const SnapshotRoot& root = s.roots[r];
      if (root.kind != RootKind::kExternal) continue;
      const uint32_t v = root.node.value();
      // Only where C is the whole explanation: not reached from a root of the program's.
      if (a.root_of_node[v] != static_cast<int32_t>(r) || a.parent_edge[v] != Analysis::kIsRoot) {
        continue;
      }
      // Classes are held from C as a matter of course (static types, extension module state).
      if (detect::EdgeTo(s, root.node, LabelKind::kField, "__mro__") >= 0) continue;
      if (IsClassStructure(s, v)) continue;
      const std::string type = s.TypeQualname(root.node);
      Group& g = groups[type];
      Finding& f = g.f;
      if (f.kind == FindingKind::kNone) {
        f.kind = FindingKind::kExternal;
        f.count = 0;
        f.container = type;
      }
      ++f.count;
      f.references += root.count;
      f.retained_bytes += a.retained[v];  // each is its own dominator subtree under the roots
      f.objects += a.retained_count[v];
      if (g.nodes.size() < 200000) g.nodes.push_back(root.node);
      if (a.retained[v] > g.best || f.examples.empty()) {
        g.best = a.retained[v];
        f.examples.insert(f.examples.begin(), root.node);
      } else if (f.examples.size() < 10) {
        f.examples.push_back(root.node);
      }
      if (f.examples.size() > 10) f.examples.pop_back();
    }
    for (auto& [type, g] : groups) {
      Finding& f = g.f;
      if (f.retained_bytes < input.share_bytes) continue;
      detect::CountRetainedTypes(a, g.nodes, &f);
      f.path_text = RootText(a, a.root_of_node[f.examples.front().value()], f.examples.front(),
                             /*address=*/true);
      f.path.push_back(f.path_text);
      const std::string share = detect::Percent(f.retained_bytes, input.live_bytes);
      // Say what the objects are: a bound method by its function and what it is bound to.
      std::string what = FormatCount(f.count) + " " + type + (f.count == 1 ? "" : " objects");
      const NodeIndex first = f.examples.front();
      const int64_t func = detect::EdgeTo(s, first, LabelKind::kField, "__func__");
      const int64_t self = detect::EdgeTo(s, first, LabelKind::kField, "__self__");
      if (type == "method" && func >= 0 && self >= 0) {
        f.function = detect::QualifiedName(s, NodeIndex(static_cast<uint32_t>(func)));
        what = FormatCount(f.count) + (f.count == 1 ? " bound method " : " bound methods ") +
               f.function + " (of " + s.TypeQualname(NodeIndex(static_cast<uint32_t>(self))) +
               (f.count == 1 ? ")" : " objects)");
      } else if (type == "function") {
        f.function = detect::QualifiedName(s, first);
        what = FormatCount(f.count) + (f.count == 1 ? " function " : " functions, such as ") +
               f.function;
      }
      f.title = "held from C code or an extension: " + FormatCount(f.references) +
                (f.references == 1 ? " reference" : " references") +
                " nobody in the heap accounts for keep" + (f.references == 1 ? "s " : " ") + what +
                " and " + FormatBytes(f.retained_bytes) + " alive (" + share + " of the live heap)";
      // What the first object holds directly, by label: a bound method's __self__, say.
      const uint32_t v = f.examples.front().value();
      for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1] && f.details.size() < 5; ++e) {
        const uint32_t t = s.edge_target[e];
        if (a.idom[t] != v || a.retained[t] * 10 < a.retained[v]) continue;
        f.details.push_back("it holds " + CutLabel(s.EdgeLabel(e)) + " -> " +
                            s.TypeQualname(NodeIndex(t)) + ", " + FormatBytes(a.retained[t]));
      }
      f.fix = FixFor(type);
      findings->push_back(std::move(f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeExternalDetector() { return std::make_unique<ExternalDetector>(); }

}  // namespace heapsnap

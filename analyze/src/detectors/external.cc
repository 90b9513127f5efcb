// Memory held from C code: objects that nothing in the recorded heap holds, whose refcount says
// somebody does (C globals, an extension's state, atexit's list of callbacks, a C library's
// callback registry), and that keep a large share of the heap alive. One finding per type.
//
// Fields: type (the qualified type of the objects held from C), references (the references
// nobody in the heap accounts for, of all of them), function (for bound methods and
// functions: what runs; else empty). Details: what the first object holds that matters.
#include <map>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/analyze/paths.h"

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

struct ExternalGroup {
  detect::FindingGroup group;
  uint64_t best = 0;  // what the first example retains
};

// Objects held from C where C is the whole explanation: roots of their own (not reached from
// a root of the program's), and not a class's own structure.
bool HeldOnlyFromC(const Analysis& a, size_t r) {
  const Snapshot& s = a.snapshot();
  const SnapshotRoot& root = s.roots[r];
  if (root.kind != RootKind::kExternal) return false;
  const uint32_t v = root.node.value();
  if (a.root_of_node[v] != static_cast<int32_t>(r) || a.parent_edge[v] != Analysis::kIsRoot) {
    return false;
  }
  // Classes are held from C as a matter of course (static types, extension module state).
  if (detect::EdgeTo(s, root.node, LabelKind::kField, "__mro__") >= 0) return false;
  return !IsClassStructure(s, v);
}

// Says what the objects are: a bound method by its function and what it is bound to.
std::string WhatTheyAre(const Snapshot& s, Finding* f) {
  const NodeIndex first = f->examples.front();
  const int64_t func = detect::EdgeTo(s, first, LabelKind::kField, "__func__");
  const int64_t self = detect::EdgeTo(s, first, LabelKind::kField, "__self__");
  if (f->type == "method" && func >= 0 && self >= 0) {
    f->function = detect::QualifiedName(s, NodeIndex(static_cast<uint32_t>(func)));
    return FormatCount(f->count) + (f->count == 1 ? " bound method " : " bound methods ") +
           f->function + " (of " + s.TypeQualname(NodeIndex(static_cast<uint32_t>(self))) +
           (f->count == 1 ? ")" : " objects)");
  }
  if (f->type == "function") {
    f->function = detect::QualifiedName(s, first);
    return FormatCount(f->count) + (f->count == 1 ? " function " : " functions, such as ") +
           f->function;
  }
  return FormatCount(f->count) + " " + f->type + (f->count == 1 ? "" : " objects");
}

class ExternalDetector : public Detector {
 public:
  const char* name() const override { return "external"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("type", f.type), KindField::Number("references", f.references),
            KindField::Text("function", f.function)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    std::map<std::string, ExternalGroup> groups;  // by type
    for (size_t r = s.captured_roots; r < s.roots.size(); ++r) {
      if (!HeldOnlyFromC(a, r)) continue;
      const SnapshotRoot& root = s.roots[r];
      const uint32_t v = root.node.value();
      const std::string& type = s.TypeQualname(root.node);
      ExternalGroup& g = groups[type];
      if (g.group.empty()) g.group.finding.type = type;
      const bool largest = a.retained[v] > g.best || g.group.empty();
      if (largest) g.best = a.retained[v];
      // Each is its own dominator subtree under the roots: their bytes add up.
      g.group.AddInstance(
          root.node, a.retained[v], a.retained_count[v],
          largest ? detect::FindingGroup::Example::kFirst : detect::FindingGroup::Example::kLast);
      g.group.AddMember(root.node);
      g.group.finding.references += root.count;
    }
    for (auto& [type, g] : groups) {
      if (g.group.finding.retained_bytes < input.thresholds.share_bytes) continue;
      findings->push_back(Describe(input, g.group.Take(a)));
    }
  }

 private:
  static Finding Describe(const DetectorInput& input, Finding f) {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    const uint32_t v = f.examples.front().value();
    f.path_text = RootText(a, a.root_of_node[v], f.examples.front(), /*address=*/true);
    f.path.push_back(f.path_text);
    const std::string share = detect::Percent(f.retained_bytes, input.thresholds.live_bytes);
    const std::string what = WhatTheyAre(s, &f);
    f.title = "held from C code or an extension: " + FormatCount(f.references) +
              (f.references == 1 ? " reference" : " references") +
              " nobody in the heap accounts for keep" + (f.references == 1 ? "s " : " ") + what +
              " and " + FormatBytes(f.retained_bytes) + " alive (" + share + " of the live heap)";
    // What the first object holds directly, by label: a bound method's __self__, say.
    for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1] && f.details.size() < 5; ++e) {
      const uint32_t t = s.edge_target[e];
      if (a.idom[t] != v || a.retained[t] * 10 < a.retained[v]) continue;
      f.details.push_back("it holds " + CutLabel(s.EdgeLabel(e)) + " -> " +
                          s.TypeQualname(NodeIndex(t)) + ", " + FormatBytes(a.retained[t]));
    }
    f.fix = FixFor(f.type);
    return f;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeExternalDetector() { return std::make_unique<ExternalDetector>(); }

}  // namespace heapsnap

// Rendering retainer paths as a person reads them:
//
//   sys.modules['shop'].REGISTRY['users']['ada'].orders[7]
//
// Collapses `.__dict__` followed by an identifier key into `.name` (instance, module and class
// namespaces), `.__closure__<closure x>.cell_contents` into `.<closure x>`, and
// `.__defaults__<default p=>` into `.<default p=>`. Frame roots read `thread 'T' f (file:line)`
// followed by `: local` for the local variable. Labels that do not begin with `.` or a bracket
// get a `.` of their own (`.summary.<tp_traverse#1>`): two labels are never glued together.
// Labels are cut to kMaxLabelBytes when shown (a snapshot may hold a 1 MiB attribute name), and
// a step repeated kMinRepeat or more times in a row reads once with its count:
// `.head.next{99998}`.
//
//   RetainerPath p = analysis.PathTo(node);
//   RenderedPath r = RenderPath(analysis, p);
//   std::cout << r.text;   // or r.root / r.steps for JSON
//
// Every rule is in LastStep(): RenderPath and PathShapes (path_shapes.h) both read steps
// through it, one object at a time, from the target up. Cost: O(path length) per path.
#ifndef HEAPSNAP_ANALYZE_PATHS_H_
#define HEAPSNAP_ANALYZE_PATHS_H_

#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"

namespace heapsnap {

inline constexpr size_t kMaxLabelBytes = 120;
inline constexpr size_t kMinRepeat = 4;

struct RenderedStep {
  std::string label;  // after collapsing, e.g. ".REGISTRY"
  NodeIndex node;     // the object this step leads to
};

struct RenderedPath {
  std::string root;  // "sys.modules", "thread 'MainThread' main (app.py:3)", ...
  std::vector<RenderedStep> steps;
  std::string text;  // root + labels, repeated steps counted
};

RenderedPath RenderPath(const Analysis& analysis, const RetainerPath& path);

// What stands for the path of an object that has none: garbage, or reached from no root.
constexpr char kGarbagePathText[] = "<unreachable garbage>";
constexpr char kNoPathText[] = "<no path>";

// The path of `path`'s object as one line: its text, or kGarbagePathText / kNoPathText.
std::string PathText(const Analysis& analysis, const RetainerPath& path);

// How the last step of `node`'s retainer path reads. `base` is the object whose path this step
// extends: the referrer, or the referrer's referrer when two references read as one step
// (`.__dict__['x']` reads `.x`). An empty label means the step adds nothing of its own
// (`.cell_contents` right after `.<closure x>`). Only for objects with a parent edge (not roots,
// not garbage).
struct StepText {
  uint32_t base = 0;
  std::string label;
  LabelKind kind = LabelKind::kNone;  // the label kind of the reference into `node`
  bool name = false;                  // an identifier key read as `.name` (a namespace)
};
StepText LastStep(const Analysis& analysis, NodeIndex node);

// The step into `node` read from `module` (`.name`), when `node`'s referrer is module's namespace
// dict and the edge's key is an identifier; else a step with an empty label.
StepText NamespaceStep(const Analysis& analysis, NodeIndex node, uint32_t module);

// How a root reads. With `address` false, roots that are single objects (held from outside the
// graph, immortal, frozen, unexplained) read without their address, so that the roots of many
// objects of one kind read alike: `<dict held from C code or an extension>`; a running frame
// reads without the line it is at.
std::string RootText(const Analysis& analysis, int root, NodeIndex start, bool address);

// `label` cut to at most kMaxLabelBytes (never inside a UTF-8 character), "..." marking a cut.
std::string CutLabel(const std::string& label);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_PATHS_H_

// Rendering retainer paths as a person reads them:
//
//   sys.modules['shop'].REGISTRY['users']['ada'].orders[7]
//
// Collapses `.__dict__` followed by an identifier key into `.name` (instance, module and class
// namespaces), `.__closure__<closure x>.cell_contents` into `.<closure x>`, and
// `.__defaults__<default p=>` into `.<default p=>`. Frame roots read `thread 'T' f (file:line)`
// followed by `: local` for the local variable.
//
//   RetainerPath p = analysis.PathTo(node);
//   RenderedPath r = RenderPath(analysis, p);
//   std::cout << r.text;   // or r.root / r.steps for JSON
#ifndef HEAPSNAP_ANALYZE_PATHS_H_
#define HEAPSNAP_ANALYZE_PATHS_H_

#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"

namespace heapsnap {

struct RenderedStep {
  std::string label;  // after collapsing, e.g. ".REGISTRY"
  NodeIndex node;     // the object this step leads to
};

struct RenderedPath {
  std::string root;  // "sys.modules", "thread 'MainThread' main (app.py:3)", ...
  std::vector<RenderedStep> steps;
  std::string text;  // root + labels
};

RenderedPath RenderPath(const Analysis& analysis, const RetainerPath& path);

// The path's shape: text with list indices and int keys replaced by [*], for grouping the
// paths of many instances ("[*]" paths of 10,000 orders are one way they are held).
std::string PathShape(const RenderedPath& path);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_PATHS_H_

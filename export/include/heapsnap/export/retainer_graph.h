// Retainer graphs: why a few objects are alive, as a picture. The targets, their retainers back
// to the roots along the shortest retainer paths (analysis.h's parent edges, read as paths.h
// reads them), a few alternative retaining paths, large fan-ins folded into one node, roots
// drawn as roots. objgraph's show_backrefs, from a snapshot.
//
//   StatusOr<RetainerGraph> g = BuildRetainerGraph(analysis, {node}, RetainerGraphOptions{});
//   if (!g.ok()) return g.status();
//   std::string dot = RetainerGraphDot(*g);   // feed to `dot -Tsvg`
//
// Edges point the way references do, from the retainer to what it retains (a root at the top,
// the targets at the bottom). Steps that paths.h reads as one (`.__dict__['x']` is `.x`,
// `.__closure__[0].cell_contents` is `.<closure x>`) are one edge here too, so the namespace
// dict or cell between them is not drawn. Only retaining references (Retains() in snapshot.h:
// TRAVERSE and STRONG) are drawn.
//
// Bounds, whatever the heap's shape: one walk up the shortest-path tree per target, stopping at
// objects already drawn (O(depth), each object walked once); a path longer than
// 2 * keep_path_ends objects keeps that many at each end and folds the middle into one node
// ("99,990 more Node"); the alternatives and fan-ins read one index of referrers built for the
// drawn objects only (one O(n + m) pass), try a bounded number of referrers, and walk a bounded
// number of steps each; max_nodes caps the picture (`truncated` says something was left out).
#ifndef HEAPSNAP_EXPORT_RETAINER_GRAPH_H_
#define HEAPSNAP_EXPORT_RETAINER_GRAPH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/base/status.h"

namespace heapsnap {

struct RetainerGraphOptions {
  uint32_t paths = 3;              // the shortest path and up to paths-1 alternatives per target
  uint32_t fold_fan_in_above = 8;  // more referrers of one type than this fold into one node
  uint32_t max_nodes = 150;        // nodes in the picture, folded nodes included
  uint32_t keep_path_ends = 6;     // objects kept at each end of a longer path
};

struct GraphNode {
  uint32_t object = 0;     // NodeIndex value; for synthetic nodes kSyntheticObject
  bool synthetic = false;  // a folded group, the garbage pseudo-root, ...
  uint64_t address = 0;    // id() of the object; 0 for synthetic nodes
  std::string type;        // qualified type name ("app.Node", "dict"); for folded nodes theirs
  std::string value;       // short preview: a str's text, a function's name, "len 3"; may be ""
  uint64_t retained_bytes = 0;
  bool target = false;  // one of the objects the graph was asked for
  std::string root;     // how the root reads when the object is one ("sys.modules"), else ""
  uint64_t folded = 0;  // objects this node stands for when it folds many ("2,000 more function")

  static constexpr uint32_t kSyntheticObject = UINT32_MAX;
};

struct GraphEdge {
  uint32_t from = 0;  // index into RetainerGraph::nodes: the retainer
  uint32_t to = 0;    // index into RetainerGraph::nodes: what it retains
  std::string label;  // as paths read: ".attr", "['key']", "[3]", ".<closure x>"; "" for none
  EdgeKind kind = EdgeKind::kTraverse;
  bool alternative = false;  // not on a target's shortest path
};

struct RetainerGraph {
  std::vector<GraphNode> nodes;  // targets first, in the order asked
  std::vector<GraphEdge> edges;
  bool truncated = false;  // max_nodes left something out
};

// The retainer graph of `targets` (at least one; each an object of the analysed snapshot).
// Unreachable garbage hangs under a synthetic "<unreachable garbage>" root and shows the
// garbage that references it. Errors: no targets, a target out of range, options that make no
// picture (paths or max_nodes 0).
StatusOr<RetainerGraph> BuildRetainerGraph(const Analysis& analysis,
                                           const std::vector<NodeIndex>& targets,
                                           const RetainerGraphOptions& options = {});

// Graphviz DOT text for the graph. Every label from the snapshot is escaped for DOT's quoted
// strings (quotes, backslashes, newlines and other control characters, bytes that are not
// UTF-8), so what a program stored can never change the picture's syntax.
std::string RetainerGraphDot(const RetainerGraph& graph);

}  // namespace heapsnap

#endif  // HEAPSNAP_EXPORT_RETAINER_GRAPH_H_

// Dominator tree of a directed graph given in CSR form, by the Lengauer-Tarjan algorithm.
//
//   std::vector<uint32_t> idom = ComputeDominators(graph, root);
//   // idom[v] == v's immediate dominator; idom[root] == root; kUnreachable if no path.
//
// Inputs: a graph of n vertices as successor and predecessor lists (CSR: the successors of v are
// succ_target[succ_begin[v] .. succ_begin[v + 1])), and a root. The caller decides which edges
// count: pass only edges that retain (heapsnap leaves out weak and borrowed references); self
// edges are harmless. Vertices not reachable from the root get kUnreachable.
//
// Algorithm: Lengauer & Tarjan, "A fast algorithm for finding dominators in a flowgraph"
// (TOPLAS 1(1), 1979), with simple path compression: semidominators in reverse DFS preorder,
// immediate dominators from the semidominator buckets, resolved in one preorder pass. This is
// what Chrome DevTools and memlab use. Semi-NCA (Georgiadis, Tarjan, Werneck, JGAA 10(1),
// 2006), used here before, finds the dominators as nearest common ancestors by walking up the
// tree built so far, which is O(n^2) on deep DFS trees whose vertices have a second referrer
// (a 100k-node linked list whose nodes' payloads a list also holds: 9 s), and heaps have
// such trees. Everything is iterative over flat arrays: no recursion (a 10M-vertex chain is
// fine) and about 28 bytes per vertex beyond the graph, where Boost's
// lengauer_tarjan_dominator_tree recurses and needs ~1 KB.
// Time O(m log n) in the worst case, whatever the graph's shape.
#ifndef HEAPSNAP_ANALYZE_DOMINATORS_H_
#define HEAPSNAP_ANALYZE_DOMINATORS_H_

#include <cstdint>
#include <vector>

namespace heapsnap {

inline constexpr uint32_t kUnreachable = UINT32_MAX;

struct CsrGraph {
  uint32_t vertices = 0;
  // Successors of vertices [0, csr_vertices): succ_target[succ_begin[v] .. succ_begin[v + 1]),
  // keeping only edges whose succ_kind has its bit in kind_mask when succ_kind is given (so a
  // caller can use its own edge arrays, weak edges and all, without copying them).
  uint32_t csr_vertices = 0;
  const uint64_t* succ_begin = nullptr;  // csr_vertices + 1
  const uint32_t* succ_target = nullptr;
  const uint8_t* succ_kind = nullptr;
  uint32_t kind_mask = ~0u;
  // Successors of the remaining vertices [csr_vertices, vertices) (pseudo-vertices such as a
  // super-root): extra_target[extra_begin[v - csr_vertices] .. extra_begin[v - csr_vertices + 1]).
  const uint64_t* extra_begin = nullptr;
  const uint32_t* extra_target = nullptr;
  // Predecessors of every vertex, already filtered.
  const uint64_t* pred_begin = nullptr;  // vertices + 1
  const uint32_t* pred_source = nullptr;
  // One more predecessor per vertex, kept apart so that pseudo-edges need no copy of the
  // predecessor arrays: extra_pred_vertex[extra_pred[v] - 1] when extra_pred[v] != 0.
  const uint8_t* extra_pred = nullptr;
  const uint32_t* extra_pred_vertex = nullptr;
};

// How much work a computation did, for tests of the complexity bound (no timing needed).
struct DominatorWork {
  uint64_t edges = 0;          // predecessor and successor edges looked at
  uint64_t forest_steps = 0;   // steps up the forest in eval, path compression included
  uint64_t bucket_visits = 0;  // vertices taken out of buckets
};

// Returns idom per vertex. Also fills `preorder` (vertices reachable from root, in DFS preorder)
// when given: processing it backwards visits every vertex before its dominator.
std::vector<uint32_t> ComputeDominators(const CsrGraph& graph, uint32_t root,
                                        std::vector<uint32_t>* preorder = nullptr,
                                        DominatorWork* work = nullptr);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_DOMINATORS_H_

#include "heapsnap/analyze/dominators.h"

#include <cstddef>
#include <utility>

namespace heapsnap {

std::vector<uint32_t> ComputeDominators(const CsrGraph& g, uint32_t root,
                                        std::vector<uint32_t>* preorder_out) {
  const uint32_t n = g.vertices;
  // dfn[v]: preorder number + 1 (0 = not reached). vertex[i]: vertex with number i.
  std::vector<uint32_t> dfn(n, 0);
  std::vector<uint32_t> vertex;
  vertex.reserve(n);
  std::vector<uint32_t> parent;  // by preorder number: preorder number of the DFS parent
  parent.reserve(n);

  // Iterative DFS: the stack holds (vertex, next edge to look at).
  {
    std::vector<std::pair<uint32_t, uint64_t>> stack;
    dfn[root] = 1;
    vertex.push_back(root);
    parent.push_back(0);
    stack.emplace_back(root, g.succ_begin[root]);
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next == g.succ_begin[v + 1]) {
        stack.pop_back();
        continue;
      }
      const uint32_t w = g.succ_target[next++];
      if (dfn[w] != 0) continue;
      dfn[w] = static_cast<uint32_t>(vertex.size()) + 1;
      parent.push_back(dfn[v] - 1);
      vertex.push_back(w);
      stack.emplace_back(w, g.succ_begin[w]);
    }
  }
  const auto count = static_cast<uint32_t>(vertex.size());

  // Semidominators, by preorder number. semi[i] starts as i; ancestor links the processed
  // forest; label[i] is the vertex of minimum semi on the compressed path.
  std::vector<uint32_t> semi(count);
  std::vector<uint32_t> ancestor(count, UINT32_MAX);
  std::vector<uint32_t> label(count);
  for (uint32_t i = 0; i < count; ++i) {
    semi[i] = i;
    label[i] = i;
  }
  std::vector<uint32_t> path;  // explicit stack for path compression
  auto eval = [&](uint32_t v) -> uint32_t {
    if (ancestor[v] == UINT32_MAX) return v;
    // Collect the path up to the root of v's tree in the forest, then compress it top-down.
    path.clear();
    uint32_t u = v;
    while (ancestor[ancestor[u]] != UINT32_MAX) {
      path.push_back(u);
      u = ancestor[u];
    }
    for (size_t k = path.size(); k-- > 0;) {
      const uint32_t x = path[k];
      const uint32_t a = ancestor[x];
      if (semi[label[a]] < semi[label[x]]) label[x] = label[a];
      ancestor[x] = ancestor[a];
    }
    return label[v];
  };
  for (uint32_t i = count; i-- > 1;) {
    const uint32_t w = vertex[i];
    uint32_t s = parent[i];
    for (uint64_t e = g.pred_begin[w]; e < g.pred_begin[w + 1]; ++e) {
      const uint32_t d = dfn[g.pred_source[e]];
      if (d == 0) continue;  // predecessor not reachable from the root
      const uint32_t v = d - 1;
      const uint32_t candidate = v <= i ? v : semi[eval(v)];
      if (candidate < s) s = candidate;
    }
    semi[i] = s;
    ancestor[i] = parent[i];  // link
  }

  // Immediate dominators: NCA of the parent and the semidominator in the tree built so far.
  std::vector<uint32_t> idom_pre(count, 0);
  for (uint32_t i = 1; i < count; ++i) {
    uint32_t d = parent[i];
    while (d > semi[i]) d = idom_pre[d];
    idom_pre[i] = d;
  }

  std::vector<uint32_t> idom(n, kUnreachable);
  idom[root] = root;
  for (uint32_t i = 1; i < count; ++i) idom[vertex[i]] = vertex[idom_pre[i]];
  if (preorder_out != nullptr) *preorder_out = std::move(vertex);
  return idom;
}

}  // namespace heapsnap

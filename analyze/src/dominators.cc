#include "heapsnap/analyze/dominators.h"

#include <cstddef>
#include <utility>

namespace heapsnap {

std::vector<uint32_t> ComputeDominators(const CsrGraph& g, uint32_t root,
                                        std::vector<uint32_t>* preorder_out, DominatorWork* work) {
  DominatorWork local_work;
  DominatorWork& counted = work != nullptr ? *work : local_work;
  const uint32_t n = g.vertices;
  // dfn[v]: preorder number + 1 (0 = not reached). vertex[i]: vertex with number i.
  std::vector<uint32_t> dfn(n, 0);
  std::vector<uint32_t> vertex;
  vertex.reserve(n);
  std::vector<uint32_t> parent;  // by preorder number: preorder number of the DFS parent
  parent.reserve(n);

  // Iterative DFS: the stack holds (vertex, next edge, end of its edges).
  {
    struct Frame {
      uint32_t v;
      uint64_t next;
      uint64_t end;
    };
    auto frame = [&](uint32_t v) -> Frame {
      if (v < g.csr_vertices) return {v, g.succ_begin[v], g.succ_begin[v + 1]};
      const uint32_t x = v - g.csr_vertices;
      return {v, g.extra_begin[x], g.extra_begin[x + 1]};
    };
    std::vector<Frame> stack;
    dfn[root] = 1;
    vertex.push_back(root);
    parent.push_back(0);
    stack.push_back(frame(root));
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next == f.end) {
        stack.pop_back();
        continue;
      }
      uint32_t w;
      if (f.v < g.csr_vertices) {
        const uint64_t e = f.next++;
        if (g.succ_kind != nullptr && !((g.kind_mask >> g.succ_kind[e]) & 1)) continue;
        w = g.succ_target[e];
      } else {
        w = g.extra_target[f.next++];
      }
      if (dfn[w] != 0) continue;
      dfn[w] = static_cast<uint32_t>(vertex.size()) + 1;
      parent.push_back(dfn[f.v] - 1);
      vertex.push_back(w);
      stack.push_back(frame(w));
    }
  }
  const auto count = static_cast<uint32_t>(vertex.size());

  // Semidominators, by preorder number. The fields eval() touches together live together:
  // one cache line per vertex instead of three random ones.
  struct Info {
    uint32_t semi;
    uint32_t label;     // vertex of minimum semi on the compressed path
    uint32_t ancestor;  // in the forest of processed vertices; UINT32_MAX for a tree root
    uint32_t parent;    // DFS parent, later the immediate dominator
  };
  std::vector<Info> info(count);
  for (uint32_t i = 0; i < count; ++i) info[i] = {i, i, UINT32_MAX, parent[i]};
  std::vector<uint32_t>().swap(parent);
  std::vector<uint32_t> path;  // explicit stack for path compression
  auto eval = [&](uint32_t v) -> uint32_t {
    if (info[v].ancestor == UINT32_MAX) return v;
    // Collect the path up to the root of v's tree in the forest, then compress it top-down.
    path.clear();
    uint32_t u = v;
    while (info[info[u].ancestor].ancestor != UINT32_MAX) {
      ++counted.forest_steps;
      path.push_back(u);
      u = info[u].ancestor;
    }
    for (size_t k = path.size(); k-- > 0;) {
      Info& x = info[path[k]];
      const Info& a = info[x.ancestor];
      if (info[a.label].semi < info[x.label].semi) x.label = a.label;
      x.ancestor = a.ancestor;
    }
    return info[v].label;
  };
  // Immediate dominators by Lengauer & Tarjan's buckets: a vertex waits in the bucket of its
  // semidominator until that vertex's DFS child is linked, then gets its dominator or a
  // vertex with the same dominator (relative), resolved in preorder at the end. Semi-NCA's
  // NCA step (walking up the partial dominator tree) is quadratic on the deep DFS trees of
  // heaps (a 100k linked list whose nodes hold payloads listed elsewhere too); this is not.
  std::vector<uint32_t> idom_pre(count, 0);
  std::vector<uint32_t> bucket_head(count, UINT32_MAX);  // by preorder number
  std::vector<uint32_t> bucket_next(count, UINT32_MAX);
  for (uint32_t i = count; i-- > 1;) {
    const uint32_t w = vertex[i];
    const uint32_t p = info[i].parent;
    uint32_t s = p;
    const uint32_t extra = g.extra_pred != nullptr && g.extra_pred[w] != 0
                               ? g.extra_pred_vertex[g.extra_pred[w] - 1]
                               : UINT32_MAX;
    // Most heap objects have one referrer, which must then be the DFS parent: nothing to do.
    if (g.pred_begin[w + 1] - g.pred_begin[w] + (extra != UINT32_MAX) != 1) {
      auto consider = [&](uint32_t pred) {
        const uint32_t d = dfn[pred];
        if (d == 0) return;  // predecessor not reachable from the root
        const uint32_t v = d - 1;
        const uint32_t candidate = v <= i ? v : info[eval(v)].semi;
        if (candidate < s) s = candidate;
      };
      counted.edges += g.pred_begin[w + 1] - g.pred_begin[w];
      for (uint64_t e = g.pred_begin[w]; e < g.pred_begin[w + 1]; ++e) consider(g.pred_source[e]);
      if (extra != UINT32_MAX) consider(extra);
    }
    info[i].semi = s;
    if (s == p) {
      idom_pre[i] = p;  // the semidominator is the parent: it is also the dominator
    } else {
      bucket_next[i] = bucket_head[s];
      bucket_head[s] = i;
    }
    info[i].ancestor = p;  // link
    for (uint32_t v = bucket_head[p]; v != UINT32_MAX; v = bucket_next[v]) {
      ++counted.bucket_visits;
      const uint32_t u = eval(v);
      idom_pre[v] = info[u].semi < info[v].semi ? u : p;
    }
    bucket_head[p] = UINT32_MAX;
  }
  std::vector<uint32_t>().swap(bucket_head);
  std::vector<uint32_t>().swap(bucket_next);
  for (uint32_t i = 1; i < count; ++i) {
    if (idom_pre[i] != info[i].semi) idom_pre[i] = idom_pre[idom_pre[i]];
  }

  std::vector<uint32_t> idom(n, kUnreachable);
  idom[root] = root;
  for (uint32_t i = 1; i < count; ++i) idom[vertex[i]] = vertex[idom_pre[i]];
  if (preorder_out != nullptr) *preorder_out = std::move(vertex);
  return idom;
}

}  // namespace heapsnap

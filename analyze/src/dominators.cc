#include "heapsnap/analyze/dominators.h"

#include <cstddef>
#include <utility>

namespace heapsnap {
namespace {

// Lengauer & Tarjan's algorithm, its steps named as in the paper (and as Perfetto's
// dominator_tree.cc names them): RunDfs is step 1; ComputeSemidominators steps 2 and 3 (the
// semidominators, and each vertex's dominator or a relative with the same dominator, by
// buckets); ResolveDominators step 4. Vertices are handled by preorder number from step 1 on.
class LengauerTarjan {
 public:
  LengauerTarjan(const CsrGraph& g, DominatorWork* work) : g_(g), work_(*work) {}

  // Step 1: an iterative depth-first search from root numbers the reachable vertices in
  // preorder. dfn_[v] is v's number + 1 (0 = not reached); vertex_[i] is the vertex numbered i.
  void RunDfs(uint32_t root) {
    dfn_.assign(g_.vertices, 0);
    vertex_.reserve(g_.vertices);
    std::vector<uint32_t> parent;  // by preorder number: the DFS parent's number
    parent.reserve(g_.vertices);
    std::vector<Frame> stack;
    dfn_[root] = 1;
    vertex_.push_back(root);
    parent.push_back(0);
    stack.push_back(FrameOf(root));
    while (!stack.empty()) {
      Frame& f = stack.back();
      if (f.next == f.end) {
        stack.pop_back();
        continue;
      }
      uint32_t w;
      if (f.v < g_.csr_vertices) {
        const uint64_t e = f.next++;
        if (g_.succ_kind != nullptr && !((g_.kind_mask >> g_.succ_kind[e]) & 1)) continue;
        w = g_.succ_target[e];
      } else {
        w = g_.extra_target[f.next++];
      }
      if (dfn_[w] != 0) continue;
      dfn_[w] = static_cast<uint32_t>(vertex_.size()) + 1;
      parent.push_back(dfn_[f.v] - 1);
      vertex_.push_back(w);
      stack.push_back(FrameOf(w));
    }
    const auto count = static_cast<uint32_t>(vertex_.size());
    info_.resize(count);
    for (uint32_t i = 0; i < count; ++i) info_[i] = {i, i, kNoAncestor, parent[i]};
  }

  // Steps 2 and 3, in reverse preorder. A vertex waits in the bucket of its semidominator until
  // that vertex's DFS child is linked, then gets its dominator or a vertex with the same
  // dominator (relative), resolved in step 4. Semi-NCA's NCA step (walking up the partial
  // dominator tree) is quadratic on the deep DFS trees of heaps (a 100k linked list whose nodes
  // hold payloads listed elsewhere too); this is not.
  void ComputeSemidominators() {
    const auto count = static_cast<uint32_t>(vertex_.size());
    idom_pre_.assign(count, 0);
    std::vector<uint32_t> bucket_head(count, kNone);  // by preorder number
    std::vector<uint32_t> bucket_next(count, kNone);
    for (uint32_t i = count; i-- > 1;) {
      const uint32_t p = info_[i].parent;
      const uint32_t s = Semidominator(i);
      info_[i].semi = s;
      if (s == p) {
        idom_pre_[i] = p;  // the semidominator is the parent: it is also the dominator
      } else {
        bucket_next[i] = bucket_head[s];
        bucket_head[s] = i;
      }
      info_[i].ancestor = p;  // link
      for (uint32_t v = bucket_head[p]; v != kNone; v = bucket_next[v]) {
        ++work_.bucket_visits;
        const uint32_t u = Eval(v);
        idom_pre_[v] = info_[u].semi < info_[v].semi ? u : p;
      }
      bucket_head[p] = kNone;
    }
  }

  // Step 4: relatives become dominators, in preorder; then back to vertex ids.
  std::vector<uint32_t> ResolveDominators(uint32_t root) {
    const auto count = static_cast<uint32_t>(vertex_.size());
    for (uint32_t i = 1; i < count; ++i) {
      if (idom_pre_[i] != info_[i].semi) idom_pre_[i] = idom_pre_[idom_pre_[i]];
    }
    std::vector<uint32_t> idom(g_.vertices, kUnreachable);
    idom[root] = root;
    for (uint32_t i = 1; i < count; ++i) idom[vertex_[i]] = vertex_[idom_pre_[i]];
    return idom;
  }

  std::vector<uint32_t> TakePreorder() { return std::move(vertex_); }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kNoAncestor = UINT32_MAX;  // a tree root of the forest

  struct Frame {
    uint32_t v;
    uint64_t next;  // next successor edge
    uint64_t end;
  };
  // The fields Eval touches together live together: one cache line per vertex, not three.
  struct Info {
    uint32_t semi;
    uint32_t label;     // vertex of minimum semi on the compressed path
    uint32_t ancestor;  // in the forest of processed vertices
    uint32_t parent;    // DFS parent
  };

  Frame FrameOf(uint32_t v) const {
    if (v < g_.csr_vertices) return {v, g_.succ_begin[v], g_.succ_begin[v + 1]};
    const uint32_t x = v - g_.csr_vertices;
    return {v, g_.extra_begin[x], g_.extra_begin[x + 1]};
  }

  // The semidominator of the vertex numbered i: the smallest number among its predecessors
  // that come before it, and the semidominators Eval finds above those that come after.
  uint32_t Semidominator(uint32_t i) {
    const uint32_t w = vertex_[i];
    uint32_t s = info_[i].parent;
    const uint32_t extra = g_.extra_pred != nullptr && g_.extra_pred[w] != 0
                               ? g_.extra_pred_vertex[g_.extra_pred[w] - 1]
                               : kNone;
    // Most heap objects have one referrer, which must then be the DFS parent: nothing to do.
    if (g_.pred_begin[w + 1] - g_.pred_begin[w] + (extra != kNone) == 1) return s;
    auto consider = [&](uint32_t pred) {
      const uint32_t d = dfn_[pred];
      if (d == 0) return;  // predecessor not reachable from the root
      const uint32_t v = d - 1;
      const uint32_t candidate = v <= i ? v : info_[Eval(v)].semi;
      if (candidate < s) s = candidate;
    };
    work_.edges += g_.pred_begin[w + 1] - g_.pred_begin[w];
    for (uint64_t e = g_.pred_begin[w]; e < g_.pred_begin[w + 1]; ++e) consider(g_.pred_source[e]);
    if (extra != kNone) consider(extra);
    return s;
  }

  // The vertex of minimum semidominator on the forest path above v, compressing the path
  // (top-down, with an explicit stack: heap paths are too deep for recursion).
  uint32_t Eval(uint32_t v) {
    if (info_[v].ancestor == kNoAncestor) return v;
    path_.clear();
    uint32_t u = v;
    while (info_[info_[u].ancestor].ancestor != kNoAncestor) {
      ++work_.forest_steps;
      path_.push_back(u);
      u = info_[u].ancestor;
    }
    for (size_t k = path_.size(); k-- > 0;) {
      Info& x = info_[path_[k]];
      const Info& a = info_[x.ancestor];
      if (info_[a.label].semi < info_[x.label].semi) x.label = a.label;
      x.ancestor = a.ancestor;
    }
    return info_[v].label;
  }

  const CsrGraph& g_;
  DominatorWork& work_;
  std::vector<uint32_t> dfn_;
  std::vector<uint32_t> vertex_;
  std::vector<Info> info_;
  std::vector<uint32_t> idom_pre_;  // by preorder number
  std::vector<uint32_t> path_;
};

}  // namespace

std::vector<uint32_t> ComputeDominators(const CsrGraph& g, uint32_t root,
                                        std::vector<uint32_t>* preorder_out, DominatorWork* work) {
  DominatorWork local_work;
  LengauerTarjan lt(g, work != nullptr ? work : &local_work);
  lt.RunDfs(root);
  lt.ComputeSemidominators();
  std::vector<uint32_t> idom = lt.ResolveDominators(root);
  if (preorder_out != nullptr) *preorder_out = lt.TakePreorder();
  return idom;
}

}  // namespace heapsnap

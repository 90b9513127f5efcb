#include "heapsnap/analyze/analysis.h"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <deque>
#include <future>
#include <unordered_map>

#include "heapsnap/analyze/dominators.h"
#include "heapsnap/base/huge_pages.h"

namespace heapsnap {

CollectorResult ReproduceCollector(const Snapshot& s) {
  const auto n = static_cast<uint32_t>(s.object_count());
  CollectorResult r;
  r.unreachable.assign(n, 0);
  constexpr uint32_t kExcluded =
      object_flags::kFrozen | object_flags::kImmortal | object_flags::kSynthetic;
  std::vector<uint8_t> candidate(n, 0);
  std::vector<int64_t> gc_refs(n, 0);
  for (uint32_t i = 0; i < n; ++i) {
    if ((s.flags[i] & object_flags::kGcTracked) && !(s.flags[i] & kExcluded)) {
      candidate[i] = 1;
      gc_refs[i] = static_cast<int64_t>(s.refcount[i]);
      ++r.candidates;
    }
  }
  // subtract_refs: one reference less for every tp_traverse edge between two candidates.
  for (uint32_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    for (uint64_t e = s.edge_begin[i]; e < s.edge_begin[i + 1]; ++e) {
      if (s.edge_kind[e] == EdgeKind::kTraverse && candidate[s.edge_target[e]]) {
        --gc_refs[s.edge_target[e]];
      }
    }
  }
  // move_unreachable: what candidates with outside references reach along tp_traverse survives.
  std::vector<uint8_t> reachable(n, 0);
  std::vector<uint32_t> stack;
  for (uint32_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    if (gc_refs[i] < 0) ++r.inconsistent_objects;
    if (gc_refs[i] > 0 && !reachable[i]) {
      reachable[i] = 1;
      stack.push_back(i);
      while (!stack.empty()) {
        uint32_t v = stack.back();
        stack.pop_back();
        for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
          uint32_t t = s.edge_target[e];
          if (s.edge_kind[e] == EdgeKind::kTraverse && candidate[t] && !reachable[t]) {
            reachable[t] = 1;
            stack.push_back(t);
          }
        }
      }
    }
  }
  for (uint32_t i = 0; i < n; ++i) {
    if (candidate[i] && !reachable[i]) {
      r.unreachable[i] = 1;
      ++r.unreachable_objects;
      r.unreachable_bytes += s.size[i];
    }
  }
  return r;
}

uint64_t Analysis::EdgeSource(uint64_t edge) const {
  const auto& begin = snapshot_->edge_begin;
  auto it = std::upper_bound(begin.begin(), begin.end(), edge);
  return static_cast<uint64_t>(it - begin.begin()) - 1;
}

RetainerPath Analysis::PathTo(NodeIndex node) const {
  RetainerPath path;
  uint32_t v = node.value();
  if (collector.unreachable[v]) path.garbage = true;
  if (parent_edge[v] == kNoParent) return path;
  while (parent_edge[v] != kIsRoot) {
    const uint64_t e = parent_edge[v];
    path.steps.push_back({e, NodeIndex(v)});
    v = static_cast<uint32_t>(EdgeSource(e));
  }
  std::reverse(path.steps.begin(), path.steps.end());
  path.found = true;
  path.start = NodeIndex(v);
  path.root = root_of_node[v];
  return path;
}

namespace {

// Garbage components with Boost.Graph: the retaining edges among unreachable objects, in a
// compressed_sparse_row_graph over local indices.
std::vector<uint32_t> GarbageComponents(const Snapshot& s, const std::vector<uint32_t>& members,
                                        const std::vector<uint32_t>& local, uint32_t* count) {
  using Graph = boost::compressed_sparse_row_graph<boost::directedS>;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  for (uint32_t li = 0; li < members.size(); ++li) {
    const uint32_t v = members[li];
    for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
      const uint32_t t = s.edge_target[e];
      if (Retains(s.edge_kind[e]) && local[t] != UINT32_MAX) edges.emplace_back(li, local[t]);
    }
  }
  std::sort(edges.begin(), edges.end());
  Graph g(boost::edges_are_sorted, edges.begin(), edges.end(), members.size());
  std::vector<uint32_t> component(members.size());
  *count = static_cast<uint32_t>(boost::strong_components(
      g, boost::make_iterator_property_map(component.begin(), boost::get(boost::vertex_index, g))));
  return component;
}

struct ObjectPredecessors {
  std::vector<uint64_t> begin;  // objects + 1
  std::vector<uint32_t> source;
};

// Reverse CSR of the retaining edges between objects (self-edges left out).
ObjectPredecessors BuildPredecessors(const Snapshot& s) {
  const auto n = static_cast<uint32_t>(s.object_count());
  ObjectPredecessors p;
  p.begin.assign(n + 3, 0);  // and the two pseudo-vertices, whose predecessors are extra
  for (uint32_t i = 0; i < n; ++i) {
    for (uint64_t e = s.edge_begin[i]; e < s.edge_begin[i + 1]; ++e) {
      if (Retains(s.edge_kind[e]) && s.edge_target[e] != i) ++p.begin[s.edge_target[e] + 1];
    }
  }
  for (uint32_t v = 0; v < n + 2; ++v) p.begin[v + 1] += p.begin[v];
  ReserveHuge(p.source, p.begin[n]);
  p.source.resize(p.begin[n]);
  std::vector<uint64_t> fill(p.begin.begin(), p.begin.end() - 1);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint64_t e = s.edge_begin[i]; e < s.edge_begin[i + 1]; ++e) {
      if (Retains(s.edge_kind[e]) && s.edge_target[e] != i) p.source[fill[s.edge_target[e]]++] = i;
    }
  }
  return p;
}

}  // namespace

Analysis Analyze(const Snapshot& s, const AnalysisOptions& options) {
  auto progress = [&](const char* phase, double f) {
    if (options.progress) options.progress(phase, f);
  };
  Analysis a;
  a.snapshot_ = &s;
  const auto n = static_cast<uint32_t>(s.object_count());
  const uint32_t R = n;
  const uint32_t G = n + 1;
  const uint32_t vertices = n + 2;

  // Predecessors along retaining edges, built on the second core while the collector, the
  // paths and the garbage components run here.
  std::future<ObjectPredecessors> pred_future =
      std::async(std::launch::async, [&s] { return BuildPredecessors(s); });

  progress("collector", 0);
  a.collector = ReproduceCollector(s);
  const std::vector<uint8_t>& garbage = a.collector.unreachable;

  // Roots by priority: 0 the capture's, 1 immortal and frozen, 2 held from outside.
  std::vector<std::vector<uint32_t>> levels(3);
  a.root_of_node.assign(n, -1);
  for (size_t r = 0; r < s.roots.size(); ++r) {
    const uint32_t v = s.roots[r].node.value();
    if (garbage[v] || a.root_of_node[v] >= 0) continue;
    const RootKind k = s.roots[r].kind;
    const int level = r < s.captured_roots ? 0 : (k == RootKind::kExternal ? 2 : 1);
    levels[level].push_back(v);
    a.root_of_node[v] = static_cast<int32_t>(r);
  }

  // Retainer paths: BFS level by level, so a path from sys.modules wins over one from C.
  progress("paths", 0.1);
  a.parent_edge.assign(n, Analysis::kNoParent);
  std::vector<uint32_t> queue;
  queue.reserve(n);
  auto bfs = [&](const std::vector<uint32_t>& sources) {
    size_t head = queue.size();
    for (uint32_t v : sources) {
      if (a.parent_edge[v] != Analysis::kNoParent) continue;
      a.parent_edge[v] = Analysis::kIsRoot;
      queue.push_back(v);
    }
    for (; head < queue.size(); ++head) {
      const uint32_t v = queue[head];
      for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
        const uint32_t t = s.edge_target[e];
        if (a.parent_edge[t] == Analysis::kNoParent && Retains(s.edge_kind[e]) && !garbage[t]) {
          a.parent_edge[t] = static_cast<uint32_t>(e);
          queue.push_back(t);
        }
      }
    }
  };
  for (const auto& level : levels) bfs(level);
  // Garbage and what only garbage holds are reached from the garbage entry points below;
  // anything else still unreached is unexplained and becomes a root of its own.
  std::vector<uint8_t> held_by_garbage(n, 0);

  // Garbage components.
  progress("garbage", 0.3);
  std::vector<uint32_t> garbage_members;
  std::vector<uint32_t> local(n, UINT32_MAX);
  for (uint32_t i = 0; i < n; ++i) {
    if (garbage[i]) {
      local[i] = static_cast<uint32_t>(garbage_members.size());
      garbage_members.push_back(i);
    }
  }
  std::vector<uint32_t> entries;  // G's successors
  std::vector<uint32_t> component;
  uint32_t components = 0;
  if (!garbage_members.empty()) {
    component = GarbageComponents(s, garbage_members, local, &components);
    std::vector<uint32_t> size(components, 0);
    std::vector<uint8_t> has_self_edge(components, 0);
    std::vector<uint8_t> entered(components, 0);  // another component points at it
    for (uint32_t li = 0; li < garbage_members.size(); ++li) {
      ++size[component[li]];
      const uint32_t v = garbage_members[li];
      for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
        const uint32_t t = s.edge_target[e];
        if (!Retains(s.edge_kind[e]) || local[t] == UINT32_MAX) continue;
        if (t == v) has_self_edge[component[li]] = 1;
        if (component[local[t]] != component[li]) entered[component[local[t]]] = 1;
      }
    }
    for (uint32_t c = 0; c < components; ++c) {
      if (size[c] > 1 || has_self_edge[c]) ++a.garbage_cycles;
    }
    std::vector<int32_t> group_of(components, -1);
    for (uint32_t li = 0; li < garbage_members.size(); ++li) {
      const uint32_t c = component[li];
      if (entered[c]) continue;
      if (group_of[c] < 0) {
        group_of[c] = static_cast<int32_t>(a.garbage_groups.size());
        a.garbage_groups.emplace_back();
        a.garbage_groups.back().cycle = size[c] > 1 || has_self_edge[c];
      }
      a.garbage_groups[static_cast<size_t>(group_of[c])].members.push_back(garbage_members[li]);
      entries.push_back(garbage_members[li]);
    }
  }
  // What the garbage holds (BFS from the entries over retaining edges, into objects no root
  // reached), and what nothing holds.
  {
    std::vector<uint32_t> stack(entries.begin(), entries.end());
    for (uint32_t v : entries) held_by_garbage[v] = 1;
    while (!stack.empty()) {
      const uint32_t v = stack.back();
      stack.pop_back();
      for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
        const uint32_t t = s.edge_target[e];
        if (Retains(s.edge_kind[e]) && !held_by_garbage[t] &&
            a.parent_edge[t] == Analysis::kNoParent) {
          held_by_garbage[t] = 1;
          stack.push_back(t);
        }
      }
    }
  }
  std::vector<uint32_t> unexplained;
  for (uint32_t i = 0; i < n; ++i) {
    if (a.parent_edge[i] == Analysis::kNoParent && !held_by_garbage[i]) unexplained.push_back(i);
  }
  a.unexplained_objects = unexplained.size();
  bfs(unexplained);

  // The retention graph: the snapshot's own edge arrays, filtered to retaining kinds, plus the
  // pseudo-vertices' successors (R -> roots, unexplained and G; G -> garbage entry points).
  // Predecessors in CSR: the objects' part was built on the second core meanwhile.
  progress("graph", 0.4);
  std::vector<uint64_t> extra_begin(3, 0);
  std::vector<uint32_t> extra_target;
  for (const auto& level : levels)
    extra_target.insert(extra_target.end(), level.begin(), level.end());
  extra_target.insert(extra_target.end(), unexplained.begin(), unexplained.end());
  extra_target.push_back(G);
  extra_begin[1] = extra_target.size();
  extra_target.insert(extra_target.end(), entries.begin(), entries.end());
  extra_begin[2] = extra_target.size();
  ObjectPredecessors preds = pred_future.get();
  // The pseudo-edges as one extra predecessor per vertex: R for roots and unexplained objects,
  // G for garbage entry points, R for G. No copy of the object predecessors is needed.
  std::vector<uint8_t> extra_pred(vertices, 0);
  const uint32_t pseudo[2] = {R, G};
  for (uint64_t e = extra_begin[0]; e < extra_begin[1]; ++e) extra_pred[extra_target[e]] = 1;
  for (uint64_t e = extra_begin[1]; e < extra_begin[2]; ++e) extra_pred[extra_target[e]] = 2;

  progress("dominators", 0.55);
  CsrGraph graph;
  graph.vertices = vertices;
  graph.csr_vertices = n;
  graph.succ_begin = s.edge_begin.data();
  graph.succ_target = s.edge_target.data();
  graph.succ_kind = reinterpret_cast<const uint8_t*>(s.edge_kind.data());
  graph.kind_mask = (1u << static_cast<uint32_t>(EdgeKind::kTraverse)) |
                    (1u << static_cast<uint32_t>(EdgeKind::kStrong));
  graph.extra_begin = extra_begin.data();
  graph.extra_target = extra_target.data();
  graph.pred_begin = preds.begin.data();
  graph.pred_source = preds.source.data();
  graph.extra_pred = extra_pred.data();
  graph.extra_pred_vertex = pseudo;
  std::vector<uint32_t> preorder;
  a.idom = ComputeDominators(graph, R, &preorder);
  preds = ObjectPredecessors();
  std::vector<uint8_t>().swap(extra_pred);

  progress("retained sizes", 0.8);
  a.retained.assign(vertices, 0);
  std::vector<uint32_t>& retained_count = a.retained_count;
  retained_count.assign(vertices, 0);
  for (uint32_t i = 0; i < n; ++i) {
    a.retained[i] = s.size[i];
    retained_count[i] = 1;
  }
  for (size_t k = preorder.size(); k-- > 1;) {
    const uint32_t v = preorder[k];
    a.retained[a.idom[v]] += a.retained[v];
    retained_count[a.idom[v]] += retained_count[v];
  }
  a.garbage_retained_bytes = a.retained[G];
  a.garbage_retained_objects = retained_count[G];
  for (GarbageGroup& g : a.garbage_groups) {
    for (uint32_t v : g.members) {
      g.self_bytes += s.size[v];
      g.retained_bytes += a.retained[v];
      g.retained_objects += retained_count[v];
    }
  }
  std::sort(a.garbage_groups.begin(), a.garbage_groups.end(),
            [](const GarbageGroup& x, const GarbageGroup& y) {
              return x.retained_bytes != y.retained_bytes ? x.retained_bytes > y.retained_bytes
                                                          : x.members < y.members;
            });

  // Retained size per type: walk the dominator tree keeping, per type, how many instances
  // are on the current path; an instance counts only when it is the topmost one.
  progress("types", 0.9);
  a.types.assign(s.types.size(), TypeRetained());
  for (size_t t = 0; t < s.types.size(); ++t) a.types[t].type = TypeId(static_cast<uint32_t>(t));
  for (uint32_t i = 0; i < n; ++i) {
    TypeRetained& t = a.types[s.type[i].value()];
    ++t.count;
    t.self_bytes += s.size[i];
  }
  {
    std::vector<uint64_t>& child_begin = a.dom_child_begin;
    child_begin.assign(vertices + 1, 0);
    for (uint32_t v : preorder) {
      if (v != R) ++child_begin[a.idom[v] + 1];
    }
    for (uint32_t v = 0; v < vertices; ++v) child_begin[v + 1] += child_begin[v];
    std::vector<uint32_t>& children = a.dom_children;
    children.assign(child_begin[vertices], 0);
    std::vector<uint64_t> fill(child_begin.begin(), child_begin.end() - 1);
    for (uint32_t v : preorder) {
      if (v != R) children[fill[a.idom[v]]++] = v;
    }
    std::vector<uint32_t> active(s.types.size(), 0);
    std::vector<std::pair<uint32_t, uint64_t>> stack;  // vertex, next child
    stack.emplace_back(R, child_begin[R]);
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next == child_begin[v + 1]) {
        if (v < n) --active[s.type[v].value()];
        stack.pop_back();
        continue;
      }
      const uint32_t c = children[next++];
      if (c < n) {
        const uint32_t t = s.type[c].value();
        if (active[t]++ == 0) a.types[t].retained_bytes += a.retained[c];
      }
      stack.emplace_back(c, child_begin[c]);
    }
  }
  progress("done", 1);
  return a;
}

}  // namespace heapsnap

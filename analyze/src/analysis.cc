#include "heapsnap/analyze/analysis.h"

#include <algorithm>
#include <array>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <future>

#include "heapsnap/analyze/dominators.h"
#include "heapsnap/base/huge_pages.h"

namespace heapsnap {

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
    v = parent[v];
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

// The objects to start retainer paths from, by priority: 0 the capture's roots, 1 immortal
// and frozen objects, 2 objects held from outside the graph. Garbage is never a root.
using RootLevels = std::array<std::vector<uint32_t>, 3>;

RootLevels RankRoots(const Snapshot& s, const std::vector<uint8_t>& garbage,
                     std::vector<int32_t>* root_of_node) {
  RootLevels levels;
  root_of_node->assign(s.object_count(), -1);
  for (size_t r = 0; r < s.roots.size(); ++r) {
    const uint32_t v = s.roots[r].node.value();
    if (garbage[v] || (*root_of_node)[v] >= 0) continue;
    const RootKind k = s.roots[r].kind;
    const int level = r < s.captured_roots ? 0 : (k == RootKind::kExternal ? 2 : 1);
    levels[static_cast<size_t>(level)].push_back(v);
    (*root_of_node)[v] = static_cast<int32_t>(r);
  }
  return levels;
}

// Retainer paths: a breadth-first search over retaining edges into live objects, one call per
// root level, so that a path from sys.modules wins over one from C code. Each object gets the
// edge it was first reached by.
class RetainerPathSearch {
 public:
  RetainerPathSearch(const Snapshot& s, const std::vector<uint8_t>& garbage,
                     std::vector<uint32_t>* parent_edge, std::vector<uint32_t>* parent)
      : s_(s), garbage_(garbage), parent_edge_(*parent_edge), parent_(*parent) {
    parent_edge_.assign(s.object_count(), Analysis::kNoParent);
    parent_.assign(s.object_count(), Analysis::kNoParent);
    queue_.reserve(s.object_count());
  }

  void ReachFrom(const std::vector<uint32_t>& sources) {
    size_t head = queue_.size();
    for (uint32_t v : sources) {
      if (parent_edge_[v] != Analysis::kNoParent) continue;
      parent_edge_[v] = Analysis::kIsRoot;
      queue_.push_back(v);
    }
    for (; head < queue_.size(); ++head) {
      const uint32_t v = queue_[head];
      for (uint64_t e = s_.edge_begin[v]; e < s_.edge_begin[v + 1]; ++e) {
        const uint32_t t = s_.edge_target[e];
        if (parent_edge_[t] == Analysis::kNoParent && Retains(s_.edge_kind[e]) && !garbage_[t]) {
          parent_edge_[t] = static_cast<uint32_t>(e);
          parent_[t] = v;
          queue_.push_back(t);
        }
      }
    }
  }

 private:
  const Snapshot& s_;
  const std::vector<uint8_t>& garbage_;
  std::vector<uint32_t>& parent_edge_;
  std::vector<uint32_t>& parent_;
  std::vector<uint32_t> queue_;
};

// Step 3: the strongly connected components of the garbage. Fills the analysis' garbage
// groups (the entry components: those no other garbage points at) and its cycle count;
// returns the entry points, which the garbage pseudo-vertex will hold.
std::vector<uint32_t> GroupGarbage(const Snapshot& s, const std::vector<uint8_t>& garbage,
                                   Analysis* a) {
  const auto n = static_cast<uint32_t>(s.object_count());
  std::vector<uint32_t> members;
  std::vector<uint32_t> local(n, UINT32_MAX);
  for (uint32_t i = 0; i < n; ++i) {
    if (garbage[i]) {
      local[i] = static_cast<uint32_t>(members.size());
      members.push_back(i);
    }
  }
  std::vector<uint32_t> entries;
  if (members.empty()) return entries;
  uint32_t components = 0;
  const std::vector<uint32_t> component = GarbageComponents(s, members, local, &components);
  std::vector<uint32_t> size(components, 0);
  std::vector<uint8_t> has_self_edge(components, 0);
  std::vector<uint8_t> entered(components, 0);  // another component points at it
  for (uint32_t li = 0; li < members.size(); ++li) {
    ++size[component[li]];
    const uint32_t v = members[li];
    for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
      const uint32_t t = s.edge_target[e];
      if (!Retains(s.edge_kind[e]) || local[t] == UINT32_MAX) continue;
      if (t == v) has_self_edge[component[li]] = 1;
      if (component[local[t]] != component[li]) entered[component[local[t]]] = 1;
    }
  }
  for (uint32_t c = 0; c < components; ++c) {
    if (size[c] > 1 || has_self_edge[c]) ++a->garbage_cycles;
  }
  std::vector<int32_t> group_of(components, -1);
  for (uint32_t li = 0; li < members.size(); ++li) {
    const uint32_t c = component[li];
    if (entered[c]) continue;
    if (group_of[c] < 0) {
      group_of[c] = static_cast<int32_t>(a->garbage_groups.size());
      a->garbage_groups.emplace_back();
      a->garbage_groups.back().cycle = size[c] > 1 || has_self_edge[c];
    }
    a->garbage_groups[static_cast<size_t>(group_of[c])].members.push_back(members[li]);
    entries.push_back(members[li]);
  }
  return entries;
}

// Objects that no root reaches and that the garbage does not hold either (a depth-first
// search from the garbage entry points over retaining edges into objects no path reached).
std::vector<uint32_t> FindUnexplained(const Snapshot& s, const std::vector<uint32_t>& entries,
                                      const std::vector<uint32_t>& parent_edge) {
  const auto n = static_cast<uint32_t>(s.object_count());
  std::vector<uint8_t> held_by_garbage(n, 0);
  std::vector<uint32_t> stack(entries.begin(), entries.end());
  for (uint32_t v : entries) held_by_garbage[v] = 1;
  while (!stack.empty()) {
    const uint32_t v = stack.back();
    stack.pop_back();
    for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
      const uint32_t t = s.edge_target[e];
      if (Retains(s.edge_kind[e]) && !held_by_garbage[t] && parent_edge[t] == Analysis::kNoParent) {
        held_by_garbage[t] = 1;
        stack.push_back(t);
      }
    }
  }
  std::vector<uint32_t> unexplained;
  for (uint32_t i = 0; i < n; ++i) {
    if (parent_edge[i] == Analysis::kNoParent && !held_by_garbage[i]) unexplained.push_back(i);
  }
  return unexplained;
}

// The pseudo-vertices' edges: the super-root holds the roots, the unexplained objects and the
// garbage root; the garbage root holds the garbage entry points.
struct PseudoEdges {
  std::vector<uint64_t> begin = std::vector<uint64_t>(3, 0);  // per pseudo-vertex, CSR
  std::vector<uint32_t> target;
  // Per vertex: 0, or 1 + the index of the pseudo-vertex that is its extra predecessor.
  std::vector<uint8_t> pred;
};

PseudoEdges BuildPseudoEdges(uint32_t vertices, const RootLevels& levels,
                             const std::vector<uint32_t>& unexplained,
                             const std::vector<uint32_t>& entries, uint32_t garbage_root) {
  PseudoEdges p;
  for (const auto& level : levels) p.target.insert(p.target.end(), level.begin(), level.end());
  p.target.insert(p.target.end(), unexplained.begin(), unexplained.end());
  p.target.push_back(garbage_root);
  p.begin[1] = p.target.size();
  p.target.insert(p.target.end(), entries.begin(), entries.end());
  p.begin[2] = p.target.size();
  p.pred.assign(vertices, 0);
  for (uint64_t e = p.begin[0]; e < p.begin[1]; ++e) p.pred[p.target[e]] = 1;
  for (uint64_t e = p.begin[1]; e < p.begin[2]; ++e) p.pred[p.target[e]] = 2;
  return p;
}

// Step 4: the dominator tree of the retention graph (the snapshot's own edge arrays filtered
// to retaining kinds, plus the pseudo-edges), from the super-root. Returns idom; fills preorder.
std::vector<uint32_t> ComputeDominatorTree(const Snapshot& s, const PseudoEdges& pseudo,
                                           const ObjectPredecessors& preds, uint32_t super_root,
                                           std::vector<uint32_t>* preorder) {
  const auto n = static_cast<uint32_t>(s.object_count());
  const uint32_t pseudo_vertices[2] = {super_root, super_root + 1};
  CsrGraph graph;
  graph.vertices = n + 2;
  graph.csr_vertices = n;
  graph.succ_begin = s.edge_begin.data();
  graph.succ_target = s.edge_target.data();
  graph.succ_kind = reinterpret_cast<const uint8_t*>(s.edge_kind.data());
  graph.kind_mask = RetainingKindMask();
  graph.extra_begin = pseudo.begin.data();
  graph.extra_target = pseudo.target.data();
  graph.pred_begin = preds.begin.data();
  graph.pred_source = preds.source.data();
  graph.extra_pred = pseudo.pred.data();
  graph.extra_pred_vertex = pseudo_vertices;
  return ComputeDominators(graph, super_root, preorder);
}

// Retained size and object count of every vertex: its own, plus its dominator subtree's, in
// one pass up the preorder. Then the garbage totals and groups, largest first.
void ComputeRetainedSizes(const Snapshot& s, const std::vector<uint32_t>& preorder, Analysis* a) {
  const auto n = static_cast<uint32_t>(s.object_count());
  const uint32_t vertices = n + 2;
  a->retained.assign(vertices, 0);
  a->retained_count.assign(vertices, 0);
  for (uint32_t i = 0; i < n; ++i) {
    a->retained[i] = s.size[i];
    a->retained_count[i] = 1;
  }
  for (size_t k = preorder.size(); k-- > 1;) {
    const uint32_t v = preorder[k];
    a->retained[a->idom[v]] += a->retained[v];
    a->retained_count[a->idom[v]] += a->retained_count[v];
  }
  a->garbage_retained_bytes = a->retained[a->garbage_root()];
  a->garbage_retained_objects = a->retained_count[a->garbage_root()];
  for (GarbageGroup& g : a->garbage_groups) {
    for (uint32_t v : g.members) {
      g.self_bytes += s.size[v];
      g.retained_bytes += a->retained[v];
      g.retained_objects += a->retained_count[v];
    }
  }
  std::sort(a->garbage_groups.begin(), a->garbage_groups.end(),
            [](const GarbageGroup& x, const GarbageGroup& y) {
              return x.retained_bytes != y.retained_bytes ? x.retained_bytes > y.retained_bytes
                                                          : x.members < y.members;
            });
}

// The dominator tree's children in CSR, in preorder.
void BuildDominatorChildren(const std::vector<uint32_t>& preorder, Analysis* a) {
  const uint32_t vertices = a->garbage_root() + 1;
  const uint32_t root = a->super_root();
  std::vector<uint64_t>& child_begin = a->dom_child_begin;
  child_begin.assign(vertices + 1, 0);
  for (uint32_t v : preorder) {
    if (v != root) ++child_begin[a->idom[v] + 1];
  }
  for (uint32_t v = 0; v < vertices; ++v) child_begin[v + 1] += child_begin[v];
  a->dom_children.assign(child_begin[vertices], 0);
  std::vector<uint64_t> fill(child_begin.begin(), child_begin.end() - 1);
  for (uint32_t v : preorder) {
    if (v != root) a->dom_children[fill[a->idom[v]]++] = v;
  }
}

// Retained size per type: walk the dominator tree keeping, per type, how many instances are
// on the current path; an instance counts only when it is the topmost one.
void ComputeTypeRetained(const Snapshot& s, Analysis* a) {
  const auto n = static_cast<uint32_t>(s.object_count());
  a->types.assign(s.types.size(), TypeRetained());
  for (size_t t = 0; t < s.types.size(); ++t) a->types[t].type = TypeId(static_cast<uint32_t>(t));
  for (uint32_t i = 0; i < n; ++i) {
    TypeRetained& t = a->types[s.type[i].value()];
    ++t.count;
    t.self_bytes += s.size[i];
  }
  const std::vector<uint64_t>& child_begin = a->dom_child_begin;
  std::vector<uint32_t> active(s.types.size(), 0);
  std::vector<std::pair<uint32_t, uint64_t>> stack;  // vertex, next child
  stack.emplace_back(a->super_root(), child_begin[a->super_root()]);
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    if (next == child_begin[v + 1]) {
      if (v < n) --active[s.type[v].value()];
      stack.pop_back();
      continue;
    }
    const uint32_t c = a->dom_children[next++];
    if (c < n) {
      const uint32_t t = s.type[c].value();
      if (active[t]++ == 0) a->types[t].retained_bytes += a->retained[c];
    }
    stack.emplace_back(c, child_begin[c]);
  }
}

}  // namespace

Analysis Analyze(const Snapshot& s, const AnalysisOptions& options) {
  auto progress = [&](const char* phase, double f) {
    if (options.progress) options.progress(phase, f);
  };
  Analysis a;
  a.snapshot_ = &s;
  // Predecessors along retaining edges, built on the second core while the collector, the
  // paths and the garbage components run here.
  std::future<ObjectPredecessors> predecessors =
      std::async(std::launch::async, [&s] { return BuildPredecessors(s); });

  progress("collector", 0);
  a.collector = ReproduceCollector(s);
  const std::vector<uint8_t>& garbage = a.collector.unreachable;
  const RootLevels levels = RankRoots(s, garbage, &a.root_of_node);

  progress("paths", 0.1);
  RetainerPathSearch paths(s, garbage, &a.parent_edge, &a.parent);
  for (const auto& level : levels) paths.ReachFrom(level);

  progress("garbage", 0.3);
  const std::vector<uint32_t> entries = GroupGarbage(s, garbage, &a);
  // Garbage and what only garbage holds hang under the garbage root; anything else still
  // unreached is unexplained and becomes a root of its own, with paths from itself.
  const std::vector<uint32_t> unexplained = FindUnexplained(s, entries, a.parent_edge);
  a.unexplained_objects = unexplained.size();
  paths.ReachFrom(unexplained);

  progress("graph", 0.4);
  PseudoEdges pseudo =
      BuildPseudoEdges(a.garbage_root() + 1, levels, unexplained, entries, a.garbage_root());

  progress("dominators", 0.55);
  std::vector<uint32_t> preorder;
  {
    const ObjectPredecessors preds = predecessors.get();
    a.idom = ComputeDominatorTree(s, pseudo, preds, a.super_root(), &preorder);
  }
  std::vector<uint8_t>().swap(pseudo.pred);

  progress("retained sizes", 0.8);
  ComputeRetainedSizes(s, preorder, &a);

  progress("types", 0.9);
  BuildDominatorChildren(preorder, &a);
  ComputeTypeRetained(s, &a);
  progress("done", 1);
  return a;
}

}  // namespace heapsnap

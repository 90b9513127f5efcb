// Analysis: what the collector would free, what keeps the rest alive, and how much each object
// keeps alive. One pass over a loaded Snapshot computes everything the commands query.
//
//   StatusOr<Snapshot> snap = LoadSnapshot(path);
//   Analysis a = Analyze(*snap);
//   a.retained[node]          // bytes freed if node went away
//   a.unreachable_objects     // what gc.collect() would report at capture time
//   RetainerPath p = a.PathTo(node);   // shortest path from a root, see paths.h
//
// The steps, and the one rule they share (Retains() in snapshot.h): an edge *retains* its target
// when its kind is TRAVERSE or STRONG. Weak and borrowed edges never retain, never dominate, and
// are never part of a retainer path. The numbers name the steps, not their order: Analyze()
// searches paths from the roots (5) before it groups the garbage (3), whose unexplained
// leftovers then get paths of their own.
//
// 1. Collector (ReproduceCollector, in collector.cc): CPython's deduce_unreachable on the
//    snapshot. The candidates are the gc-tracked objects that are neither frozen nor immortal;
//    gc_refs starts at the refcount and loses one for every TRAVERSE edge between two
//    candidates; everything reachable along TRAVERSE edges from a candidate with gc_refs > 0
//    survives; the rest is what a full gc.collect() at capture time would find unreachable.
//    O(n + m).
// 2. Roots (RankRoots), by priority: the capture's roots (sys.modules, sys, builtins, running
//    frames, thread state, gc.garbage), then immortal and frozen objects, then objects with
//    references from outside the graph (C code), and last anything still unexplained
//    (FindUnexplained).
// 3. Garbage (GroupGarbage): strongly connected components (Boost.Graph strong_components) of
//    the retaining edges among unreachable objects; components no other garbage points at are
//    the entry points, hung under a pseudo-vertex "unreachable garbage", so garbage is reported
//    as such and never merged into the live heap.
// 4. Dominators (ComputeDominatorTree; dominators.h, Lengauer-Tarjan) from a super-root over
//    the retaining edges plus the pseudo-edges above (BuildPseudoEdges); retained size of every
//    vertex in one reverse-preorder pass (ComputeRetainedSizes); retained size per type
//    (ComputeTypeRetained) without double counting (only the topmost instance of a type on each
//    dominator-tree path counts, as in Chrome DevTools).
// 5. Retainer paths (RetainerPathSearch): one multi-source BFS per root priority level over
//    retaining edges from live roots, a parent edge per object: shortest paths, preferring the
//    capture's roots.
//
// Memory: about 49 bytes per object and 10 per edge on top of the Snapshot.
#ifndef HEAPSNAP_ANALYZE_ANALYSIS_H_
#define HEAPSNAP_ANALYZE_ANALYSIS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "heapsnap/analyze/snapshot.h"

namespace heapsnap {

// Step 1 alone, for tests and tools: per object, 1 if a full collection at capture time would
// find it unreachable.
struct CollectorResult {
  std::vector<uint8_t> unreachable;
  uint64_t unreachable_objects = 0;
  uint64_t unreachable_bytes = 0;
  uint64_t candidates = 0;            // tracked, not frozen, not immortal
  uint64_t inconsistent_objects = 0;  // gc_refs went below zero: the snapshot disagrees with itself
};
CollectorResult ReproduceCollector(const Snapshot& snapshot);

struct GarbageGroup {
  std::vector<uint32_t> members;  // the strongly connected component (one object if acyclic)
  bool cycle = false;             // more than one member, or a self-reference
  uint64_t self_bytes = 0;        // the members' own sizes
  uint64_t retained_bytes = 0;    // everything freed with it
  uint64_t retained_objects = 0;
};

struct TypeRetained {
  TypeId type;
  uint64_t count = 0;
  uint64_t self_bytes = 0;
  uint64_t retained_bytes = 0;  // no double counting: nested instances are not added again
};

struct RetainerStep {
  uint64_t edge;   // snapshot edge index
  NodeIndex node;  // the object the edge leads to
};

struct RetainerPath {
  bool found = false;
  bool garbage = false;  // the object is unreachable garbage (no path from a root)
  int root = -1;         // index into Snapshot::roots
  NodeIndex start;       // the root object
  std::vector<RetainerStep> steps;
};

struct AnalysisOptions {
  // Called with a phase name and a fraction done; may be empty.
  std::function<void(const char* phase, double fraction)> progress;
};

class Analysis {
 public:
  const Snapshot& snapshot() const { return *snapshot_; }

  // Vertices: objects 0..n-1, then the two pseudo-vertices.
  uint32_t super_root() const { return static_cast<uint32_t>(snapshot_->object_count()); }
  uint32_t garbage_root() const { return super_root() + 1; }

  // Collector.
  CollectorResult collector;
  // Garbage: entry components, largest retained first; and totals.
  std::vector<GarbageGroup> garbage_groups;
  uint64_t garbage_cycles = 0;  // components with a cycle, entry or not
  uint64_t garbage_retained_objects = 0;
  uint64_t garbage_retained_bytes = 0;  // all that would be freed with the garbage
  // Reached from no root and not garbage (attached to the super-root).
  uint64_t unexplained_objects = 0;

  // Dominators.
  std::vector<uint32_t> idom;       // per vertex; kUnreachable never happens after attachment
  std::vector<uint64_t> retained;   // per vertex, bytes
  std::vector<TypeRetained> types;  // per type id (index = TypeId value), count > 0 only used
  // The dominator tree's children in CSR: children of v are
  // dom_children[dom_child_begin[v] .. dom_child_begin[v + 1]).
  std::vector<uint64_t> dom_child_begin;
  std::vector<uint32_t> dom_children;
  std::vector<uint32_t> retained_count;  // per vertex: objects in its dominator subtree

  // Paths.
  RetainerPath PathTo(NodeIndex node) const;

  // BFS state, public for tools: parent edge per object, or one of the markers.
  static constexpr uint32_t kNoParent = UINT32_MAX;
  static constexpr uint32_t kIsRoot = UINT32_MAX - 1;
  std::vector<uint32_t> parent_edge;
  // The object parent_edge comes from (when it is an edge): what EdgeSource(parent_edge[v])
  // would find by binary search, kept by the search itself (4 bytes an object, and no
  // O(log m) per step of every path walked).
  std::vector<uint32_t> parent;
  std::vector<int32_t> root_of_node;  // for roots: index into snapshot.roots, else -1

  uint64_t EdgeSource(uint64_t edge) const;

 private:
  friend Analysis Analyze(const Snapshot& snapshot, const AnalysisOptions& options);
  const Snapshot* snapshot_ = nullptr;
};

Analysis Analyze(const Snapshot& snapshot, const AnalysisOptions& options = {});

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_ANALYSIS_H_

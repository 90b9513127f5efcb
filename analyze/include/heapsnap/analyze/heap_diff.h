// Comparing snapshots of one program taken over time, to find what grows.
//
// Never by address: CPython hands a freed object's address to the next object of its type at
// once (freelists), so an address in two snapshots proves nothing. The unit is the *group*: the
// live objects with the same path shape (path_shapes.h, with FoldRule::kTwoAlike, so a dict
// of 3 entries and the same dict with 30 have one shape) and the same type, as LeakCanary's
// ObjectGrowthDetector groups by path and never by id. Unreachable garbage is one group per
// type under kGarbagePathText. Objects the interpreter shares for its whole life (immortal
// objects, the small ints) are in no group: their shortest path wanders as the heap changes. Each
// group is named by its fingerprint,
//
//   GroupFingerprint(shapes.Fingerprint(shape), type qualname)   (StableHash, 16 hex digits)
//
// which is the same in every snapshot, run and machine that has the group: it is the key of
// diffs, checks, suppressions and JUnit test names.
//
// Each snapshot is reduced to a HeapProfile (a few numbers per group, type and container) as
// soon as it is analysed, so that N snapshots cost the memory of one plus N profiles:
//
//   std::vector<HeapProfile> profiles;
//   for (each snapshot but the last) profiles.push_back(ProfileHeap(analysis, shapes));
//   profiles.push_back(ProfileHeap(last, last_shapes));
//   HeapDiff diff = DiffHeaps(profiles, last, last_shapes, DiffOptions{});
//
// A group *grows* when its count rises by at least min_growth in every interval between two
// consecutive snapshots (CPython's regrtest -R rule: a cache that fills once, or an LRU capped
// below the number of intervals, does not). Costs: ProfileHeap O(n log n) (the shapes of all
// objects) and O(groups + types + containers) memory; DiffHeaps O(N * groups).
#ifndef HEAPSNAP_ANALYZE_HEAP_DIFF_H_
#define HEAPSNAP_ANALYZE_HEAP_DIFF_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/path_shapes.h"

namespace heapsnap {

uint64_t GroupFingerprint(uint64_t shape_fingerprint, std::string_view type_qualname);
// What stands for the shape of unreachable garbage (one group per type).
uint64_t GarbageShapeFingerprint();
// 16 lowercase hex digits: how fingerprints are written everywhere.
std::string FingerprintHex(uint64_t fingerprint);

struct GroupTotals {
  uint64_t count = 0;
  uint64_t bytes = 0;  // the objects' own sizes
  NodeIndex example;   // the one that retains the most; valid while its Analysis lives
};

struct TypeTotals {
  uint64_t count = 0;
  uint64_t bytes = 0;
  uint64_t retained_bytes = 0;  // nested instances not added again (TypeRetained)
};

// A container that is the only member of its group (so it is the same container in every
// snapshot that has the group alone): `sys.modules['app'].CACHE`, not `SESSIONS[*].history`.
struct ContainerTotals {
  uint64_t length = 0;  // entries: items, keys (a key and its value are one), members
  uint64_t retained_bytes = 0;
  NodeIndex node;  // valid while its Analysis lives
};

struct HeapProfile {
  std::unordered_map<uint64_t, GroupTotals> groups;          // by group fingerprint
  std::map<std::string, TypeTotals> types;                   // by qualified type name
  std::unordered_map<uint64_t, ContainerTotals> containers;  // by group fingerprint
  uint64_t live_objects = 0;
  uint64_t live_bytes = 0;
  uint64_t unreachable_objects = 0;
  uint64_t unreachable_bytes = 0;
};

// `shapes` must be of `analysis`, made with FoldRule::kTwoAlike.
HeapProfile ProfileHeap(const Analysis& analysis, const PathShapes& shapes);

// What a diff describes, largest first, so that a heap of a million different paths (a deep
// tree that grew) costs O(n): the shapes of the first kMaxDescribedGroups growing groups and
// as many others that rose; the full paths of the first kMaxFullPaths growing groups' examples
// and grown containers (within a budget of steps walked: each costs its length).
inline constexpr size_t kMaxDescribedGroups = 10000;
inline constexpr size_t kMaxFullPaths = 1000;

struct DiffOptions {
  uint64_t min_growth = 1;  // a group grows when it rises by this much in every interval
};

// A group with more objects or bytes in the last snapshot than in the first.
struct GroupGrowth {
  uint64_t fingerprint = 0;
  bool growing = false;          // rose by min_growth or more in every interval
  std::vector<uint64_t> counts;  // per snapshot, oldest first (0 where it had none)
  std::vector<uint64_t> bytes;
  int64_t count_delta = 0;  // last minus first
  int64_t bytes_delta = 0;
  // From the last snapshot:
  std::string type;
  NodeIndex example;
  // The first kMaxDescribedGroups growing groups, and as many others, are described:
  bool described = false;
  std::vector<std::string> path;  // the shape: its root, then its steps
  std::string path_text;          // the shape's text, " -> ", the type
  std::string example_path;       // the example's own path (see kMaxFullPaths), or empty
};

struct TypeDelta {
  std::string type;
  uint64_t count = 0;  // in the last snapshot
  int64_t count_delta = 0;
  int64_t bytes_delta = 0;
  int64_t retained_bytes_delta = 0;
};

struct GrownContainer {
  uint64_t fingerprint = 0;
  std::string type;
  std::vector<uint64_t> lengths;  // per snapshot, oldest first
  uint64_t retained_bytes = 0;    // in the last snapshot
  int64_t retained_bytes_delta = 0;
  NodeIndex node;  // in the last snapshot
  std::string path_text;
};

struct HeapDiff {
  size_t snapshots = 0;
  std::vector<TypeDelta> types;  // every type whose numbers changed, by bytes_delta
  // Every group that rose from the first snapshot to the last, by bytes_delta, then
  // count_delta; those that rose in every interval are marked `growing`.
  std::vector<GroupGrowth> grown;
  size_t growing_count = 0;  // of them, growing
  // Grew in every interval, by retained_bytes_delta; the first kMaxFullPaths (path_text empty
  // past the budget of steps).
  std::vector<GrownContainer> containers;
  int64_t live_objects_delta = 0;
  int64_t live_bytes_delta = 0;
  int64_t unreachable_objects_delta = 0;
};

// `profiles` oldest first, at least two; the last is of `last` (with `last_shapes`), which
// names and renders what grew.
HeapDiff DiffHeaps(const std::vector<HeapProfile>& profiles, const Analysis& last,
                   const PathShapes& last_shapes, const DiffOptions& options);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_HEAP_DIFF_H_

// The questions the commands ask of a loaded and analysed snapshot, answered once here so that a
// command only prints: which types a name the user typed means, which objects are of them,
// which objects and types are the largest.
//
//   auto nodes = ObjectsOfType(snapshot, "app.models.Node");   // or the bare "Node"
//   std::vector<NodeIndex> top = LargestObjects(analysis, AllButStructural(analysis),
//                                               Measure::kRetained, 20);
#ifndef HEAPSNAP_ANALYZE_QUERIES_H_
#define HEAPSNAP_ANALYZE_QUERIES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/status.h"

namespace heapsnap {

// The types `name` means, as a flag per type id: a qualified name as summary and top print it
// (`app.models.Node`, `dict`, also `builtins.dict`), or a bare name (`Node`) when it names one
// class with instances. A bare name of several classes is InvalidArgument listing them with
// their counts; a name of none is NotFound. Messages name the snapshot's file.
StatusOr<std::vector<uint8_t>> MatchTypes(const Snapshot& snapshot, const std::string& name);

// What a type name selects: the types (MatchTypes), their objects in snapshot order (at most
// `limit`, 0: all) and how many there are in all. NotFound when there are none.
struct TypeSelection {
  std::vector<uint8_t> match;  // per type id
  std::vector<NodeIndex> objects;
  uint64_t total = 0;  // all objects of the types, `limit` or not
};
StatusOr<TypeSelection> SelectType(const Snapshot& snapshot, const std::string& name,
                                   size_t limit = 0);

// SelectType's objects alone.
StatusOr<std::vector<NodeIndex>> ObjectsOfType(const Snapshot& snapshot, const std::string& name,
                                               size_t limit = 0);

// Whether an object is part of the heap's structure rather than its data: the capture's roots,
// modules and module namespaces retain all that is under them, so they would come first by
// retained size on every heap, and they are never what a user looks for.
bool IsStructural(const Analysis& analysis, NodeIndex node);

// Every object but the structural ones, in snapshot order.
std::vector<NodeIndex> AllButStructural(const Analysis& analysis);

// Every object, in snapshot order.
std::vector<NodeIndex> AllObjects(const Snapshot& snapshot);

enum class Measure { kRetained, kSelf };

// The `limit` largest of `candidates` by the measure, largest first, ties by address.
std::vector<NodeIndex> LargestObjects(const Analysis& analysis, std::vector<NodeIndex> candidates,
                                      Measure measure, size_t limit);

// The `limit` largest types with instances by the measure (retained counts nested instances
// once), largest first, ties by type id; only those `match` flags when it is not empty.
std::vector<const TypeRetained*> LargestTypes(const Analysis& analysis,
                                              const std::vector<uint8_t>& match, Measure measure,
                                              size_t limit);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_QUERIES_H_

// Snapshot: a whole snapshot file in memory, with edge targets resolved to object indices.
// Flat arrays (structure of arrays) in file order, edges in CSR form: the edges of object i are
// [edge_begin[i], edge_begin[i + 1]).
//
//   StatusOr<Snapshot> snap = LoadSnapshot("app.heapsnap");
//   if (!snap.ok()) return snap.status();
//   for (NodeIndex n : snap->Nodes()) total += snap->size[n.value()];
//
// Loading validates what the streaming reader cannot: duplicate addresses, edges and roots that
// point at objects the file does not hold. Memory: about 40 bytes per object plus 14 per edge.
#ifndef HEAPSNAP_ANALYZE_SNAPSHOT_H_
#define HEAPSNAP_ANALYZE_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heapsnap/base/status.h"
#include "heapsnap/format/byte_source.h"
#include "heapsnap/format/types.h"

namespace heapsnap {

// The rule every step of the analysis shares: an edge *retains* its target (keeps it alive, may
// dominate it, may be on its retainer path, explains one reference of its refcount) when its kind
// is TRAVERSE or STRONG. Weak and borrowed edges never do.
constexpr bool Retains(EdgeKind kind) {
  return kind == EdgeKind::kTraverse || kind == EdgeKind::kStrong;
}

// The same rule as a mask of EdgeKind bits, for loops that test an edge kind's bit.
constexpr uint32_t RetainingKindMask() {
  uint32_t mask = 0;
  for (uint32_t k = 0; k < 8; ++k) {
    if (Retains(static_cast<EdgeKind>(k))) mask |= 1u << k;
  }
  return mask;
}

using NodeIndex = Id<struct NodeIndexTag>;  // position of an object in the snapshot

struct SnapshotRoot {
  RootKind kind;
  NodeIndex node;
  StringId label;  // 0 for derived roots
  uint64_t thread_id;
  uint32_t depth;
  uint64_t count = 0;  // EXTERNAL: references from outside the recorded graph
};

struct Snapshot {
  std::string path;
  HeaderInfo header;
  std::vector<std::string> strings;  // [0] is ""
  std::vector<TypeRecord> types;     // [0] is invalid

  // Per object.
  std::vector<uint64_t> address;
  std::vector<TypeId> type;
  std::vector<uint64_t> size;
  std::vector<uint64_t> refcount;
  std::vector<uint32_t> flags;
  std::vector<uint8_t> generation;

  // Per edge, CSR by source object.
  std::vector<uint64_t> edge_begin;  // objects + 1 entries
  std::vector<uint32_t> edge_target;
  std::vector<EdgeKind> edge_kind;
  std::vector<LabelKind> edge_label_kind;
  // Label values fit 32 bits except for huge int dict keys, which go to an overflow table
  // (saves 4 bytes an edge: 130 MB on a 33M-edge snapshot). Read them with LabelValue().
  std::vector<uint32_t> edge_label_value;
  std::unordered_map<uint64_t, uint64_t> edge_label_overflow;  // edge -> value
  uint64_t LabelValue(uint64_t edge) const {
    const uint32_t v = edge_label_value[edge];
    if (v != UINT32_MAX) return v;
    auto it = edge_label_overflow.find(edge);
    return it != edge_label_overflow.end() ? it->second : v;
  }

  std::vector<ValueRecord> values;  // sorted by object_index
  std::vector<NameRecord> names;    // sorted by object_index
  // The capture's roots in file order, then the derived ones: EXTERNAL for every object with
  // references from outside the recorded graph (with their count), IMMORTAL and FROZEN.
  std::vector<SnapshotRoot> roots;
  size_t captured_roots = 0;  // roots[0, captured_roots) come from the file

  size_t object_count() const { return address.size(); }
  size_t edge_count() const { return edge_target.size(); }
  const std::string& String(StringId id) const { return strings[id.value()]; }
  const TypeRecord& Type(NodeIndex n) const { return types[type[n.value()].value()]; }
  const std::string& TypeName(NodeIndex n) const { return String(Type(n).name); }
  const std::string& TypeQualname(NodeIndex n) const { return String(Type(n).qualname); }

  std::optional<NodeIndex> FindAddress(uint64_t address) const;
  const ValueRecord* Value(NodeIndex n) const;
  const NameRecord* Name(NodeIndex n) const;
  std::string EdgeLabel(uint64_t edge) const;
  // For an edge labelled with a dict key (DICT_KEY, DICT_KEY_OBJECT, DICT_KEY_REF,
  // DICT_KEY_SELF): the key's repr, e.g. 'ada'. Empty for any other label.
  std::string DictKeyRepr(uint64_t edge) const;
  // The string of a label that names something (LabelHasString: a field, an attribute, a str
  // key, a variable or parameter name).
  const std::string& LabelString(uint64_t edge) const {
    return String(StringId(static_cast<uint32_t>(LabelValue(edge))));
  }
  // Whether the edge is the field `name` of its object (`.__dict__`, `.__self__`).
  bool IsField(uint64_t edge, std::string_view name) const {
    return edge_label_kind[edge] == LabelKind::kField && LabelString(edge) == name;
  }
  // True for the labels of a value stored under a str key: ['ada'].
  static bool IsStrKeyLabel(LabelKind kind) {
    return kind == LabelKind::kDictKey || kind == LabelKind::kDictKeyRef;
  }
  // True for the labels of a value stored under a key: ['ada'], [7].
  static bool IsDictValueLabel(LabelKind kind) {
    return kind == LabelKind::kDictKey || kind == LabelKind::kDictKeyInt ||
           kind == LabelKind::kDictKeyRef;
  }

  // Open-addressing index behind FindAddress: object indices (UINT32_MAX = empty) at slots
  // found by hashing the address; 8 bytes per object at load factor 1/2. Built by loading.
  std::vector<uint32_t> address_slots;
};

struct LoadOptions {
  // Called after each object chunk with the number of objects loaded so far; may be empty.
  std::function<void(uint64_t objects)> progress;
};

// Reads the file at path, or the bytes of source (memory, for the fuzz target and tests; the
// snapshot's path is then the source's name). The steps: size the arrays from the trailer,
// read the columns, apply the size fixups, index the addresses and resolve edge targets,
// check the dict key references, resolve the roots, add the derived roots.
StatusOr<Snapshot> LoadSnapshot(const std::string& path, const LoadOptions& options = {});
StatusOr<Snapshot> LoadSnapshot(std::unique_ptr<ByteSource> source,
                                const LoadOptions& options = {});

// A readable description of a root: its label, or for derived roots what they mean.
std::string RootDescription(const Snapshot& snapshot, const SnapshotRoot& root);

// The references into each of `nodes`: per node, its referrers' edges with their source
// objects, in file order. One pass over the edges, O(n + m), and memory for what it finds.
struct Referrer {
  uint64_t edge;
  NodeIndex source;
};
std::unordered_map<uint32_t, std::vector<Referrer>> FindReferrers(
    const Snapshot& snapshot, const std::vector<uint32_t>& nodes);

// References from outside the recorded graph: refcount minus the counted (traverse and strong)
// edges pointing at each object, 0 where the edges explain the whole refcount. Synthetic and
// immortal objects get 0. This is the format's derived EXTERNAL root.
struct ExternalReferences {
  std::vector<uint64_t> count;  // per object
  uint64_t objects = 0;         // objects with count > 0
  uint64_t total = 0;           // sum of count
  uint64_t overcounted = 0;     // objects with more counted edges than references
};
ExternalReferences ComputeExternalReferences(const Snapshot& snapshot);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_SNAPSHOT_H_

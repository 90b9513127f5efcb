#include "heapsnap/analyze/snapshot.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "address_index.h"
#include "heapsnap/base/hex.h"

namespace heapsnap {

std::optional<NodeIndex> Snapshot::FindAddress(uint64_t a) const {
  if (address_slots.empty()) return std::nullopt;
  const uint32_t found = AddressIndex(*this).Find(a);
  if (found == kNoObject) return std::nullopt;
  return NodeIndex(found);
}

const ValueRecord* Snapshot::Value(NodeIndex n) const {
  auto it = std::lower_bound(values.begin(), values.end(), n.value(),
                             [](const ValueRecord& v, uint64_t i) { return v.object_index < i; });
  return it != values.end() && it->object_index == n.value() ? &*it : nullptr;
}

const NameRecord* Snapshot::Name(NodeIndex n) const {
  auto it = std::lower_bound(names.begin(), names.end(), n.value(),
                             [](const NameRecord& v, uint64_t i) { return v.object_index < i; });
  return it != names.end() && it->object_index == n.value() ? &*it : nullptr;
}

std::string Snapshot::EdgeLabel(uint64_t edge) const {
  const LabelKind kind = edge_label_kind[edge];
  std::string key;
  if (kind == LabelKind::kDictKeyRef || kind == LabelKind::kDictKeySelf) key = DictKeyRepr(edge);
  return FormatLabel(
      kind, LabelValue(edge), [this](StringId id) -> const std::string& { return String(id); },
      &key);
}

std::string Snapshot::DictKeyRepr(uint64_t edge) const {
  uint64_t key_edge = edge;
  switch (edge_label_kind[edge]) {
    case LabelKind::kDictKey:
    case LabelKind::kDictKeyObject:
      return LabelString(edge);
    case LabelKind::kDictKeyRef:
      // Checked by LoadSnapshot: within the same object, a kDictKeySelf edge.
      key_edge = edge + static_cast<uint64_t>(DecodeDictKeyRef(LabelValue(edge)));
      break;
    case LabelKind::kDictKeySelf:
      break;
    default:
      return std::string();
  }
  const ValueRecord* v = Value(NodeIndex(edge_target[key_edge]));
  return v != nullptr ? QuoteKeyPreview(v->text, v->length) : "<str>";
}

std::string RootDescription(const Snapshot& s, const SnapshotRoot& r) {
  switch (r.kind) {
    case RootKind::kExternal:
      return "held from outside the traversable graph (C code, extension state) x" +
             std::to_string(r.count);
    case RootKind::kImmortal:
      return "immortal";
    case RootKind::kFrozen:
      return "frozen by gc.freeze()";
    default:
      return s.String(r.label);
  }
}

std::unordered_map<uint32_t, std::vector<Referrer>> FindReferrers(
    const Snapshot& s, const std::vector<uint32_t>& nodes) {
  std::unordered_map<uint32_t, std::vector<Referrer>> referrers;
  for (uint32_t n : nodes) referrers[n];
  for (uint32_t i = 0; i < s.object_count(); ++i) {
    for (uint64_t e = s.edge_begin[i]; e < s.edge_begin[i + 1]; ++e) {
      auto it = referrers.find(s.edge_target[e]);
      if (it != referrers.end()) it->second.push_back({e, NodeIndex(i)});
    }
  }
  return referrers;
}

ExternalReferences ComputeExternalReferences(const Snapshot& s) {
  ExternalReferences out;
  const size_t n = s.object_count();
  std::vector<uint64_t> counted(n, 0);
  for (size_t e = 0; e < s.edge_count(); ++e) {
    if (Retains(s.edge_kind[e])) {
      ++counted[s.edge_target[e]];
    }
  }
  out.count.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (s.flags[i] & (object_flags::kSynthetic | object_flags::kImmortal)) continue;
    if (counted[i] > s.refcount[i]) {
      ++out.overcounted;
      continue;
    }
    out.count[i] = s.refcount[i] - counted[i];
    if (out.count[i] > 0) {
      ++out.objects;
      out.total += out.count[i];
    }
  }
  return out;
}

}  // namespace heapsnap

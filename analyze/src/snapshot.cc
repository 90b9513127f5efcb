#include "heapsnap/analyze/snapshot.h"

#include <algorithm>
#include <memory>

#include "heapsnap/format/reader.h"

namespace heapsnap {
namespace {

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

std::optional<NodeIndex> Snapshot::FindAddress(uint64_t a) const {
  auto it = std::lower_bound(by_address.begin(), by_address.end(), std::make_pair(a, uint32_t{0}));
  if (it == by_address.end() || it->first != a) return std::nullopt;
  return NodeIndex(it->second);
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
  return FormatLabel(edge_label_kind[edge], edge_label_value[edge],
                     [this](StringId id) -> const std::string& { return String(id); });
}

StatusOr<Snapshot> LoadSnapshot(const std::string& path, const LoadOptions& options) {
  auto opened = SnapshotReader::Open(path);
  if (!opened.ok()) return opened.status();
  SnapshotReader& reader = **opened;
  Snapshot s;
  s.path = path;
  s.header = reader.header();
  std::vector<uint64_t> target_address;
  std::vector<RootRecord> roots;
  std::vector<SizeFixup> fixups;
  s.edge_begin.push_back(0);
  for (;;) {
    auto item = reader.Next();
    if (!item.ok()) return item.status();
    if (*item == SnapshotReader::Item::kEnd) break;
    switch (*item) {
      case SnapshotReader::Item::kObjects: {
        const ObjectBatch& b = reader.objects();
        // Continued edges belong to the previous object: appending in order keeps CSR intact.
        auto add_edges = [&](uint32_t from, uint32_t to) {
          for (uint32_t e = from; e < to; ++e) {
            const EdgeRecord& r = b.edges[e];
            target_address.push_back(r.target);
            s.edge_kind.push_back(r.kind);
            s.edge_label_kind.push_back(r.label_kind);
            s.edge_label_value.push_back(r.label_value);
          }
        };
        if (b.continued_edges > 0) {
          add_edges(0, b.continued_edges);
          s.edge_begin.back() = target_address.size();
        }
        for (size_t i = 0; i < b.objects.size(); ++i) {
          const ObjectRecord& o = b.objects[i];
          s.address.push_back(o.address);
          s.type.push_back(o.type);
          s.size.push_back(o.size);
          s.refcount.push_back(o.refcount);
          s.flags.push_back(o.flags);
          s.generation.push_back(static_cast<uint8_t>(o.generation));
          add_edges(b.edge_begin[i], b.edge_begin[i + 1]);
          s.edge_begin.push_back(target_address.size());
        }
        s.values.insert(s.values.end(), b.values.begin(), b.values.end());
        s.names.insert(s.names.end(), b.names.begin(), b.names.end());
        if (options.progress) options.progress(s.address.size());
        break;
      }
      case SnapshotReader::Item::kRoots:
        roots.insert(roots.end(), reader.roots().begin(), reader.roots().end());
        break;
      case SnapshotReader::Item::kSizeFixups:
        fixups.insert(fixups.end(), reader.size_fixups().begin(), reader.size_fixups().end());
        break;
      case SnapshotReader::Item::kEnd:
        break;
    }
  }
  if (s.address.size() > UINT32_MAX - 1) {
    return DataLoss(path + ": more objects than heapsnap can index (" +
                    std::to_string(s.address.size()) + ")");
  }
  s.strings = reader.TakeStrings();
  s.types = reader.TakeTypes();
  for (const SizeFixup& f : fixups) s.size[f.object_index] = f.size;

  s.by_address.resize(s.address.size());
  for (size_t i = 0; i < s.address.size(); ++i) {
    s.by_address[i] = {s.address[i], static_cast<uint32_t>(i)};
  }
  std::sort(s.by_address.begin(), s.by_address.end());
  for (size_t i = 1; i < s.by_address.size(); ++i) {
    if (s.by_address[i].first == s.by_address[i - 1].first) {
      return DataLoss(path + ": corrupt: two objects (#" +
                      std::to_string(s.by_address[i - 1].second) + " and #" +
                      std::to_string(s.by_address[i].second) + ") have address " +
                      Hex(s.by_address[i].first));
    }
  }
  s.edge_target.resize(target_address.size());
  uint32_t source = 0;
  for (size_t e = 0; e < target_address.size(); ++e) {
    while (s.edge_begin[source + 1] <= e) ++source;
    auto found = s.FindAddress(target_address[e]);
    if (!found) {
      return DataLoss(path + ": corrupt: object #" + std::to_string(source) + " at " +
                      Hex(s.address[source]) + " references " + Hex(target_address[e]) +
                      ", which is not in the snapshot");
    }
    s.edge_target[e] = found->value();
  }
  std::vector<uint64_t>().swap(target_address);
  for (const RootRecord& r : roots) {
    auto found = s.FindAddress(r.address);
    if (!found) {
      return DataLoss(path + ": corrupt: root '" + s.strings[r.label.value()] + "' names " +
                      Hex(r.address) + ", which is not in the snapshot");
    }
    s.roots.push_back({r.kind, *found, r.label, r.thread_id, r.depth, 0});
  }
  s.captured_roots = s.roots.size();
  ExternalReferences external = ComputeExternalReferences(s);
  for (uint32_t i = 0; i < s.object_count(); ++i) {
    if (external.count[i] > 0) {
      s.roots.push_back({RootKind::kExternal, NodeIndex(i), StringId(), 0, 0, external.count[i]});
    }
    if (s.flags[i] & object_flags::kImmortal) {
      s.roots.push_back({RootKind::kImmortal, NodeIndex(i), StringId(), 0, 0, 0});
    }
    if (s.flags[i] & object_flags::kFrozen) {
      s.roots.push_back({RootKind::kFrozen, NodeIndex(i), StringId(), 0, 0, 0});
    }
  }
  return s;
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

ExternalReferences ComputeExternalReferences(const Snapshot& s) {
  ExternalReferences out;
  const size_t n = s.object_count();
  std::vector<uint64_t> counted(n, 0);
  for (size_t e = 0; e < s.edge_count(); ++e) {
    if (s.edge_kind[e] == EdgeKind::kTraverse || s.edge_kind[e] == EdgeKind::kStrong) {
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

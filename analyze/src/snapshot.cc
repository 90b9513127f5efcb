#include "heapsnap/analyze/snapshot.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "heapsnap/base/hash.h"
#include "heapsnap/base/hex.h"
#include "heapsnap/base/huge_pages.h"
#include "heapsnap/format/reader.h"

namespace heapsnap {

std::optional<NodeIndex> Snapshot::FindAddress(uint64_t a) const {
  if (address_slots.empty()) return std::nullopt;
  const size_t mask = address_slots.size() - 1;
  for (size_t i = HashAddress(a) & mask;; i = (i + 1) & mask) {
    const uint32_t idx = address_slots[i];
    if (idx == UINT32_MAX) return std::nullopt;
    if (address[idx] == a) return NodeIndex(idx);
  }
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
      return String(StringId(static_cast<uint32_t>(LabelValue(edge))));
    case LabelKind::kDictKeyRef:
      // Checked by LoadSnapshot: within the same object, a kDictKeySelf edge.
      key_edge = edge + static_cast<uint64_t>(ZigZagDecode(LabelValue(edge)));
      break;
    case LabelKind::kDictKeySelf:
      break;
    default:
      return std::string();
  }
  const ValueRecord* v = Value(NodeIndex(edge_target[key_edge]));
  return v != nullptr ? QuoteKeyPreview(v->text, v->length) : "<str>";
}

StatusOr<Snapshot> LoadSnapshot(const std::string& path, const LoadOptions& options) {
  auto opened = SnapshotReader::Open(path);
  if (!opened.ok()) return opened.status();
  SnapshotReader& reader = **opened;
  Snapshot s;
  s.path = path;
  s.header = reader.header();
  std::vector<uint64_t> target_address;
  std::vector<uint64_t> key_refs;  // edges labelled kDictKeyRef, checked once all are loaded
  std::vector<RootRecord> roots;
  std::vector<SizeFixup> fixups;
  s.edge_begin.push_back(0);
  // Size the arrays once from the trailer's totals (bounded by the file size, since the file is
  // untrusted); growing them by doubling costs copies and page faults on big snapshots.
  if (auto totals = SnapshotReader::PeekTrailer(path); totals.ok()) {
    FILE* f = std::fopen(path.c_str(), "rb");
    uint64_t file_size = 0;
    if (f != nullptr && std::fseek(f, 0, SEEK_END) == 0)
      file_size = static_cast<uint64_t>(std::ftell(f));
    if (f != nullptr) std::fclose(f);
    const uint64_t objects = std::min(totals->objects, file_size);
    const uint64_t edges = std::min(totals->edges, file_size);
    ReserveHuge(s.address, objects);
    ReserveHuge(s.type, objects);
    ReserveHuge(s.size, objects);
    ReserveHuge(s.refcount, objects);
    ReserveHuge(s.flags, objects);
    ReserveHuge(s.generation, objects);
    ReserveHuge(s.edge_begin, objects + 1);
    ReserveHuge(target_address, edges);
    ReserveHuge(s.edge_kind, edges);
    ReserveHuge(s.edge_label_kind, edges);
    ReserveHuge(s.edge_label_value, edges);
  }
  // Decoding runs on a second thread, one batch ahead of the appending below.
  struct Decoded {
    SnapshotReader::Item item;
    ObjectBatch batch;
    std::vector<RootRecord> roots;
    std::vector<SizeFixup> fixups;
    Status status;
  };
  std::mutex mutex;
  std::condition_variable cv;
  std::deque<Decoded> ready;
  bool stop = false;
  std::thread decoder([&] {
    for (;;) {
      Decoded d;
      auto item = reader.Next();
      if (!item.ok()) {
        d.status = item.status();
        d.item = SnapshotReader::Item::kEnd;
      } else {
        d.item = *item;
        if (d.item == SnapshotReader::Item::kObjects) d.batch = reader.TakeObjects();
        if (d.item == SnapshotReader::Item::kRoots) d.roots = reader.TakeRoots();
        if (d.item == SnapshotReader::Item::kSizeFixups) d.fixups = reader.TakeSizeFixups();
      }
      const bool last = !item.ok() || d.item == SnapshotReader::Item::kEnd;
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return ready.size() < 3 || stop; });
      if (stop) return;
      ready.push_back(std::move(d));
      cv.notify_all();
      if (last) return;
    }
  });
  struct JoinOnExit {
    std::thread& t;
    std::mutex& m;
    std::condition_variable& cv;
    bool& stop;
    ~JoinOnExit() {
      {
        std::lock_guard<std::mutex> lock(m);
        stop = true;
      }
      cv.notify_all();
      t.join();
    }
  } join_on_exit{decoder, mutex, cv, stop};

  for (;;) {
    Decoded d;
    {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return !ready.empty(); });
      d = std::move(ready.front());
      ready.pop_front();
    }
    cv.notify_all();
    if (!d.status.ok()) return d.status;
    if (d.item == SnapshotReader::Item::kEnd) break;
    switch (d.item) {
      case SnapshotReader::Item::kObjects: {
        const ObjectBatch& b = d.batch;
        // Continued edges belong to the previous object: appending in order keeps CSR intact.
        auto add_edges = [&](uint32_t from, uint32_t to) {
          for (uint32_t e = from; e < to; ++e) {
            const EdgeRecord& r = b.edges[e];
            target_address.push_back(r.target);
            s.edge_kind.push_back(r.kind);
            if (r.label_kind == LabelKind::kDictKeyRef) key_refs.push_back(s.edge_kind.size() - 1);
            s.edge_label_kind.push_back(r.label_kind);
            if (r.label_value >= UINT32_MAX) {
              s.edge_label_overflow[s.edge_label_value.size()] = r.label_value;
              s.edge_label_value.push_back(UINT32_MAX);
            } else {
              s.edge_label_value.push_back(static_cast<uint32_t>(r.label_value));
            }
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
        roots.insert(roots.end(), d.roots.begin(), d.roots.end());
        break;
      case SnapshotReader::Item::kSizeFixups:
        fixups.insert(fixups.end(), d.fixups.begin(), d.fixups.end());
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
  // Every sum the analysis makes of sizes (retained sizes, totals per type) is a sum over some
  // of the objects, so a bounded total keeps them all exact; and gc_refs starts at a refcount,
  // which CPython keeps in a Py_ssize_t. A file that says otherwise lies.
  {
    constexpr uint64_t kMaxTotalBytes = uint64_t{1} << 56;  // 64 PiB: no process holds more
    constexpr uint64_t kMaxRefcount = uint64_t{INT64_MAX};
    uint64_t total = 0;
    for (size_t i = 0; i < s.address.size(); ++i) {
      if (s.refcount[i] > kMaxRefcount) {
        return DataLoss(path + ": corrupt: object #" + std::to_string(i) + " (" +
                        FormatAddress(s.address[i]) + ") has refcount " +
                        std::to_string(s.refcount[i]) + ", more than a Py_ssize_t holds");
      }
      if (s.size[i] > kMaxTotalBytes - total) {
        return DataLoss(path +
                        ": corrupt: the objects' sizes add up to more than 2^56 bytes (object #" +
                        std::to_string(i) + " at " + FormatAddress(s.address[i]) + " claims " +
                        std::to_string(s.size[i]) + ")");
      }
      total += s.size[i];
    }
  }

  {
    size_t slots = 16;
    while (slots < 2 * s.address.size()) slots *= 2;
    AssignHuge(s.address_slots, slots, UINT32_MAX);
    const size_t mask = slots - 1;
    const auto count = static_cast<uint32_t>(s.address.size());
    for (uint32_t i = 0; i < count; ++i) {
      if (i + 16 < count)
        __builtin_prefetch(&s.address_slots[HashAddress(s.address[i + 16]) & mask]);
      for (size_t k = HashAddress(s.address[i]) & mask;; k = (k + 1) & mask) {
        const uint32_t other = s.address_slots[k];
        if (other == UINT32_MAX) {
          s.address_slots[k] = i;
          break;
        }
        if (s.address[other] == s.address[i]) {
          return DataLoss(path + ": corrupt: two objects (#" + std::to_string(other) + " and #" +
                          std::to_string(i) + ") have address " + FormatAddress(s.address[i]));
        }
      }
    }
  }
  // Resolve targets in batches, prefetching the index slots and then the objects' addresses,
  // so that the cache misses of a batch overlap; the two halves of the edges on two threads
  // (the index is only read).
  ReserveHuge(s.edge_target, target_address.size());
  s.edge_target.resize(target_address.size());
  {
    auto resolve = [&s, &target_address](size_t from, size_t to) -> size_t {
      const size_t mask = s.address_slots.size() - 1;
      constexpr size_t kBatch = 32;
      size_t slot[kBatch];
      bool cached[kBatch];
      // Most edges lead to a few popular objects (classes, None, small ints, interned names):
      // a small direct-mapped cache answers those without touching the big index.
      constexpr size_t kCache = 4096;
      std::vector<std::pair<uint64_t, uint32_t>> cache(kCache, {0, UINT32_MAX});
      for (size_t base = from; base < to; base += kBatch) {
        const size_t end = std::min(to, base + kBatch);
        for (size_t e = base; e < end; ++e) {
          const uint64_t target = target_address[e];
          const auto& c = cache[(target >> 4) & (kCache - 1)];
          cached[e - base] = c.first == target && c.second != UINT32_MAX;
          if (cached[e - base]) {
            s.edge_target[e] = c.second;
            continue;
          }
          slot[e - base] = HashAddress(target) & mask;
          __builtin_prefetch(&s.address_slots[slot[e - base]]);
        }
        for (size_t e = base; e < end; ++e) {
          if (cached[e - base]) continue;
          const uint32_t idx = s.address_slots[slot[e - base]];
          if (idx != UINT32_MAX) __builtin_prefetch(&s.address[idx]);
        }
        for (size_t e = base; e < end; ++e) {
          if (cached[e - base]) continue;
          const uint64_t target = target_address[e];
          uint32_t found = UINT32_MAX;
          for (size_t k = slot[e - base];; k = (k + 1) & mask) {
            const uint32_t idx = s.address_slots[k];
            if (idx == UINT32_MAX) break;
            if (s.address[idx] == target) {
              found = idx;
              break;
            }
          }
          if (found == UINT32_MAX) return e;  // the first edge whose target is missing
          s.edge_target[e] = found;
          cache[(target >> 4) & (kCache - 1)] = {target, found};
        }
      }
      return SIZE_MAX;
    };
    const size_t m = target_address.size();
    size_t bad_second = SIZE_MAX;
    std::thread second([&] { bad_second = resolve(m / 2, m); });
    const size_t bad_first = resolve(0, m / 2);
    second.join();
    const size_t bad = std::min(bad_first, bad_second);
    if (bad != SIZE_MAX) {
      uint32_t source = 0;
      while (s.edge_begin[source + 1] <= bad) ++source;
      return DataLoss(path + ": corrupt: object #" + std::to_string(source) + " at " +
                      FormatAddress(s.address[source]) + " references " +
                      FormatAddress(target_address[bad]) + ", which is not in the snapshot");
    }
  }
  std::vector<uint64_t>().swap(target_address);
  for (uint64_t e : key_refs) {
    // The key edge must belong to the same object and be the key itself.
    const auto source = static_cast<uint64_t>(
        std::upper_bound(s.edge_begin.begin(), s.edge_begin.end(), e) - s.edge_begin.begin() - 1);
    const int64_t d = ZigZagDecode(s.LabelValue(e));
    const uint64_t k = e + static_cast<uint64_t>(d);
    if (d == 0 || k < s.edge_begin[source] || k >= s.edge_begin[source + 1] ||
        s.edge_label_kind[k] != LabelKind::kDictKeySelf) {
      return DataLoss(path + ": corrupt: object #" + std::to_string(source) + " at " +
                      FormatAddress(s.address[source]) + " has a dict key reference to edge " +
                      std::to_string(static_cast<long long>(k)) +
                      ", which is not one of its key edges");
    }
  }
  for (const RootRecord& r : roots) {
    auto found = s.FindAddress(r.address);
    if (!found) {
      return DataLoss(path + ": corrupt: root '" + s.strings[r.label.value()] + "' names " +
                      FormatAddress(r.address) + ", which is not in the snapshot");
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

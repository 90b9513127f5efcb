// LoadSnapshot (snapshot.h): a snapshot file read into the flat arrays of a Snapshot, checked
// as it goes, in named steps.
#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "address_index.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/bounded_queue.h"
#include "heapsnap/base/hex.h"
#include "heapsnap/base/huge_pages.h"
#include "heapsnap/format/reader.h"

namespace heapsnap {

namespace {

// What loading holds besides the snapshot until the whole file is read.
struct PendingLoad {
  std::vector<uint64_t> target_address;  // per edge, until resolved to an object index
  std::vector<uint64_t> key_refs;        // edges labelled kDictKeyRef, checked at the end
  std::vector<RootRecord> roots;
  std::vector<SizeFixup> fixups;
};

// Sizes the arrays once from the trailer's totals (bounded by the file size, since the file is
// untrusted); growing them by doubling costs copies and page faults on big snapshots.
void PresizeFromTrailer(SnapshotReader& reader, Snapshot* s, PendingLoad* p) {
  auto totals = reader.PeekTrailer();
  if (!totals.ok()) return;  // the full read reports what is wrong
  const uint64_t objects = std::min(totals->objects, reader.source_size());
  const uint64_t edges = std::min(totals->edges, reader.source_size());
  ReserveHuge(s->address, objects);
  ReserveHuge(s->type, objects);
  ReserveHuge(s->size, objects);
  ReserveHuge(s->refcount, objects);
  ReserveHuge(s->flags, objects);
  ReserveHuge(s->generation, objects);
  ReserveHuge(s->edge_begin, objects + 1);
  ReserveHuge(p->target_address, edges);
  ReserveHuge(s->edge_kind, edges);
  ReserveHuge(s->edge_label_kind, edges);
  ReserveHuge(s->edge_label_value, edges);
}

void AppendEdges(const ObjectBatch& b, uint32_t from, uint32_t to, Snapshot* s, PendingLoad* p) {
  for (uint32_t e = from; e < to; ++e) {
    const EdgeRecord& r = b.edges[e];
    p->target_address.push_back(r.target);
    s->edge_kind.push_back(r.kind);
    if (r.label_kind == LabelKind::kDictKeyRef) p->key_refs.push_back(s->edge_kind.size() - 1);
    s->edge_label_kind.push_back(r.label_kind);
    if (r.label_value >= UINT32_MAX) {
      s->edge_label_overflow[s->edge_label_value.size()] = r.label_value;
      s->edge_label_value.push_back(UINT32_MAX);
    } else {
      s->edge_label_value.push_back(static_cast<uint32_t>(r.label_value));
    }
  }
}

// Continued edges belong to the previous object: appending in order keeps CSR intact.
void AppendObjects(const ObjectBatch& b, Snapshot* s, PendingLoad* p) {
  if (b.continued_edges > 0) {
    AppendEdges(b, 0, b.continued_edges, s, p);
    s->edge_begin.back() = p->target_address.size();
  }
  for (size_t i = 0; i < b.objects.size(); ++i) {
    const ObjectRecord& o = b.objects[i];
    s->address.push_back(o.address);
    s->type.push_back(o.type);
    s->size.push_back(o.size);
    s->refcount.push_back(o.refcount);
    s->flags.push_back(o.flags);
    s->generation.push_back(static_cast<uint8_t>(o.generation));
    AppendEdges(b, b.edge_begin[i], b.edge_begin[i + 1], s, p);
    s->edge_begin.push_back(p->target_address.size());
  }
  s->values.insert(s->values.end(), b.values.begin(), b.values.end());
  s->names.insert(s->names.end(), b.names.begin(), b.names.end());
}

// One record's worth of what the reader hands out, passed from the decoder thread.
struct Decoded {
  SnapshotReader::Item item = SnapshotReader::Item::kEnd;
  ObjectBatch batch;
  std::vector<RootRecord> roots;
  std::vector<SizeFixup> fixups;
  Status status;
};

void DecodeAll(SnapshotReader& reader, BoundedQueue<Decoded>& out) {
  for (;;) {
    Decoded d;
    StatusOr<SnapshotReader::Item> item = reader.Next();
    if (!item.ok()) {
      d.status = item.status();
    } else {
      d.item = *item;
      if (d.item == SnapshotReader::Item::kObjects) d.batch = reader.TakeObjects();
      if (d.item == SnapshotReader::Item::kRoots) d.roots = reader.TakeRoots();
      if (d.item == SnapshotReader::Item::kSizeFixups) d.fixups = reader.TakeSizeFixups();
    }
    const bool last = !item.ok() || d.item == SnapshotReader::Item::kEnd;
    if (!out.Push(std::move(d)) || last) return;
  }
}

// Reads every record into the snapshot's columns. Decoding runs on a second thread, a few
// records ahead of the appending here.
Status ReadColumns(SnapshotReader& reader, const LoadOptions& options, Snapshot* s,
                   PendingLoad* p) {
  BoundedQueue<Decoded> decoded(3);
  std::thread decoder([&] { DecodeAll(reader, decoded); });
  struct StopDecoder {
    BoundedQueue<Decoded>& queue;
    std::thread& thread;
    ~StopDecoder() {
      queue.Cancel();
      thread.join();
    }
  } stop_decoder{decoded, decoder};
  s->edge_begin.push_back(0);
  while (std::optional<Decoded> d = decoded.Pop()) {
    decoded.Done();  // the decoder may start on the next record while this one is appended
    HEAPSNAP_RETURN_IF_ERROR(d->status);
    switch (d->item) {
      case SnapshotReader::Item::kObjects:
        AppendObjects(d->batch, s, p);
        if (options.progress) options.progress(s->address.size());
        break;
      case SnapshotReader::Item::kRoots:
        p->roots.insert(p->roots.end(), d->roots.begin(), d->roots.end());
        break;
      case SnapshotReader::Item::kSizeFixups:
        p->fixups.insert(p->fixups.end(), d->fixups.begin(), d->fixups.end());
        break;
      case SnapshotReader::Item::kEnd:
        return Status::Ok();
    }
  }
  return Internal(s->path + ": the decoder stopped before the end");
}

// Every sum the analysis makes of sizes (retained sizes, totals per type) is a sum over some
// of the objects, so a bounded total keeps them all exact; and gc_refs starts at a refcount,
// which CPython keeps in a Py_ssize_t. A file that says otherwise lies.
Status ApplySizeFixups(const std::vector<SizeFixup>& fixups, Snapshot* s) {
  for (const SizeFixup& f : fixups) s->size[f.object_index] = f.size;
  constexpr uint64_t kMaxTotalBytes = uint64_t{1} << 56;  // 64 PiB: no process holds more
  constexpr uint64_t kMaxRefcount = uint64_t{INT64_MAX};
  uint64_t total = 0;
  for (size_t i = 0; i < s->address.size(); ++i) {
    if (s->refcount[i] > kMaxRefcount) {
      return DataLoss(s->path + ": corrupt: object #" + std::to_string(i) + " (" +
                      FormatAddress(s->address[i]) + ") has refcount " +
                      std::to_string(s->refcount[i]) + ", more than a Py_ssize_t holds");
    }
    if (s->size[i] > kMaxTotalBytes - total) {
      return DataLoss(s->path +
                      ": corrupt: the objects' sizes add up to more than 2^56 bytes (object #" +
                      std::to_string(i) + " at " + FormatAddress(s->address[i]) + " claims " +
                      std::to_string(s->size[i]) + ")");
    }
    total += s->size[i];
  }
  return Status::Ok();
}

Status BuildAddressIndex(Snapshot* s) {
  if (auto duplicate = AddressIndex::Build(s)) {
    return DataLoss(s->path + ": corrupt: two objects (#" + std::to_string(duplicate->first) +
                    " and #" + std::to_string(duplicate->second) + ") have address " +
                    FormatAddress(s->address[duplicate->second]));
  }
  return Status::Ok();
}

// Edge targets from addresses to object indices: the two halves of the edges on two threads
// (the index is only read).
Status ResolveEdgeTargets(Snapshot* s, PendingLoad* p) {
  const std::vector<uint64_t>& targets = p->target_address;
  const size_t m = targets.size();
  ReserveHuge(s->edge_target, m);
  s->edge_target.resize(m);
  const AddressIndex index(*s);
  uint32_t* out = s->edge_target.data();
  size_t bad_second = SIZE_MAX;
  std::thread second([&] { bad_second = index.Resolve(targets, m / 2, m, out); });
  const size_t bad_first = index.Resolve(targets, 0, m / 2, out);
  second.join();
  const size_t bad = std::min(bad_first, bad_second);
  if (bad != SIZE_MAX) {
    uint32_t source = 0;
    while (s->edge_begin[source + 1] <= bad) ++source;
    return DataLoss(s->path + ": corrupt: object #" + std::to_string(source) + " at " +
                    FormatAddress(s->address[source]) + " references " +
                    FormatAddress(targets[bad]) + ", which is not in the snapshot");
  }
  std::vector<uint64_t>().swap(p->target_address);
  return Status::Ok();
}

// A kDictKeyRef edge names a kDictKeySelf edge of the same object: the key itself.
Status CheckKeyReferences(const std::vector<uint64_t>& key_refs, const Snapshot& s) {
  for (uint64_t e : key_refs) {
    const auto source = static_cast<uint64_t>(
        std::upper_bound(s.edge_begin.begin(), s.edge_begin.end(), e) - s.edge_begin.begin() - 1);
    const int64_t d = DecodeDictKeyRef(s.LabelValue(e));
    const uint64_t k = e + static_cast<uint64_t>(d);
    if (d == 0 || k < s.edge_begin[source] || k >= s.edge_begin[source + 1] ||
        s.edge_label_kind[k] != LabelKind::kDictKeySelf) {
      return DataLoss(s.path + ": corrupt: object #" + std::to_string(source) + " at " +
                      FormatAddress(s.address[source]) + " has a dict key reference to edge " +
                      std::to_string(static_cast<long long>(k)) +
                      ", which is not one of its key edges");
    }
  }
  return Status::Ok();
}

Status ResolveRoots(const std::vector<RootRecord>& roots, Snapshot* s) {
  for (const RootRecord& r : roots) {
    auto found = s->FindAddress(r.address);
    if (!found) {
      return DataLoss(s->path + ": corrupt: root '" + s->strings[r.label.value()] + "' names " +
                      FormatAddress(r.address) + ", which is not in the snapshot");
    }
    s->roots.push_back({r.kind, *found, r.label, r.thread_id, r.depth, 0});
  }
  s->captured_roots = s->roots.size();
  return Status::Ok();
}

// The roots FORMAT.md tells readers to derive: EXTERNAL, IMMORTAL and FROZEN.
void AddDerivedRoots(Snapshot* s) {
  const ExternalReferences external = ComputeExternalReferences(*s);
  for (uint32_t i = 0; i < s->object_count(); ++i) {
    if (external.count[i] > 0) {
      s->roots.push_back({RootKind::kExternal, NodeIndex(i), StringId(), 0, 0, external.count[i]});
    }
    if (s->flags[i] & object_flags::kImmortal) {
      s->roots.push_back({RootKind::kImmortal, NodeIndex(i), StringId(), 0, 0, 0});
    }
    if (s->flags[i] & object_flags::kFrozen) {
      s->roots.push_back({RootKind::kFrozen, NodeIndex(i), StringId(), 0, 0, 0});
    }
  }
}

}  // namespace

StatusOr<Snapshot> LoadSnapshot(const std::string& path, const LoadOptions& options) {
  HEAPSNAP_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  return LoadSnapshot(std::move(source), options);
}

StatusOr<Snapshot> LoadSnapshot(std::unique_ptr<ByteSource> source, const LoadOptions& options) {
  HEAPSNAP_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader,
                            SnapshotReader::Open(std::move(source)));
  Snapshot s;
  s.path = reader->path();
  s.header = reader->header();
  PendingLoad pending;
  PresizeFromTrailer(*reader, &s, &pending);
  HEAPSNAP_RETURN_IF_ERROR(ReadColumns(*reader, options, &s, &pending));
  if (s.address.size() > UINT32_MAX - 1) {
    return DataLoss(s.path + ": more objects than heapsnap can index (" +
                    std::to_string(s.address.size()) + ")");
  }
  s.strings = reader->TakeStrings();
  s.types = reader->TakeTypes();
  HEAPSNAP_RETURN_IF_ERROR(ApplySizeFixups(pending.fixups, &s));
  HEAPSNAP_RETURN_IF_ERROR(BuildAddressIndex(&s));
  HEAPSNAP_RETURN_IF_ERROR(ResolveEdgeTargets(&s, &pending));
  HEAPSNAP_RETURN_IF_ERROR(CheckKeyReferences(pending.key_refs, s));
  HEAPSNAP_RETURN_IF_ERROR(ResolveRoots(pending.roots, &s));
  AddDerivedRoots(&s);
  return s;
}

}  // namespace heapsnap

#include "heapsnap/analyze/summary.h"

#include <algorithm>
#include <set>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/format/reader.h"

namespace heapsnap {

namespace {

void SortTypes(std::vector<TypeTotal>* types) {
  std::sort(types->begin(), types->end(), [](const TypeTotal& a, const TypeTotal& b) {
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    if (a.count != b.count) return a.count > b.count;
    return a.qualname < b.qualname;
  });
}

}  // namespace

Summary SummarizeSnapshot(const Snapshot& snap) {
  Summary s;
  s.header = snap.header;
  s.edges = snap.edge_count();
  std::vector<uint64_t> count(snap.types.size(), 0);
  std::vector<uint64_t> bytes(snap.types.size(), 0);
  for (size_t i = 0; i < snap.object_count(); ++i) {
    const uint32_t f = snap.flags[i];
    if (f & object_flags::kSynthetic) {
      ++s.running_frames;
      continue;
    }
    ++s.objects;
    s.bytes += snap.size[i];
    ++count[snap.type[i].value()];
    bytes[snap.type[i].value()] += snap.size[i];
    if (f & object_flags::kGcTracked) ++s.gc_tracked;
    if (f & object_flags::kFrozen) ++s.frozen;
    if (f & object_flags::kImmortal) ++s.immortal;
    if (f & object_flags::kFinalized) ++s.finalized;
    if (f & object_flags::kInGcGarbage) ++s.in_gc_garbage;
  }
  std::set<uint64_t> threads;
  for (size_t r = 0; r < snap.captured_roots; ++r) {
    ++s.roots;
    if (snap.roots[r].thread_id != 0) threads.insert(snap.roots[r].thread_id);
  }
  s.threads = threads.size();
  for (size_t t = 1; t < snap.types.size(); ++t) {
    if (count[t] == 0) continue;
    s.types.push_back({TypeId(static_cast<uint32_t>(t)), snap.String(snap.types[t].name),
                       snap.String(snap.types[t].qualname), count[t], bytes[t], 0});
  }
  SortTypes(&s.types);
  return s;
}

StatusOr<Summary> Summarize(const std::string& path) {
  auto opened = SnapshotReader::Open(path);
  if (!opened.ok()) return opened.status();
  SnapshotReader& reader = **opened;
  Summary s;
  s.header = reader.header();
  // Per type id: count and bytes. Sizes fixed after the walk need the object's type and old
  // size, kept only for objects that can still get a fixup (types with a deferred __sizeof__
  // are not known here, so keep a compact per-object record of type and size).
  std::vector<uint64_t> count(1, 0);
  std::vector<uint64_t> bytes(1, 0);
  std::vector<uint32_t> object_type;
  std::vector<uint64_t> object_size;
  std::set<uint64_t> threads;
  for (;;) {
    auto item = reader.Next();
    if (!item.ok()) return item.status();
    if (*item == SnapshotReader::Item::kEnd) break;
    if (*item == SnapshotReader::Item::kObjects) {
      const ObjectBatch& b = reader.objects();
      if (count.size() <= reader.type_count()) {
        count.resize(reader.type_count() + 1, 0);
        bytes.resize(reader.type_count() + 1, 0);
      }
      s.edges += b.edges.size();
      for (const ObjectRecord& o : b.objects) {
        object_type.push_back(o.type.value());
        object_size.push_back(o.size);
        if (o.flags & object_flags::kSynthetic) {
          ++s.running_frames;
          continue;
        }
        ++s.objects;
        s.bytes += o.size;
        ++count[o.type.value()];
        bytes[o.type.value()] += o.size;
        if (o.flags & object_flags::kGcTracked) ++s.gc_tracked;
        if (o.flags & object_flags::kFrozen) ++s.frozen;
        if (o.flags & object_flags::kImmortal) ++s.immortal;
        if (o.flags & object_flags::kFinalized) ++s.finalized;
        if (o.flags & object_flags::kInGcGarbage) ++s.in_gc_garbage;
      }
    } else if (*item == SnapshotReader::Item::kRoots) {
      s.roots += reader.roots().size();
      for (const RootRecord& r : reader.roots()) {
        if (r.thread_id != 0) threads.insert(r.thread_id);
      }
    } else if (*item == SnapshotReader::Item::kSizeFixups) {
      for (const SizeFixup& f : reader.size_fixups()) {
        uint32_t t = object_type[f.object_index];
        uint64_t old = object_size[f.object_index];
        object_size[f.object_index] = f.size;
        if (reader.type(TypeId(t)).flags & type_flags::kSynthetic) continue;
        bytes[t] = bytes[t] - old + f.size;
        s.bytes = s.bytes - old + f.size;
      }
    }
  }
  // Synthetic running frames are reported separately; on 3.8-3.10 running frames are
  // ordinary frame objects and counted as objects.
  s.threads = threads.size();
  for (size_t t = 1; t < count.size(); ++t) {
    if (count[t] == 0) continue;
    const TypeRecord& type = reader.type(TypeId(static_cast<uint32_t>(t)));
    s.types.push_back({TypeId(static_cast<uint32_t>(t)), reader.string(type.name),
                       reader.string(type.qualname), count[t], bytes[t], 0});
  }
  SortTypes(&s.types);
  return s;
}

void AddAnalysis(const Analysis& a, Summary* s) {
  s->analyzed = true;
  s->unreachable_objects = a.collector.unreachable_objects;
  s->unreachable_bytes = a.collector.unreachable_bytes;
  s->unreachable_retained_bytes = a.garbage_retained_bytes;
  s->unreachable_retained_objects = a.garbage_retained_objects;
  s->unreachable_cycles = a.garbage_cycles;
  s->inconsistent_objects = a.collector.inconsistent_objects;
  const Snapshot& snap = a.snapshot();
  for (size_t r = snap.captured_roots; r < snap.roots.size(); ++r) {
    if (snap.roots[r].kind == RootKind::kExternal) {
      ++s->external_objects;
      s->external_references += snap.roots[r].count;
    }
  }
  for (TypeTotal& t : s->types) {
    if (t.id.value() < a.types.size()) t.retained_bytes = a.types[t.id.value()].retained_bytes;
  }
}

}  // namespace heapsnap

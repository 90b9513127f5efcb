#include "heapsnap/analyze/summary.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/snapshot.h"

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

std::string CaptureTimeText(int64_t unix_ns) {
  if (unix_ns == 0) return "";
  const auto t = static_cast<std::time_t>(unix_ns / 1000000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string ShortPythonVersion(uint32_t hexversion) {
  return std::to_string(hexversion >> 24) + "." + std::to_string((hexversion >> 16) & 0xff) + "." +
         std::to_string((hexversion >> 8) & 0xff);
}

std::string CaptureCause(const std::string& reason) {
  if (reason == "exit") return "at exit";
  if (reason == "dump") return "by heapsnap.dump()";
  if (reason == "fork") return "by heapsnap.dump(fork=True)";
  if (reason == "signal") return "on a signal";
  if (reason == "periodic") return "periodically";
  if (reason == "attach") return "by attaching (heapsnap capture --pid)";
  return "(" + reason + ")";
}

}  // namespace heapsnap

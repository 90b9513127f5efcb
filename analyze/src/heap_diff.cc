#include "heapsnap/analyze/heap_diff.h"

#include <algorithm>

#include "detectors/detector_util.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/base/hash.h"
#include "heapsnap/base/hex.h"

namespace heapsnap {

uint64_t GroupFingerprint(uint64_t shape_fingerprint, std::string_view type_qualname) {
  const uint64_t h = StableHash(" -> ", shape_fingerprint);
  return StableHash(type_qualname, h);
}

uint64_t GarbageShapeFingerprint() {
  // As a root of that text would hash (PathShapes::Fingerprint): 'R', then the text.
  return StableHash(kGarbagePathText, StableHash("R"));
}

std::string FingerprintHex(uint64_t fingerprint) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, fingerprint >>= 4) out[i] = kHexDigits[fingerprint & 0xF];
  return out;
}

namespace {

uint64_t ShapeFingerprint(const PathShapes& shapes, uint32_t shape) {
  return shape == kNoShape ? GarbageShapeFingerprint() : shapes.Fingerprint(shape);
}

int64_t Delta(uint64_t last, uint64_t first) {
  return static_cast<int64_t>(last) - static_cast<int64_t>(first);
}

// The group of every object (by fingerprint), and the groups' totals.
std::vector<uint64_t> GroupObjects(const Analysis& a, const PathShapes& shapes, HeapProfile* p) {
  const Snapshot& s = a.snapshot();
  const auto n = static_cast<uint32_t>(s.object_count());
  std::vector<uint64_t> group_of(n);
  // The type's part of the hash once per type, not once per object.
  std::unordered_map<uint64_t, uint64_t> fingerprint_of;  // (shape, type) -> group
  for (uint32_t v = 0; v < n; ++v) {
    const NodeIndex node(v);
    const uint32_t shape = shapes.Of(node);
    const uint64_t key = (uint64_t{shape} << 32) | s.type[v].value();
    auto [it, added] = fingerprint_of.emplace(key, 0);
    if (added) it->second = GroupFingerprint(ShapeFingerprint(shapes, shape), s.TypeQualname(node));
    group_of[v] = it->second;
    GroupTotals& g = p->groups[it->second];
    if (g.count == 0 || a.retained[v] > a.retained[g.example.value()]) g.example = node;
    ++g.count;
    g.bytes += s.size[v];
    if (shape == kNoShape) {
      ++p->unreachable_objects;
      p->unreachable_bytes += s.size[v];
    } else {
      ++p->live_objects;
      p->live_bytes += s.size[v];
    }
  }
  return group_of;
}

}  // namespace

HeapProfile ProfileHeap(const Analysis& a, const PathShapes& shapes) {
  const Snapshot& s = a.snapshot();
  HeapProfile p;
  const std::vector<uint64_t> group_of = GroupObjects(a, shapes, &p);
  // Containers alone in their group: the same container in every snapshot that has the group.
  for (uint32_t v = 0; v < group_of.size(); ++v) {
    if (p.groups[group_of[v]].count != 1 || shapes.Of(NodeIndex(v)) == kNoShape) continue;
    const uint64_t length = detect::ContainerLength(s, NodeIndex(v));
    if (length > 0) p.containers[group_of[v]] = {length, a.retained[v], NodeIndex(v)};
  }
  for (size_t t = 1; t < a.types.size(); ++t) {
    const TypeRetained& r = a.types[t];
    if (r.count == 0) continue;
    TypeTotals& totals = p.types[s.String(s.types[t].qualname)];  // same-named types add up
    totals.count += r.count;
    totals.bytes += r.self_bytes;
    totals.retained_bytes += r.retained_bytes;
  }
  return p;
}

namespace {

std::vector<TypeDelta> TypeDeltas(const HeapProfile& first, const HeapProfile& last) {
  std::vector<TypeDelta> out;
  const TypeTotals none;
  auto add = [&](const std::string& type, const TypeTotals& f, const TypeTotals& l) {
    TypeDelta d{type, l.count, Delta(l.count, f.count), Delta(l.bytes, f.bytes),
                Delta(l.retained_bytes, f.retained_bytes)};
    if (d.count_delta != 0 || d.bytes_delta != 0 || d.retained_bytes_delta != 0) out.push_back(d);
  };
  for (const auto& [type, l] : last.types) {
    auto it = first.types.find(type);
    add(type, it != first.types.end() ? it->second : none, l);
  }
  for (const auto& [type, f] : first.types) {
    if (last.types.count(type) == 0) add(type, f, none);
  }
  std::sort(out.begin(), out.end(), [](const TypeDelta& x, const TypeDelta& y) {
    if (x.bytes_delta != y.bytes_delta) return x.bytes_delta > y.bytes_delta;
    if (x.count_delta != y.count_delta) return x.count_delta > y.count_delta;
    return x.type < y.type;
  });
  return out;
}

// Per snapshot, the group's totals (zero where it had none); whether it rose by `min_growth`
// in every interval.
bool GrewEveryInterval(const std::vector<uint64_t>& values, uint64_t min_growth) {
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] < values[i - 1] || values[i] - values[i - 1] < min_growth) return false;
  }
  return true;
}

GroupGrowth DescribeGroup(const Analysis& last, const PathShapes& shapes, uint64_t fingerprint,
                          NodeIndex example) {
  GroupGrowth g;
  g.fingerprint = fingerprint;
  g.type = last.snapshot().TypeQualname(example);
  g.example = example;
  const uint32_t shape = shapes.Of(example);
  if (shape == kNoShape) {
    g.path = {kGarbagePathText};
  } else {
    g.path = shapes.Steps(shape);
  }
  for (const std::string& step : g.path) g.path_text += step;
  g.path_text += " -> " + g.type;
  return g;
}

}  // namespace

HeapDiff DiffHeaps(const std::vector<HeapProfile>& profiles, const Analysis& last,
                   const PathShapes& last_shapes, const DiffOptions& options) {
  HeapDiff d;
  d.snapshots = profiles.size();
  const HeapProfile& first = profiles.front();
  const HeapProfile& final = profiles.back();
  d.types = TypeDeltas(first, final);
  d.live_objects_delta = Delta(final.live_objects, first.live_objects);
  d.live_bytes_delta = Delta(final.live_bytes, first.live_bytes);
  d.unreachable_objects_delta = Delta(final.unreachable_objects, first.unreachable_objects);

  const uint64_t min_growth = std::max<uint64_t>(options.min_growth, 1);
  std::vector<uint64_t> counts(profiles.size());
  std::vector<uint64_t> bytes(profiles.size());
  for (const auto& [fingerprint, totals] : final.groups) {
    for (size_t i = 0; i < profiles.size(); ++i) {
      auto it = profiles[i].groups.find(fingerprint);
      counts[i] = it != profiles[i].groups.end() ? it->second.count : 0;
      bytes[i] = it != profiles[i].groups.end() ? it->second.bytes : 0;
    }
    if (counts.back() <= counts.front() && bytes.back() <= bytes.front()) continue;
    GroupGrowth g = DescribeGroup(last, last_shapes, fingerprint, totals.example);
    g.growing = GrewEveryInterval(counts, min_growth);
    g.counts = counts;
    g.bytes = bytes;
    g.count_delta = Delta(counts.back(), counts.front());
    g.bytes_delta = Delta(bytes.back(), bytes.front());
    d.grown.push_back(std::move(g));
  }
  std::sort(d.grown.begin(), d.grown.end(), [](const GroupGrowth& x, const GroupGrowth& y) {
    if (x.bytes_delta != y.bytes_delta) return x.bytes_delta > y.bytes_delta;
    if (x.count_delta != y.count_delta) return x.count_delta > y.count_delta;
    return x.fingerprint < y.fingerprint;
  });
  // Full paths cost their length each: the first kMaxFullPaths only (a path folded to its
  // shape is always there).
  size_t described = 0;
  for (GroupGrowth& g : d.grown) {
    if (!g.growing) continue;
    if (described++ == kMaxFullPaths) break;
    g.example_path = PathText(last, last.PathTo(g.example));
  }

  std::vector<uint64_t> lengths(profiles.size());
  for (const auto& [fingerprint, totals] : final.containers) {
    bool everywhere = true;
    for (size_t i = 0; i < profiles.size() && everywhere; ++i) {
      auto it = profiles[i].containers.find(fingerprint);
      everywhere = it != profiles[i].containers.end();
      if (everywhere) lengths[i] = it->second.length;
    }
    if (!everywhere || !GrewEveryInterval(lengths, min_growth)) continue;
    GrownContainer c;
    c.fingerprint = fingerprint;
    c.type = last.snapshot().TypeQualname(totals.node);
    c.lengths = lengths;
    c.retained_bytes = totals.retained_bytes;
    c.retained_bytes_delta =
        Delta(totals.retained_bytes, first.containers.at(fingerprint).retained_bytes);
    c.node = totals.node;
    d.containers.push_back(std::move(c));
  }
  std::sort(d.containers.begin(), d.containers.end(),
            [](const GrownContainer& x, const GrownContainer& y) {
              if (x.retained_bytes_delta != y.retained_bytes_delta) {
                return x.retained_bytes_delta > y.retained_bytes_delta;
              }
              return x.fingerprint < y.fingerprint;
            });
  if (d.containers.size() > kMaxFullPaths) d.containers.resize(kMaxFullPaths);
  for (GrownContainer& c : d.containers) c.path_text = PathText(last, last.PathTo(c.node));
  return d;
}

}  // namespace heapsnap

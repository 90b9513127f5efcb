#include "heapsnap/analyze/heap_diff.h"

#include <algorithm>
#include <cstdlib>

#include "detectors/detector_util.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/base/hash.h"
#include "heapsnap/base/hex.h"

namespace heapsnap {

uint64_t GroupFingerprint(uint64_t shape_fingerprint, std::string_view type_qualname) {
  const uint64_t h = StableHash(type_qualname, StableHash(" -> ", shape_fingerprint));
  return h == 0 ? 1 : h;  // 0 stands for "no group"
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

int64_t Delta(uint64_t last, uint64_t first) {
  return static_cast<int64_t>(last) - static_cast<int64_t>(first);
}

// Objects the interpreter shares and keeps for its whole life: immortal objects (3.12+) and the
// small ints (-5..256, cached on every version). Nothing a program does adds to them, but
// their shortest path moves from one holder to another as the heap changes (the int 64 is
// sys.hash_info[0] in one snapshot, some object's .n in the next), so counting them would
// make groups rise and fall by one at random. They are left out of the groups.
bool SharedConstant(const Snapshot& s, const std::vector<uint8_t>& is_int, uint32_t v) {
  if (s.flags[v] & object_flags::kImmortal) return true;
  if (!is_int[s.type[v].value()] || s.size[v] > 32) return false;
  const ValueRecord* value = s.Value(NodeIndex(v));
  if (value == nullptr || value->text.empty() || value->text.size() > 4) return false;
  char* end = nullptr;
  const long n = std::strtol(value->text.c_str(), &end, 10);
  return *end == '\0' && n >= -5 && n <= 256;
}

// The groups of one snapshot, found object by object. An object's group is its shape's, when
// the shape has one type (nearly always): a vector lookup, no hashing per object.
class Grouper {
 public:
  Grouper(const Analysis& a, const PathShapes& shapes) : a_(a), shapes_(shapes) {}

  static constexpr uint32_t kNone = UINT32_MAX;

  uint32_t SlotOf(uint32_t v) {
    const Snapshot& s = a_.snapshot();
    const uint32_t shape = shapes_.Of(NodeIndex(v));
    const uint32_t type = s.type[v].value();
    const size_t index = shape == kNoShape ? 0 : size_t{shape} + 1;
    if (index >= by_shape_.size())
      by_shape_.resize(std::max(index + 1, by_shape_.size() * 2), kNone);
    uint32_t slot = by_shape_[index];
    if (slot != kNone && slot_type_[slot] == type) return slot;
    auto [it, added] = by_key_.emplace((uint64_t{shape} << 32) | type, 0);
    if (added) {
      it->second = static_cast<uint32_t>(totals_.size());
      totals_.emplace_back();
      slot_type_.push_back(type);
      const uint64_t shape_fingerprint =
          shape == kNoShape ? GarbageShapeFingerprint() : shapes_.Fingerprint(shape);
      fingerprints_.push_back(GroupFingerprint(shape_fingerprint, s.TypeQualname(NodeIndex(v))));
    }
    slot = it->second;
    if (by_shape_[index] == kNone) by_shape_[index] = slot;
    return slot;
  }

  void Add(uint32_t slot, uint32_t v) {
    GroupTotals& g = totals_[slot];
    if (g.count == 0 || a_.retained[v] > a_.retained[g.example.value()]) g.example = NodeIndex(v);
    ++g.count;
    g.bytes += a_.snapshot().size[v];
  }

  const GroupTotals& totals(uint32_t slot) const { return totals_[slot]; }
  uint64_t fingerprint(uint32_t slot) const { return fingerprints_[slot]; }
  size_t size() const { return totals_.size(); }

 private:
  const Analysis& a_;
  const PathShapes& shapes_;
  std::vector<uint32_t> by_shape_;  // 1 + shape (0: garbage) -> the slot of its first type
  std::unordered_map<uint64_t, uint32_t> by_key_;  // (shape, type) -> slot
  std::vector<uint32_t> slot_type_;
  std::vector<GroupTotals> totals_;
  std::vector<uint64_t> fingerprints_;
};

}  // namespace

HeapProfile ProfileHeap(const Analysis& a, const PathShapes& shapes) {
  const Snapshot& s = a.snapshot();
  HeapProfile p;
  std::vector<uint8_t> is_int(s.types.size(), 0);
  for (size_t t = 1; t < s.types.size(); ++t) is_int[t] = s.String(s.types[t].qualname) == "int";
  const auto n = static_cast<uint32_t>(s.object_count());
  Grouper grouper(a, shapes);
  std::vector<uint32_t> slot_of(n, Grouper::kNone);
  for (uint32_t v = 0; v < n; ++v) {
    if (SharedConstant(s, is_int, v)) continue;
    slot_of[v] = grouper.SlotOf(v);
    grouper.Add(slot_of[v], v);
    const bool live = shapes.Of(NodeIndex(v)) != kNoShape;
    (live ? p.live_objects : p.unreachable_objects) += 1;
    (live ? p.live_bytes : p.unreachable_bytes) += s.size[v];
  }
  p.groups.reserve(grouper.size());
  for (uint32_t slot = 0; slot < grouper.size(); ++slot) {
    GroupTotals& g = p.groups[grouper.fingerprint(slot)];  // a hash collision adds up
    const GroupTotals& t = grouper.totals(slot);
    if (g.count == 0 || a.retained[t.example.value()] > a.retained[g.example.value()]) {
      g.example = t.example;
    }
    g.count += t.count;
    g.bytes += t.bytes;
  }
  // Containers alone in their group: the same container in every snapshot that has the group.
  for (uint32_t v = 0; v < n; ++v) {
    const uint32_t slot = slot_of[v];
    if (slot == Grouper::kNone || grouper.totals(slot).count != 1 ||
        shapes.Of(NodeIndex(v)) == kNoShape) {
      continue;
    }
    const uint64_t length = detect::ContainerLength(s, NodeIndex(v));
    if (length > 0) p.containers[grouper.fingerprint(slot)] = {length, a.retained[v], NodeIndex(v)};
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

// The shape's steps and text (a shape shows at most 2 * kShownSteps steps: O(1) per group).
void Describe(const PathShapes& shapes, GroupGrowth* g) {
  const uint32_t shape = shapes.Of(g->example);
  g->path = shape == kNoShape ? std::vector<std::string>{kGarbagePathText} : shapes.Steps(shape);
  for (const std::string& step : g->path) g->path_text += step;
  g->path_text += " -> " + g->type;
  g->described = true;
}

// Full paths, nothing folded, cost their length each: they are rendered while the steps walked
// stay within a budget, so that a heap of a million different deep paths costs O(n), not
// O(n * depth).
class FullPaths {
 public:
  explicit FullPaths(const Analysis& a) : a_(a) {}
  std::string Of(NodeIndex node) {
    if (steps_ > kBudget) return "";
    const RetainerPath p = a_.PathTo(node);
    steps_ += p.steps.size() + 1;
    return PathText(a_, p);
  }

 private:
  static constexpr uint64_t kBudget = uint64_t{1} << 18;
  const Analysis& a_;
  uint64_t steps_ = 0;
};

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
    GroupGrowth g;
    g.fingerprint = fingerprint;
    g.type = last.snapshot().TypeQualname(totals.example);
    g.example = totals.example;
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
  size_t growing_described = 0;
  size_t others_described = 0;
  FullPaths full_paths(last);
  for (GroupGrowth& g : d.grown) {
    d.growing_count += g.growing;
    size_t& described = g.growing ? growing_described : others_described;
    if (described == kMaxDescribedGroups) continue;
    ++described;
    Describe(last_shapes, &g);
    if (g.growing && growing_described <= kMaxFullPaths) g.example_path = full_paths.Of(g.example);
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
  for (GrownContainer& c : d.containers) c.path_text = full_paths.Of(c.node);
  return d;
}

}  // namespace heapsnap

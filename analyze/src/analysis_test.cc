#include "heapsnap/analyze/analysis.h"

#include <random>
#include <set>

#include "gtest/gtest.h"
#include "heapsnap/analyze/path_shapes.h"
#include "heapsnap/analyze/paths.h"
#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::TestObject;
using testing::WriteTestSnapshot;

constexpr uint32_t kTracked = object_flags::kGcTracked | object_flags::kGcType;

Snapshot Load(const std::string& path) {
  auto s = LoadSnapshot(path);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

// A heap with random objects, edge kinds and flags; refcounts are what the edges explain plus,
// for some objects, references from outside.
std::vector<TestObject> RandomHeap(std::mt19937& rng, uint32_t n) {
  std::vector<TestObject> objects(n);
  static const char* kTypes[] = {"A", "B", "C"};
  for (uint32_t i = 0; i < n; ++i) {
    objects[i].address = 0x10000 + 64 * i;
    objects[i].type = kTypes[rng() % 3];
    objects[i].size = 16 + rng() % 100;
    const uint32_t r = rng() % 100;
    objects[i].flags = r < 80   ? kTracked
                       : r < 88 ? 0
                       : r < 94 ? (kTracked | object_flags::kFrozen)
                                : (object_flags::kImmortal);
    objects[i].refcount = rng() % 5 == 0 ? 1 + rng() % 2 : 0;  // from outside
  }
  const uint32_t m = rng() % (3 * n + 1);
  for (uint32_t k = 0; k < m; ++k) {
    const uint32_t a = rng() % n;
    const uint32_t b = rng() % n;
    const uint32_t r = rng() % 100;
    EdgeKind kind = r < 70   ? EdgeKind::kTraverse
                    : r < 85 ? EdgeKind::kStrong
                    : r < 95 ? EdgeKind::kWeak
                             : EdgeKind::kBorrowed;
    objects[a].edges.emplace_back(objects[b].address, kind);
    if (Retains(kind)) ++objects[b].refcount;
  }
  return objects;
}

// The collector as a fixpoint, written from its definition rather than CPython's algorithm: a
// candidate lives if something outside the candidates' tp_traverse edges refers to it, or a
// living candidate's tp_traverse edge does.
std::vector<uint8_t> ReferenceUnreachable(const std::vector<TestObject>& objects) {
  const size_t n = objects.size();
  auto index_of = [&](uint64_t address) { return (address - 0x10000) / 64; };
  std::vector<uint8_t> candidate(n);
  for (size_t i = 0; i < n; ++i) {
    candidate[i] = (objects[i].flags & object_flags::kGcTracked) &&
                   !(objects[i].flags & (object_flags::kFrozen | object_flags::kImmortal));
  }
  std::vector<uint64_t> internal(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!candidate[i]) continue;
    for (const auto& [target, kind] : objects[i].edges) {
      if (kind == EdgeKind::kTraverse && candidate[index_of(target)]) ++internal[index_of(target)];
    }
  }
  std::vector<uint8_t> live(n, 0);
  for (size_t i = 0; i < n; ++i) live[i] = candidate[i] && objects[i].refcount > internal[i];
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < n; ++i) {
      if (!live[i]) continue;
      for (const auto& [target, kind] : objects[i].edges) {
        size_t t = index_of(target);
        if (kind == EdgeKind::kTraverse && candidate[t] && !live[t]) {
          live[t] = 1;
          changed = true;
        }
      }
    }
  }
  std::vector<uint8_t> unreachable(n);
  for (size_t i = 0; i < n; ++i) unreachable[i] = candidate[i] && !live[i];
  return unreachable;
}

TEST(Collector, MatchesTheDefinitionOnRandomHeaps) {
  std::mt19937 rng(3);
  uint64_t total = 0;
  for (int round = 0; round < 300; ++round) {
    auto objects = RandomHeap(rng, 1 + rng() % 60);
    Snapshot s = Load(WriteTestSnapshot("collector", objects));
    CollectorResult r = ReproduceCollector(s);
    ASSERT_EQ(r.unreachable, ReferenceUnreachable(objects)) << "round " << round;
    EXPECT_EQ(r.inconsistent_objects, 0u);
    total += r.unreachable_objects;
  }
  EXPECT_GT(total, 100u);  // the random heaps do contain garbage
}

// Objects that become unreachable from `sources` when `removed` is taken away, and it.
std::set<uint32_t> BruteRetained(const Snapshot& s, const std::vector<uint32_t>& sources,
                                 uint32_t removed) {
  auto reach = [&](uint32_t skip) {
    std::vector<uint8_t> seen(s.object_count(), 0);
    std::vector<uint32_t> stack;
    for (uint32_t v : sources) {
      if (v != skip && !seen[v]) {
        seen[v] = 1;
        stack.push_back(v);
      }
    }
    while (!stack.empty()) {
      uint32_t v = stack.back();
      stack.pop_back();
      for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
        uint32_t t = s.edge_target[e];
        if (Retains(s.edge_kind[e]) && t != skip && !seen[t]) {
          seen[t] = 1;
          stack.push_back(t);
        }
      }
    }
    return seen;
  };
  std::vector<uint8_t> all = reach(UINT32_MAX);
  std::vector<uint8_t> without = reach(removed);
  std::set<uint32_t> freed;
  for (uint32_t v = 0; v < s.object_count(); ++v) {
    if (all[v] && !without[v]) freed.insert(v);
  }
  return freed;
}

TEST(Analysis, RetainedSizesMatchBruteForce) {
  std::mt19937 rng(5);
  for (int round = 0; round < 150; ++round) {
    const uint32_t n = 2 + rng() % 40;
    // Live heaps only: every object hangs off object 0, which sys.modules holds.
    std::vector<TestObject> objects(n);
    static const char* kTypes[] = {"A", "B"};
    for (uint32_t i = 0; i < n; ++i) {
      objects[i] = {0x10000 + 64 * i, kTypes[rng() % 2], 8 + rng() % 50, 0, {}, kTracked};
      if (i > 0) {
        objects[rng() % i].edges.emplace_back(objects[i].address, EdgeKind::kTraverse);
        ++objects[i].refcount;
      }
    }
    for (uint32_t k = 0; k < rng() % (uint64_t{2} * n); ++k) {
      uint32_t a = rng() % n;
      uint32_t b = rng() % n;
      EdgeKind kind = rng() % 4 == 0 ? EdgeKind::kWeak : EdgeKind::kStrong;
      objects[a].edges.emplace_back(objects[b].address, kind);
      if (Retains(kind)) ++objects[b].refcount;
    }
    objects[0].refcount += 1;  // sys.modules' reference is C's
    Snapshot s = Load(WriteTestSnapshot(
        "retained", objects, {{RootKind::kModules, objects[0].address, StringId(), 0, 0}}));
    Analysis a = Analyze(s);
    ASSERT_EQ(a.collector.unreachable_objects, 0u);
    std::vector<uint32_t> sources = {0};
    for (uint32_t v = 0; v < n; ++v) {
      uint64_t expected = 0;
      for (uint32_t u : BruteRetained(s, sources, v)) expected += s.size[u];
      ASSERT_EQ(a.retained[v], expected) << "round " << round << " object " << v;
    }
    // Per type: the union of what each instance retains, counted once.
    for (uint32_t t = 1; t < s.types.size(); ++t) {
      std::set<uint32_t> freed;
      for (uint32_t v = 0; v < n; ++v) {
        if (s.type[v].value() != t) continue;
        for (uint32_t u : BruteRetained(s, sources, v)) freed.insert(u);
      }
      uint64_t expected = 0;
      for (uint32_t u : freed) expected += s.size[u];
      ASSERT_EQ(a.types[t].retained_bytes, expected) << "round " << round << " type " << t;
    }
  }
}

TEST(Analysis, GarbageCyclesAreReportedAsSuch) {
  // 0x100 <-> 0x200 is garbage and alone holds 0x300 (an untracked str); 0x400 is live.
  std::vector<TestObject> objects = {
      {0x100, "Node", 50, 1, {{0x200, EdgeKind::kTraverse}, {0x300, EdgeKind::kStrong}}, kTracked},
      {0x200, "Node", 50, 1, {{0x100, EdgeKind::kTraverse}}, kTracked},
      {0x300, "str", 70, 1, {}, 0},
      {0x400, "dict", 30, 1, {{0x500, EdgeKind::kTraverse}}, kTracked},
      {0x500, "Node", 50, 1, {}, kTracked},
  };
  Snapshot s =
      Load(WriteTestSnapshot("garbage", objects, {{RootKind::kModules, 0x400, StringId(), 0, 0}}));
  Analysis a = Analyze(s);
  EXPECT_EQ(a.collector.unreachable_objects, 2u);
  EXPECT_EQ(a.collector.unreachable_bytes, 100u);
  ASSERT_EQ(a.garbage_groups.size(), 1u);
  EXPECT_TRUE(a.garbage_groups[0].cycle);
  EXPECT_EQ(a.garbage_groups[0].members.size(), 2u);
  EXPECT_EQ(a.garbage_groups[0].retained_bytes, 170u);
  EXPECT_EQ(a.garbage_retained_bytes, 170u);
  EXPECT_EQ(a.garbage_cycles, 1u);
  EXPECT_EQ(a.retained[a.super_root()], 250u);
  RetainerPath p = a.PathTo(NodeIndex(0));
  EXPECT_TRUE(p.garbage);
  EXPECT_FALSE(p.found);
  // Live objects are not merged with garbage: the Node type's retained size counts 0x500 and
  // the two garbage nodes (each dominated by the garbage pseudo-root), no more.
  EXPECT_EQ(a.types[s.type[4].value()].retained_bytes, 50u + 50u + 50u + 70u);
  EXPECT_EQ(a.unexplained_objects, 0u);
}

TEST(Analysis, PathsReadAsPython) {
  std::string path = testing::TempSnapshotPath("paths");
  {
    HeaderInfo header;
    auto w = SnapshotWriter::Create(path, header);
    ASSERT_TRUE(w.ok());
    SnapshotWriter& wr = **w;
    auto type = [&](const char* name) {
      return wr.AddType({wr.InternString(name), wr.InternString(name), 0, 0, 0, 0});
    };
    TypeId dict = type("dict"), module = type("module"), user = type("User"), list = type("list"),
           order = type("Order");
    auto obj = [&](uint64_t address, TypeId t, uint64_t refcount) {
      wr.BeginObject({address, t, 10, refcount, kTracked, 1});
    };
    auto edge = [&](uint64_t target, LabelKind kind, uint64_t value) {
      wr.AddEdge({target, EdgeKind::kTraverse, kind, value});
    };
    auto key = [&](const char* repr) { return wr.InternString(repr).value(); };
    obj(0x10, dict, 1);  // sys.modules
    edge(0x20, LabelKind::kDictKey, key("'shop'"));
    obj(0x20, module, 1);
    edge(0x30, LabelKind::kField, key("__dict__"));
    obj(0x30, dict, 1);
    edge(0x40, LabelKind::kDictKey, key("'REGISTRY'"));
    obj(0x40, dict, 1);
    edge(0x50, LabelKind::kDictKey, key("'ada'"));
    obj(0x50, user, 1);
    edge(0x60, LabelKind::kField, key("__dict__"));
    obj(0x60, dict, 1);
    edge(0x70, LabelKind::kDictKey, key("'orders'"));
    obj(0x70, list, 1);
    edge(0x80, LabelKind::kIndex, 7);
    obj(0x80, order, 2);  // also held from C: the sys.modules path must still win
    ASSERT_TRUE(wr.AddRoot({RootKind::kModules, 0x10, wr.InternString("sys.modules"), 0, 0}).ok());
    ASSERT_TRUE(wr.Finish().ok());
  }
  Snapshot s = Load(path);
  Analysis a = Analyze(s);
  RenderedPath r = RenderPath(a, a.PathTo(*s.FindAddress(0x80)));
  EXPECT_EQ(r.text, "sys.modules['shop'].REGISTRY['ada'].orders[7]");
  EXPECT_EQ(r.root, "sys.modules");
  ASSERT_EQ(r.steps.size(), 5u);
  EXPECT_EQ(r.steps[1].label, ".REGISTRY");
  EXPECT_EQ(s.TypeName(r.steps[4].node), "Order");
  const PathShapes shapes(a);
  EXPECT_EQ(shapes.Text(shapes.Of(*s.FindAddress(0x80))),
            "sys.modules['shop'].REGISTRY['ada'].orders[*]");
}

}  // namespace
}  // namespace heapsnap

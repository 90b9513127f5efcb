#include "heapsnap/analyze/heap_diff.h"

#include <memory>

#include "gtest/gtest.h"
#include "heap_diff_test_util.h"

namespace heapsnap {
namespace {

using testing::AppHeap;
using testing::Series;

TEST(HeapDiff, SameObjectsAtSameAddressesAreNoGrowth) {
  // Snapshots of the same heap: nothing grows, no type changes.
  Series s;
  s.Add(AppHeap{50}.Build(), "same_a");
  s.Add(AppHeap{50}.Build(), "same_b");
  const HeapDiff d = s.Diff();
  for (const GroupGrowth& g : d.grown) EXPECT_FALSE(g.growing) << g.path_text;
  EXPECT_TRUE(d.types.empty());
  EXPECT_EQ(d.live_objects_delta, 0);
}

TEST(HeapDiff, AddressesAreNeverMatched) {
  // The second heap holds its 50 Tokens somewhere else, at the very addresses the first heap's
  // Tokens had (TestHeap places object i at Address(i)). Matching by address would call them
  // the same objects and see nothing; by group, SESSIONS lost 50 and ARCHIVE gained 50.
  Series s;
  s.Add(AppHeap{50}.Build(), "moved_a");
  AppHeap moved{50};
  moved.holder = "ARCHIVE";
  s.Add(moved.Build(), "moved_b");
  const HeapDiff d = s.Diff();
  const GroupGrowth* archive = s.Find(d, "sys.modules['app'].ARCHIVE[*] -> app.Token");
  ASSERT_NE(archive, nullptr);
  EXPECT_TRUE(archive->growing);
  EXPECT_EQ(archive->counts, (std::vector<uint64_t>{0, 50}));
  EXPECT_EQ(archive->count_delta, 50);
  EXPECT_EQ(s.Find(d, "sys.modules['app'].SESSIONS[*] -> app.Token"), nullptr);  // it shrank
}

TEST(HeapDiff, GrowsOnlyWhenItRisesInEveryInterval) {
  auto growing = [](std::vector<uint32_t> counts, uint64_t min_growth) {
    Series s;
    for (size_t i = 0; i < counts.size(); ++i) {
      s.Add(AppHeap{counts[i]}.Build(), "every_" + std::to_string(i));
    }
    const HeapDiff d = s.Diff(min_growth);
    const GroupGrowth* g = s.Find(d, "sys.modules['app'].SESSIONS[*] -> app.Token");
    return g != nullptr && g->growing;
  };
  EXPECT_TRUE(growing({10, 20, 30, 40}, 1));
  EXPECT_FALSE(growing({10, 20, 20, 30}, 1));  // one interval without growth
  EXPECT_FALSE(growing({2, 50, 50, 50}, 1));   // filled once, then stayed
  EXPECT_TRUE(growing({10, 13, 16}, 3));
  EXPECT_FALSE(growing({10, 13, 15}, 3));  // rose by 2 in the second interval
  EXPECT_TRUE(growing({10, 11}, 1));       // two snapshots: rose once
}

TEST(HeapDiff, ADictsKeysFoldFromItsSecondEntrySoItsShapeHoldsAsItGrows) {
  Series s;
  for (uint32_t n : {1u, 3u, 5u}) {
    AppHeap h{n};
    h.keyed = true;
    s.Add(h.Build(), "keys_" + std::to_string(n));
  }
  const HeapDiff d = s.Diff();
  const GroupGrowth* g = s.Find(d, "sys.modules['app'].SESSIONS[*] -> app.Token");
  ASSERT_NE(g, nullptr);
  // One entry reads with its key (`SESSIONS['k0']`): not the folded group yet.
  EXPECT_EQ(g->counts, (std::vector<uint64_t>{0, 3, 5}));
  EXPECT_TRUE(g->growing);
  EXPECT_EQ(g->example_path.rfind("sys.modules['app'].SESSIONS['k", 0), 0u) << g->example_path;
}

TEST(HeapDiff, FingerprintsDependOnPathAndTypeOnly) {
  // The same group in heaps with different addresses (padding objects first) and sizes has
  // one fingerprint; another type at the same path has another.
  Series a;
  a.Add(AppHeap{5}.Build(), "fp_a0");
  a.Add(AppHeap{9}.Build(), "fp_a1");
  AppHeap shifted{5};
  shifted.padding = 7;
  shifted.token_size = 99;
  Series b;
  b.Add(shifted.Build(), "fp_b0");
  shifted.count = 9;
  b.Add(shifted.Build(), "fp_b1");
  AppHeap other_type{9};
  other_type.token_type = "app.Other";
  Series c;
  c.Add(AppHeap{5}.Build(), "fp_c0");
  c.Add(other_type.Build(), "fp_c1");
  const std::string path = "sys.modules['app'].SESSIONS[*]";
  const HeapDiff da = a.Diff();  // the groups Find returns live in it
  const GroupGrowth* ga = a.Find(da, path + " -> app.Token");
  const HeapDiff db = b.Diff();
  const GroupGrowth* gb = b.Find(db, path + " -> app.Token");
  const HeapDiff dc = c.Diff();
  const GroupGrowth* gc = c.Find(dc, path + " -> app.Other");
  ASSERT_TRUE(ga && gb && gc);
  EXPECT_EQ(ga->fingerprint, gb->fingerprint);
  EXPECT_NE(ga->fingerprint, gc->fingerprint);
  // Pinned: a fingerprint written into a suppressions file today must match in every later
  // build (StableHash over the shape's root and steps, then " -> " and the type).
  EXPECT_EQ(FingerprintHex(ga->fingerprint), "673eb74f3457447f");
}

TEST(HeapDiff, TypesAndContainersReportTheirChanges) {
  Series s;
  for (uint32_t n : {4u, 8u, 12u}) s.Add(AppHeap{n}.Build(), "types_" + std::to_string(n));
  const HeapDiff d = s.Diff();
  ASSERT_FALSE(d.types.empty());
  EXPECT_EQ(d.types.front().type, "app.Token");  // the most bytes added
  EXPECT_EQ(d.types.front().count_delta, 8);
  EXPECT_EQ(d.types.front().bytes_delta, 8 * 64);
  EXPECT_EQ(d.types.front().retained_bytes_delta, 8 * 64);
  ASSERT_EQ(d.containers.size(), 1u);
  EXPECT_EQ(d.containers[0].type, "list");
  EXPECT_EQ(d.containers[0].lengths, (std::vector<uint64_t>{4, 8, 12}));
  EXPECT_EQ(d.containers[0].path_text, "sys.modules['app'].SESSIONS");
  EXPECT_EQ(d.containers[0].retained_bytes_delta, 8 * 64);
}

TEST(HeapDiff, GarbageIsItsOwnGroupPerType) {
  Series s;
  for (uint32_t n : {0u, 2u, 4u}) {
    AppHeap h{3};
    h.garbage_cycles = n;
    s.Add(h.Build(), "garbage_" + std::to_string(n));
  }
  const HeapDiff d = s.Diff();
  const GroupGrowth* g = s.Find(d, "<unreachable garbage> -> app.Node");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->counts, (std::vector<uint64_t>{0, 4, 8}));
  EXPECT_TRUE(g->growing);
  EXPECT_EQ(d.unreachable_objects_delta, 8);
}

}  // namespace
}  // namespace heapsnap

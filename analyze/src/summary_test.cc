#include "heapsnap/analyze/summary.h"

#include "gtest/gtest.h"
#include "heapsnap/analyze/snapshot.h"
#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::WriteTestSnapshot;

TEST(Summarize, TotalsAndTypesSortedByBytes) {
  std::string path =
      WriteTestSnapshot("summary",
                        {{0x1, "Small", 10, 1, {}},
                         {0x2, "Small", 10, 1, {}},
                         {0x3, "Big", 100, 1, {}},
                         {0x4, "Fixed", 5, 1, {}},
                         {0x5, "frame", 64, 0, {}, object_flags::kSynthetic}},
                        {{RootKind::kThreadFrame, 0x5, StringId(), 77, 0}}, {{3, 1000}});
  auto snapshot = LoadSnapshot(path);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
  Summary summary = SummarizeSnapshot(*snapshot);
  const Summary* s = &summary;
  EXPECT_EQ(s->objects, 4u);
  EXPECT_EQ(s->bytes, 10u + 10u + 100u + 1000u);
  EXPECT_EQ(s->running_frames, 1u);
  EXPECT_EQ(s->threads, 1u);
  ASSERT_EQ(s->types.size(), 3u);
  EXPECT_EQ(s->types[0].name, "Fixed");
  EXPECT_EQ(s->types[0].bytes, 1000u);
  EXPECT_EQ(s->types[1].qualname, "app.Big");
  EXPECT_EQ(s->types[2].count, 2u);
  EXPECT_EQ(s->types[2].bytes, 20u);
}

}  // namespace
}  // namespace heapsnap

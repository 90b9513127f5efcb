#include "heapsnap/format/file_names.h"

#include <gtest/gtest.h>

namespace heapsnap {
namespace {

TEST(FileNamesTest, NumbersGoBeforeTheExtension) {
  EXPECT_EQ(NumberedSnapshotPath("/var/tmp/app.heapsnap", 3), "/var/tmp/app.3.heapsnap");
  EXPECT_EQ(NumberedSnapshotPath("app", 12), "app.12");
  EXPECT_EQ(NumberedSnapshotPath("app.snap", 1), "app.snap.1");
  // The extension alone is a name, not an extension.
  EXPECT_EQ(NumberedSnapshotPath(".heapsnap", 1), ".heapsnap.1");
  EXPECT_EQ(PerProcessSnapshotPath("/t/web.heapsnap", 4242), "/t/web.4242.heapsnap");
}

TEST(FileNamesTest, RecognisesTheSeriesAndNothingElse) {
  EXPECT_TRUE(IsNumberedSnapshotOf("app.heapsnap", "app.1.heapsnap"));
  EXPECT_TRUE(IsNumberedSnapshotOf("app.heapsnap", "app.10.heapsnap"));
  EXPECT_TRUE(IsNumberedSnapshotOf("app.heapsnap", "app.4242.3.heapsnap"));  // a worker's
  EXPECT_TRUE(IsNumberedSnapshotOf("app", "app.7"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "app.heapsnap"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "app..heapsnap"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "app.1.2.3.heapsnap"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "app.x.heapsnap"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "app.1.heapsnap.tmp-AbC123"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "apple.1.heapsnap"));
  EXPECT_FALSE(IsNumberedSnapshotOf("app.heapsnap", "other.1.heapsnap"));
}

}  // namespace
}  // namespace heapsnap

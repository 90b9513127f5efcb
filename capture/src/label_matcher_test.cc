#include "label_matcher.h"

#include <gtest/gtest.h>

#include <vector>

namespace heapsnap::capture {
namespace {

// Stand-ins for objects: only their addresses matter.
int objects[8];
const void* Obj(int i) { return &objects[i]; }

RawLabel Index(int target, uint64_t i) {
  return {Obj(target), i, LabelKind::kIndex, LabelValueKind::kPlain, EdgeKind::kStrong};
}

TEST(LabelMatcherTest, PairsLabelsInTraversalOrder) {
  const std::vector<RawLabel> labels = {Index(0, 0), Index(1, 1), Index(2, 2)};
  const std::vector<const void*> traversed = {Obj(0), Obj(1), Obj(2)};
  LabelMatcher m;
  m.Match(labels.data(), labels.size(), traversed.data(), traversed.size());
  for (uint32_t k = 0; k < 3; ++k) {
    EXPECT_EQ(m.label_of(k), k);
    EXPECT_TRUE(m.matched(k));
  }
}

TEST(LabelMatcherTest, PairsOutOfOrderAndRepeatedTargetsOnceEach) {
  // Two labels of the same target (a list holding one object twice), in another order than
  // the traversal, a label nothing traversed, and a reference no label names.
  const std::vector<RawLabel> labels = {Index(3, 0), Index(1, 1), Index(1, 2), Index(2, 3)};
  const std::vector<const void*> traversed = {Obj(1), Obj(4), Obj(3), Obj(1)};
  LabelMatcher m;
  m.Match(labels.data(), labels.size(), traversed.data(), traversed.size());
  EXPECT_EQ(m.label_of(0), 1u);
  EXPECT_EQ(m.label_of(1), LabelMatcher::kNone);
  EXPECT_EQ(m.label_of(2), 0u);
  EXPECT_EQ(m.label_of(3), 2u);
  EXPECT_TRUE(m.matched(0));
  EXPECT_TRUE(m.matched(1));
  EXPECT_TRUE(m.matched(2));
  EXPECT_FALSE(m.matched(3));
}

TEST(LabelMatcherTest, FindsTargetsFarAheadOfTheCursor) {
  // Past the look-ahead window: the search by target takes over.
  std::vector<RawLabel> labels;
  labels.reserve(21);
  for (int i = 0; i < 20; ++i) labels.push_back(Index(i % 2 == 0 ? 5 : 6, i));
  labels.push_back(Index(7, 20));
  const std::vector<const void*> traversed = {Obj(7), Obj(5)};
  LabelMatcher m;
  m.Match(labels.data(), labels.size(), traversed.data(), traversed.size());
  EXPECT_EQ(m.label_of(0), 20u);
  EXPECT_EQ(m.label_of(1), 0u);
}

TEST(LabelMatcherTest, FromMarksReadsThePairingTheWalkMade) {
  std::vector<RawLabel> labels = {Index(0, 0), Index(1, 1), Index(2, 2)};
  labels[0].traversed = true;
  labels[2].traversed = true;
  LabelMatcher m;
  ASSERT_EQ(m.FromMarks(labels.data(), labels.size()), 2u);
  EXPECT_EQ(m.label_of(0), 0u);
  EXPECT_EQ(m.label_of(1), 2u);
  EXPECT_FALSE(m.matched(1));
}

TEST(LabelMatcherTest, AStrKeysValueRefersToItsKeysEdge) {
  // A dict {key: value} whose tp_traverse reports the value only: the value's edge comes
  // first, the key's (not traversed) after it.
  const uint64_t key = 0x1234;
  const std::vector<RawLabel> labels = {
      {Obj(1), key, LabelKind::kDictKey, LabelValueKind::kKeyStr, EdgeKind::kStrong},
      {Obj(0), key, LabelKind::kDictKeyObject, LabelValueKind::kKeyStr, EdgeKind::kStrong},
  };
  const std::vector<const void*> traversed = {Obj(1)};
  LabelMatcher m;
  m.Match(labels.data(), labels.size(), traversed.data(), traversed.size());
  LabelKind kind;
  uint64_t value;
  ASSERT_TRUE(m.KeyReference(labels.data(), labels.size(), 0, &kind, &value));
  EXPECT_EQ(kind, LabelKind::kDictKeyRef);
  EXPECT_EQ(ZigZagDecode(value), 1);  // edge 1 is the key's
  ASSERT_TRUE(m.KeyReference(labels.data(), labels.size(), 1, &kind, &value));
  EXPECT_EQ(kind, LabelKind::kDictKeySelf);
  EXPECT_EQ(value, 0u);
}

TEST(LabelMatcherTest, AKeyWithoutItsPairIsNoReference) {
  const std::vector<RawLabel> labels = {
      {Obj(1), 0x1234, LabelKind::kDictKey, LabelValueKind::kKeyStr, EdgeKind::kStrong},
      {Obj(2), 2, LabelKind::kIndex, LabelValueKind::kPlain, EdgeKind::kStrong},
  };
  LabelMatcher m;
  m.Match(labels.data(), labels.size(), nullptr, 0);
  LabelKind kind;
  uint64_t value;
  EXPECT_FALSE(m.KeyReference(labels.data(), labels.size(), 0, &kind, &value));
  EXPECT_FALSE(m.KeyReference(labels.data(), labels.size(), 1, &kind, &value));
}

}  // namespace
}  // namespace heapsnap::capture

#include "edge_placement.h"

#include <gtest/gtest.h>

#include <vector>

namespace heapsnap::capture {
namespace {

int objects[8];
const void* Obj(int i) { return &objects[i]; }

struct Placed {
  const void* target;
  EdgeKind kind;
  uint32_t label;
  size_t k;
  bool operator==(const Placed& o) const {
    return target == o.target && kind == o.kind && label == o.label && k == o.k;
  }
};

std::vector<Placed> Place(const std::vector<RawLabel>& labels,
                          const std::vector<const void*>& traversed, bool uncounted) {
  LabelMatcher m;
  m.Match(labels.data(), labels.size(), traversed.data(), traversed.size());
  std::vector<Placed> out;
  PlaceEdges(m, labels.data(), labels.size(), traversed.data(), traversed.size(), uncounted,
             [&](const void* target, EdgeKind kind, uint32_t label, size_t k) {
               out.push_back({target, kind, label, k});
             });
  return out;
}

RawLabel Field(int target, EdgeKind kind_if_not_traversed) {
  return {Obj(target), 0, LabelKind::kField, LabelValueKind::kPlain, kind_if_not_traversed};
}

constexpr uint32_t kNone = LabelMatcher::kNone;

TEST(EdgePlacementTest, TraversedReferencesFirstInOrderThenTheOtherLabels) {
  const std::vector<RawLabel> labels = {Field(5, EdgeKind::kStrong), Field(2, EdgeKind::kStrong),
                                        Field(6, EdgeKind::kWeak), Field(1, EdgeKind::kStrong)};
  const std::vector<const void*> traversed = {Obj(1), Obj(3), Obj(2)};
  const std::vector<Placed> expected = {
      {Obj(1), EdgeKind::kTraverse, 3, 0}, {Obj(3), EdgeKind::kTraverse, kNone, 1},
      {Obj(2), EdgeKind::kTraverse, 1, 2}, {Obj(5), EdgeKind::kStrong, 0, 0},
      {Obj(6), EdgeKind::kWeak, 2, 0},
  };
  EXPECT_EQ(Place(labels, traversed, /*uncounted=*/false), expected);
}

TEST(EdgePlacementTest, AnUncountedObjectsStrongAndTraversedEdgesAreBorrowed) {
  const std::vector<RawLabel> labels = {Field(5, EdgeKind::kStrong), Field(6, EdgeKind::kWeak),
                                        Field(1, EdgeKind::kStrong)};
  const std::vector<const void*> traversed = {Obj(1)};
  const std::vector<Placed> expected = {
      {Obj(1), EdgeKind::kBorrowed, 2, 0},
      {Obj(5), EdgeKind::kBorrowed, 0, 0},
      {Obj(6), EdgeKind::kWeak, 1, 0},
  };
  EXPECT_EQ(Place(labels, traversed, /*uncounted=*/true), expected);
}

TEST(EdgePlacementTest, WithTheWalksMarksTargetsComeFromTheLabels) {
  std::vector<RawLabel> labels = {Field(4, EdgeKind::kStrong), Field(7, EdgeKind::kStrong)};
  labels[1].traversed = true;
  LabelMatcher m;
  const size_t n_traversed = m.FromMarks(labels.data(), labels.size());
  std::vector<Placed> out;
  PlaceEdges(m, labels.data(), labels.size(), nullptr, n_traversed, false,
             [&](const void* target, EdgeKind kind, uint32_t label, size_t k) {
               out.push_back({target, kind, label, k});
             });
  const std::vector<Placed> expected = {{Obj(7), EdgeKind::kTraverse, 1, 0},
                                        {Obj(4), EdgeKind::kStrong, 0, 0}};
  EXPECT_EQ(out, expected);
}

TEST(EdgePlacementTest, OnlyPython311sImmortalObjectsAreUncounted) {
  EXPECT_TRUE(IsUncounted(object_flags::kImmortal, 0x030B07F0));
  EXPECT_FALSE(IsUncounted(0, 0x030B07F0));
  EXPECT_FALSE(IsUncounted(object_flags::kImmortal, 0x030C01F0));
  EXPECT_FALSE(IsUncounted(object_flags::kImmortal, 0x030D00F0));
}

TEST(EdgePlacementTest, ASplitTablesKeysAreBorrowed) {
  EXPECT_EQ(DictKeyEdgeKind(/*split_table=*/true), EdgeKind::kBorrowed);
  EXPECT_EQ(DictKeyEdgeKind(/*split_table=*/false), EdgeKind::kStrong);
}

}  // namespace
}  // namespace heapsnap::capture

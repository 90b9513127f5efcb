#include "edge_placement.h"

#include <gtest/gtest.h>

#include <vector>

namespace heapsnap::capture {
namespace {

int objects[16];
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

TEST(EdgePlacementTest, TheKindsOfTraversedAndUntraversedEdges) {
  EXPECT_EQ(TraversedEdgeKind(/*uncounted=*/false), EdgeKind::kTraverse);
  EXPECT_EQ(TraversedEdgeKind(/*uncounted=*/true), EdgeKind::kBorrowed);
  EXPECT_EQ(UntraversedEdgeKind(EdgeKind::kStrong, /*uncounted=*/false), EdgeKind::kStrong);
  EXPECT_EQ(UntraversedEdgeKind(EdgeKind::kStrong, /*uncounted=*/true), EdgeKind::kBorrowed);
  EXPECT_EQ(UntraversedEdgeKind(EdgeKind::kWeak, /*uncounted=*/true), EdgeKind::kWeak);
  EXPECT_EQ(UntraversedEdgeKind(EdgeKind::kBorrowed, /*uncounted=*/false), EdgeKind::kBorrowed);
}

TEST(EdgePlacementTest, AStrKeysValueRefersToItsKeyByDistanceAndTheKeyToItself) {
  LabelKind kind = LabelKind::kField;
  uint64_t value = 7;
  ValueRefersToKey(/*value_edge=*/3, /*key_edge=*/1, &kind, &value);
  EXPECT_EQ(kind, LabelKind::kDictKeyRef);
  EXPECT_EQ(DecodeDictKeyRef(value), -2);
  ValueRefersToKey(/*value_edge=*/4, /*key_edge=*/9, &kind, &value);
  EXPECT_EQ(DecodeDictKeyRef(value), 5);
  KeyRefersToItself(&kind, &value);
  EXPECT_EQ(kind, LabelKind::kDictKeySelf);
  EXPECT_EQ(value, 0u);
}

RawLabel DictLabel(int target, LabelKind kind, uint64_t key) {
  return {Obj(target), key, kind, LabelValueKind::kKeyStr, EdgeKind::kStrong};
}

// A dict of four str keys: the keys of entries 1 and 3 are traversed right after their values,
// those of entries 0 and 2 not at all (the order a streamed dict's edges follow).
struct DictCase {
  std::vector<RawLabel> labels;
  std::vector<const void*> traversed;
  DictCase() {
    for (int e = 0; e < 4; ++e) {
      labels.push_back(DictLabel(2 * e, LabelKind::kDictKey, 100 + e));
      labels.push_back(DictLabel(2 * e + 1, LabelKind::kDictKeyObject, 100 + e));
      traversed.push_back(Obj(2 * e));
      if (e % 2 == 1) traversed.push_back(Obj(2 * e + 1));
    }
  }
};

TEST(EdgePlacementTest, UntraversedLabelsLandAfterTheTraversedEdgesInLabelOrder) {
  const DictCase d;
  LabelMatcher m;
  m.Match(d.labels.data(), d.labels.size(), d.traversed.data(), d.traversed.size());
  std::vector<uint32_t> placed;
  PlaceEdges(m, d.labels.data(), d.labels.size(), d.traversed.data(), d.traversed.size(), false,
             [&](const void*, EdgeKind, uint32_t label, size_t) { placed.push_back(label); });
  ASSERT_EQ(placed.size(), d.labels.size());
  // The untraversed keys are the labels 1 and 5, ranks 0 and 1.
  EXPECT_EQ(placed[UntraversedEdgeIndex(d.traversed.size(), 0)], 1u);
  EXPECT_EQ(placed[UntraversedEdgeIndex(d.traversed.size(), 1)], 5u);
}

TEST(EdgePlacementTest, TheMatchersKeyReferencesAreDistancesBetweenPlacedEdges) {
  const DictCase d;
  LabelMatcher m;
  m.Match(d.labels.data(), d.labels.size(), d.traversed.data(), d.traversed.size());
  std::vector<size_t> edge_of(d.labels.size());
  size_t edge = 0;
  PlaceEdges(m, d.labels.data(), d.labels.size(), d.traversed.data(), d.traversed.size(), false,
             [&](const void*, EdgeKind, uint32_t label, size_t) { edge_of[label] = edge++; });
  for (size_t i = 0; i < d.labels.size(); i += 2) {
    LabelKind kind;
    uint64_t value;
    ASSERT_TRUE(m.KeyReference(d.labels.data(), d.labels.size(), i, &kind, &value));
    EXPECT_EQ(kind, LabelKind::kDictKeyRef);
    EXPECT_EQ(DecodeDictKeyRef(value),
              static_cast<int64_t>(edge_of[i + 1]) - static_cast<int64_t>(edge_of[i]));
    ASSERT_TRUE(m.KeyReference(d.labels.data(), d.labels.size(), i + 1, &kind, &value));
    EXPECT_EQ(kind, LabelKind::kDictKeySelf);
  }
}

}  // namespace
}  // namespace heapsnap::capture

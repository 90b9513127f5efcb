#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::RunDetector;
using testing::TestHeap;

// A module the program can reach, holding `object`.
void Reachable(TestHeap* heap, uint32_t object) {
  const uint32_t modules = heap->Add("dict", 100);
  heap->Root(RootKind::kModules, modules, "sys.modules");
  heap->Edge(modules, object, LabelKind::kDictKey, "'app'");
}

// Node <-> Node, nothing else refers to either.
void AddCycle(TestHeap* heap, uint64_t size, const char* type = "app.Node") {
  const uint32_t a = heap->Add(type, size);
  const uint32_t b = heap->Add(type, size);
  heap->Edge(a, b, LabelKind::kAttribute, "peer");
  heap->Edge(b, a, LabelKind::kAttribute, "peer");
}

TEST(UnreachableCycles, GroupsCyclesOfOneShapeIntoOneFinding) {
  TestHeap heap;
  Reachable(&heap, heap.Add("module", 50));
  for (int i = 0; i < 3; ++i) AddCycle(&heap, 4000);
  auto d = RunDetector(FindingKind::kUnreachableCycle, heap, "cycles");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kUnreachableCycle);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.count, 3u);
  EXPECT_EQ(f.objects, 6u);
  EXPECT_EQ(f.retained_bytes, 24000u);
  EXPECT_EQ(f.shape, "app.Node x2");
  EXPECT_EQ(testing::FieldNames(f), std::vector<std::string>{"shape"});
  EXPECT_EQ(testing::FieldText(f, "shape"), "app.Node x2");
  EXPECT_EQ(f.path_text, "<unreachable garbage>");
  EXPECT_TRUE(f.path.empty());
  EXPECT_EQ(f.types, (std::map<std::string, uint64_t>{{"Node", 6}}));
  EXPECT_EQ(f.examples.size(), 3u);
  EXPECT_EQ(f.title, "3 unreachable cycles of app.Node x2 waiting for the cyclic collector");
}

TEST(UnreachableCycles, SmallCyclesAreLeftOutUnlessThereAreAHundred) {
  TestHeap few;
  for (int i = 0; i < 99; ++i) AddCycle(&few, 16);
  EXPECT_TRUE(RunDetector(FindingKind::kUnreachableCycle, few, "few").findings.empty());
  TestHeap many;
  for (int i = 0; i < 100; ++i) AddCycle(&many, 16);
  auto d = RunDetector(FindingKind::kUnreachableCycle, many, "many");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].count, 100u);
  EXPECT_EQ(d.findings[0].examples.size(), 10u);  // the cap
  EXPECT_EQ(d.findings[0].retained_bytes, 3200u);
}

TEST(UnreachableCycles, ALiveCycleIsNotReported) {
  TestHeap heap;
  const uint32_t a = heap.Add("app.Node", 8000);
  const uint32_t b = heap.Add("app.Node", 8000);
  heap.Edge(a, b, LabelKind::kAttribute, "peer");
  heap.Edge(b, a, LabelKind::kAttribute, "peer");
  Reachable(&heap, a);
  EXPECT_TRUE(RunDetector(FindingKind::kUnreachableCycle, heap, "live").findings.empty());
}

TEST(UnreachableCycles, CyclesWithAFinalizerAreTheFinalizerDetectors) {
  TestHeap heap;
  const uint32_t a = heap.Add("app.Node", 8000);
  const uint32_t b = heap.Add("app.Node", 8000, TestHeap::kTracked | object_flags::kHasFinalizer);
  heap.Edge(a, b, LabelKind::kAttribute, "peer");
  heap.Edge(b, a, LabelKind::kAttribute, "peer");
  EXPECT_TRUE(RunDetector(FindingKind::kUnreachableCycle, heap, "del").findings.empty());
}

TEST(UnreachableCycles, ADroppedClassIsANote) {
  TestHeap heap;
  const uint32_t cls = heap.Add("type", 9000);
  heap.Name(cls, "app.Point");
  const uint32_t mro = heap.Add("tuple", 2000);
  heap.Edge(cls, mro, LabelKind::kField, "__mro__");
  heap.Edge(mro, cls, LabelKind::kIndex, uint64_t{0});
  auto d = RunDetector(FindingKind::kUnreachableCycle, heap, "class");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].severity, Severity::kLow);
  EXPECT_EQ(d.findings[0].shape, "tuple + type");
  EXPECT_NE(d.findings[0].title.find("classes made and dropped, such as app.Point"),
            std::string::npos)
      << d.findings[0].title;
}

}  // namespace
}  // namespace heapsnap

#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::FieldText;
using testing::RunDetector;
using testing::TestHeap;

constexpr uint32_t kTracked = TestHeap::kTracked;

// sys.modules['app'] -> object; returns the modules dict.
uint32_t HoldFromModules(TestHeap* heap, uint32_t object) {
  const uint32_t modules = heap->Add("dict", 100);
  heap->Root(RootKind::kModules, modules, "sys.modules");
  heap->Edge(modules, object, LabelKind::kDictKey, "'app'");
  return modules;
}

// a <-> b, b with the given flags; nothing else refers to them.
void AddCycle(TestHeap* heap, uint32_t b_flags, uint64_t size = 500) {
  const uint32_t a = heap->Add("app.Node", size);
  const uint32_t b = heap->Add("app.Resource", size, b_flags);
  heap->Edge(a, b, LabelKind::kAttribute, "res");
  heap->Edge(b, a, LabelKind::kAttribute, "owner");
}

TEST(Finalizers, AnObjectResurrectedByDelIsFound) {
  TestHeap heap;
  const uint32_t zombie = heap.Add("app.Zombie", 64, kTracked | object_flags::kFinalized);
  HoldFromModules(&heap, zombie);
  const uint32_t payload = heap.Add("bytes", 300);
  heap.Edge(zombie, payload, LabelKind::kAttribute, "data");
  auto d = RunDetector(FindingKind::kFinalizer, heap, "resurrected");
  ASSERT_EQ(d.findings.size(), 1u);  // small as it is: finalizer trouble is always reported
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kFinalizer);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(testing::FieldNames(f), (std::vector<std::string>{"reason", "type"}));
  EXPECT_EQ(FieldText(f, "reason"), "resurrected");
  EXPECT_EQ(FieldText(f, "type"), "app.Zombie");
  EXPECT_EQ(f.count, 1u);
  EXPECT_EQ(f.retained_bytes, 364u);
  EXPECT_EQ(f.objects, 2u);
  EXPECT_EQ(f.path_text, "sys.modules['app']");
  EXPECT_EQ(f.examples, std::vector<NodeIndex>{d.Node(zombie)});
  EXPECT_EQ(f.title,
            "1 app.Zombie object was resurrected by __del__ (finalized, yet alive; __del__ will "
            "not run again)");
}

TEST(Finalizers, CyclesWithDelAndWithLegacyTpDelAreTwoFindings) {
  TestHeap heap;
  AddCycle(&heap, kTracked | object_flags::kHasFinalizer);
  AddCycle(&heap, kTracked | object_flags::kHasFinalizer);
  AddCycle(&heap, kTracked | object_flags::kHasLegacyDel);
  auto d = RunDetector(FindingKind::kFinalizer, heap, "cycles");
  ASSERT_EQ(d.findings.size(), 2u);
  const Finding& with_del = d.findings[0];  // groups in (reason, type) order
  EXPECT_EQ(with_del.reason, "cycle_with_finalizer");
  EXPECT_EQ(with_del.type, "app.Resource");
  EXPECT_EQ(with_del.count, 2u);
  EXPECT_EQ(with_del.retained_bytes, 2000u);
  EXPECT_EQ(with_del.path_text, "<unreachable garbage>");
  EXPECT_EQ(with_del.types, (std::map<std::string, uint64_t>{{"Node", 2}, {"Resource", 2}}));
  const Finding& legacy = d.findings[1];
  EXPECT_EQ(legacy.reason, "uncollectable");
  EXPECT_EQ(legacy.count, 1u);
  EXPECT_NE(legacy.title.find("legacy tp_del"), std::string::npos) << legacy.title;
}

TEST(Finalizers, GcGarbageIsOneFinding) {
  TestHeap heap;
  const uint32_t garbage = heap.Add("list", 100);
  heap.Root(RootKind::kGcGarbage, garbage, "gc.garbage");
  for (const char* type : {"app.A", "app.B", "app.B"}) {
    const uint32_t o = heap.Add(type, 200, kTracked | object_flags::kInGcGarbage);
    heap.Append(garbage, o);
  }
  auto d = RunDetector(FindingKind::kFinalizer, heap, "gc_garbage");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].reason, "uncollectable");
  EXPECT_EQ(d.findings[0].type, "gc.garbage");
  EXPECT_EQ(d.findings[0].count, 3u);
  EXPECT_EQ(d.findings[0].types, (std::map<std::string, uint64_t>{{"A", 1}, {"B", 2}}));
}

TEST(Finalizers, FinalizersThatDidNothingWrongAreNotReported) {
  TestHeap heap;
  // A live object with __del__, not yet finalized; a finalized one that is garbage now (its
  // finalizer ran and did not resurrect it); an acyclic object with __del__ in garbage.
  const uint32_t live = heap.Add("app.File", 64, kTracked | object_flags::kHasFinalizer);
  HoldFromModules(&heap, live);
  const uint32_t a = heap.Add("app.Node", 64);
  const uint32_t b = heap.Add("app.Node", 64, kTracked | object_flags::kFinalized);
  heap.Edge(a, b, LabelKind::kAttribute, "peer");
  heap.Edge(b, a, LabelKind::kAttribute, "peer");
  heap.Add("app.File", 64, kTracked | object_flags::kHasFinalizer);
  EXPECT_TRUE(RunDetector(FindingKind::kFinalizer, heap, "fine").findings.empty());
}

}  // namespace
}  // namespace heapsnap

#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::FieldText;
using testing::RunDetector;
using testing::TestHeap;

// A function whose closure variable `variable` holds `content`; returns the function.
uint32_t AddClosure(TestHeap* heap, uint32_t code, const std::string& variable, uint32_t content) {
  const uint32_t fn = heap->Add("function", 150);
  heap->Name(fn, "app.make.<locals>.notify", "app.py", 12);
  heap->Edge(fn, code, LabelKind::kField, "__code__");
  const uint32_t closure = heap->Add("tuple", 40);
  heap->Edge(fn, closure, LabelKind::kField, "__closure__");
  const uint32_t cell = heap->Add("cell", 40);
  heap->Edge(closure, cell, LabelKind::kClosureVariable, variable);
  heap->Edge(cell, content, LabelKind::kField, "cell_contents");
  return fn;
}

// LISTENERS = [notify, notify, ...]: closures from one factory, each keeping its own payload.
TestHeap Listeners(int count, uint64_t payload_bytes, const char* file = "app.py") {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t listeners = heap.Add("list", 200);
  heap.Edge(ns, listeners, LabelKind::kDictKey, "'LISTENERS'");
  const uint32_t code = heap.Add("code", 300);
  heap.Name(code, "notify", file, 12);
  heap.Edge(ns, code, LabelKind::kDictKey, "'CODE'");  // held elsewhere too, as code is
  for (int i = 0; i < count; ++i) {
    const uint32_t payload = heap.Add("bytes", payload_bytes);
    const uint32_t fn = AddClosure(&heap, code, "payload", payload);
    heap.Name(fn, "app.make.<locals>.notify", file, 12);
    heap.Append(listeners, fn);
  }
  return heap;
}

TEST(Closures, ClosuresFromOneFactoryKeepingLargeObjectsAreOneFinding) {
  auto d = RunDetector(FindingKind::kClosure, Listeners(3, 6000), "listeners");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kClosure);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.count, 3u);
  EXPECT_EQ(f.retained_bytes, 3 * 6000u);  // what the cells keep beyond themselves
  EXPECT_EQ(f.objects, 3u);
  EXPECT_EQ(f.types, (std::map<std::string, uint64_t>{{"bytes", 3}, {"cell", 3}}));
  EXPECT_EQ(testing::FieldNames(f), (std::vector<std::string>{"function", "location", "variable"}));
  EXPECT_EQ(FieldText(f, "function"), "app.make.<locals>.notify");
  EXPECT_EQ(FieldText(f, "location"), "app.py:12");
  EXPECT_EQ(FieldText(f, "variable"), "payload");
  EXPECT_EQ(f.path_text, "sys.modules['app'].LISTENERS[*]");
  EXPECT_EQ(f.examples.size(), 3u);
  EXPECT_EQ(f.title,
            "3 closures app.make.<locals>.notify (app.py:12) keep variable 'payload' alive");
}

TEST(Closures, SmallClosuresAreNotReported) {
  EXPECT_TRUE(RunDetector(FindingKind::kClosure, Listeners(3, 3000), "small").findings.empty());
  DetectorOptions options;
  options.min_bytes = 9000;
  EXPECT_EQ(
      RunDetector(FindingKind::kClosure, Listeners(3, 3000), "small", options).findings.size(), 1u);
}

TEST(Closures, LibraryClosuresAreNotes) {
  auto d = RunDetector(FindingKind::kClosure,
                       Listeners(2, 8000, "/usr/lib/python3.12/logging/__init__.py"), "library");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].severity, Severity::kLow);
  EXPECT_TRUE(detect::InLibrary(d.findings[0].location));
}

TEST(Closures, ADecoratorsWrapperIsANote) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t code = heap.Add("code", 300);
  heap.Edge(ns, code, LabelKind::kDictKey, "'CODE'");
  const uint32_t wrapped = heap.Add("function", 20000);  // a big function (its own code)
  const uint32_t wrapper = AddClosure(&heap, code, "func", wrapped);
  heap.Edge(ns, wrapper, LabelKind::kDictKey, "'handler'");
  auto d = RunDetector(FindingKind::kClosure, heap, "decorator");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].severity, Severity::kLow);
  EXPECT_EQ(FieldText(d.findings[0], "variable"), "func");
}

TEST(Closures, TheClassCellOfSuperIsNotAClosureLeak) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t code = heap.Add("code", 300);
  heap.Edge(ns, code, LabelKind::kDictKey, "'CODE'");
  const uint32_t cls = heap.Add("app.Big", 50000);
  const uint32_t method = AddClosure(&heap, code, "__class__", cls);
  heap.Edge(ns, method, LabelKind::kDictKey, "'method'");
  EXPECT_TRUE(RunDetector(FindingKind::kClosure, heap, "super").findings.empty());
}

}  // namespace
}  // namespace heapsnap

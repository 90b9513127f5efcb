#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::FieldText;
using testing::RunDetector;
using testing::TestHeap;

// An exception whose traceback has two frames; the inner frame's local `rows` holds
// `rows_bytes`. Returns the exception.
uint32_t AddException(TestHeap* heap, uint64_t rows_bytes) {
  const uint32_t exc = heap->Add("app.ParseError", 80);
  const uint32_t outer_tb = heap->Add("traceback", 64);
  heap->Edge(exc, outer_tb, LabelKind::kField, "__traceback__");
  const uint32_t outer = heap->Add("frame", 400);
  heap->Name(outer, "app.main", "app.py", 30);
  heap->Edge(outer_tb, outer, LabelKind::kField, "tb_frame");
  const uint32_t inner_tb = heap->Add("traceback", 64);
  heap->Edge(outer_tb, inner_tb, LabelKind::kField, "tb_next");
  const uint32_t inner = heap->Add("frame", 400);
  heap->Name(inner, "app.parse", "app.py", 12);
  heap->Edge(inner_tb, inner, LabelKind::kField, "tb_frame");
  heap->Edge(inner, heap->Add("list", rows_bytes), LabelKind::kLocalVariable, "rows");
  heap->Edge(inner, heap->Add("str", 100), LabelKind::kLocalVariable, "line");
  return exc;
}

// sys.modules['app'].ERRORS = [exception, ...]; returns the list.
uint32_t ErrorsList(TestHeap* heap) {
  const uint32_t modules = heap->Add("dict", 100);
  heap->Root(RootKind::kModules, modules, "sys.modules");
  const uint32_t module = heap->Add("module", 50);
  heap->Edge(modules, module, LabelKind::kDictKey, "'app'");
  const uint32_t errors = heap->Add("list", 100);
  heap->Edge(module, errors, LabelKind::kAttribute, "ERRORS");
  return errors;
}

TEST(Tracebacks, StoredExceptionsKeepTheirFramesAndLocals) {
  TestHeap heap;
  const uint32_t errors = ErrorsList(&heap);
  const uint32_t first = AddException(&heap, 20000);
  heap.Append(errors, first);
  heap.Append(errors, AddException(&heap, 20000));
  auto d = RunDetector(FindingKind::kTraceback, heap, "stored");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kTraceback);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(testing::FieldNames(f), std::vector<std::string>{"exception"});
  EXPECT_EQ(FieldText(f, "exception"), "app.ParseError");
  EXPECT_EQ(f.count, 2u);
  // Each exception holds its traceback alone: all of it counts.
  EXPECT_EQ(f.retained_bytes, 2 * (80 + 64 + 400 + 64 + 400 + 20000 + 100u));
  EXPECT_EQ(f.objects, 2 * 7u);
  EXPECT_EQ(f.path_text, "sys.modules['app'].ERRORS[*]");
  EXPECT_EQ(f.path, (std::vector<std::string>{"sys.modules", "['app']", ".ERRORS", "[0]"}));
  EXPECT_EQ(f.examples.front(), d.Node(first));
  EXPECT_EQ(f.details, (std::vector<std::string>{"frame app.main (app.py:30)",
                                                 "frame app.parse (app.py:12): rows 19.5 KiB, "
                                                 "line 100 B"}));
  EXPECT_EQ(f.title,
            "2 stored app.ParseError keep 2 frames and their locals alive through __traceback__");
}

TEST(Tracebacks, AnExceptionBeingHandledIsNotStored) {
  TestHeap heap;
  const uint32_t running = heap.Add("frame", 400);
  heap.Root(RootKind::kThreadFrame, running, "thread 1 frame 0");
  heap.Edge(running, AddException(&heap, 20000), LabelKind::kLocalVariable, "e");
  EXPECT_TRUE(RunDetector(FindingKind::kTraceback, heap, "handled").findings.empty());
}

TEST(Tracebacks, ASmallTracebackIsNotReported) {
  TestHeap heap;
  heap.Append(ErrorsList(&heap), AddException(&heap, 1000));
  EXPECT_TRUE(RunDetector(FindingKind::kTraceback, heap, "small").findings.empty());
}

TEST(Tracebacks, ALoopingTracebackEndsTheFrameList) {
  TestHeap heap;
  const uint32_t errors = ErrorsList(&heap);
  const uint32_t exc = heap.Add("app.ParseError", 80);
  heap.Append(errors, exc);
  const uint32_t tb = heap.Add("traceback", 20000);
  heap.Edge(exc, tb, LabelKind::kField, "__traceback__");
  heap.Edge(tb, tb, LabelKind::kField, "tb_next");
  const uint32_t frame = heap.Add("frame", 400);
  heap.Edge(tb, frame, LabelKind::kField, "tb_frame");
  auto d = RunDetector(FindingKind::kTraceback, heap, "loop");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].details.size(), 1u);
}

}  // namespace
}  // namespace heapsnap

#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::FieldText;
using testing::RunDetector;
using testing::TestHeap;

struct Heap {
  TestHeap heap;
  uint32_t method;
  uint32_t conn;
};

// atexit.register(conn.close): a bound method nothing in the heap refers to, with one
// reference from C, whose __self__ keeps `payload` bytes alive. The program's own heap
// (sys.modules) holds `other` bytes.
Heap BoundMethodHeldFromC(uint64_t payload, uint64_t other = 1000) {
  Heap h;
  TestHeap& heap = h.heap;
  const uint32_t modules = heap.Add("dict", 100);
  heap.Root(RootKind::kModules, modules, "sys.modules");
  heap.Edge(modules, heap.Add("bytes", other), LabelKind::kDictKey, "'app'");
  h.method = heap.Add("method", 64);
  heap.AddRefs(h.method, 1);
  const uint32_t close = heap.Add("function", 150);
  heap.Name(close, "app.Conn.close", "app.py", 40);
  heap.Edge(modules, close, LabelKind::kDictKey, "'close'");  // the class holds its function
  heap.Edge(h.method, close, LabelKind::kField, "__func__");
  h.conn = heap.Add("app.Conn", 48);
  heap.Edge(h.method, h.conn, LabelKind::kField, "__self__");
  heap.Edge(h.conn, heap.Add("bytearray", payload), LabelKind::kAttribute, "buffer");
  return h;
}

TEST(External, ABoundMethodHeldOnlyFromCIsFound) {
  Heap h = BoundMethodHeldFromC(50000);
  auto d = RunDetector(FindingKind::kExternal, h.heap, "atexit");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kExternal);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(testing::FieldNames(f), (std::vector<std::string>{"type", "references", "function"}));
  EXPECT_EQ(FieldText(f, "type"), "method");
  EXPECT_EQ(FieldText(f, "references"), "1");
  EXPECT_EQ(FieldText(f, "function"), "app.Conn.close");
  EXPECT_EQ(f.count, 1u);
  EXPECT_EQ(f.retained_bytes, 64 + 48 + 50000u);
  EXPECT_EQ(f.objects, 3u);
  EXPECT_EQ(f.examples, std::vector<NodeIndex>{d.Node(h.method)});
  EXPECT_EQ(f.path.size(), 1u);
  EXPECT_NE(f.path_text.find("held from C code"), std::string::npos) << f.path_text;
  EXPECT_EQ(f.details, std::vector<std::string>{"it holds .__self__ -> app.Conn, 48.9 KiB"});
  EXPECT_EQ(f.title.rfind("held from C code or an extension: 1 reference nobody in the heap "
                          "accounts for keeps 1 bound method app.Conn.close (of app.Conn) and",
                          0),
            0u)
      << f.title;
}

TEST(External, WhatTheProgramAlsoHoldsIsNotHeldFromC) {
  Heap h = BoundMethodHeldFromC(50000);
  const uint32_t registry = h.heap.Add("list", 100);
  h.heap.Root(RootKind::kSys, registry, "sys");
  h.heap.Append(registry, h.method);
  EXPECT_TRUE(RunDetector(FindingKind::kExternal, h.heap, "also_held").findings.empty());
}

TEST(External, ASmallShareOfTheHeapIsNotReported) {
  Heap h = BoundMethodHeldFromC(50000, 5000000);
  EXPECT_TRUE(RunDetector(FindingKind::kExternal, h.heap, "small_share").findings.empty());
}

TEST(External, ClassesHeldFromCAreNotReported) {
  TestHeap heap;
  const uint32_t cls = heap.Add("type", 900);
  heap.AddRefs(cls, 3);
  const uint32_t mro = heap.Add("tuple", 50000);
  heap.Edge(cls, mro, LabelKind::kField, "__mro__");
  EXPECT_TRUE(RunDetector(FindingKind::kExternal, heap, "class").findings.empty());
}

}  // namespace
}  // namespace heapsnap

#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::FieldText;
using testing::RunDetector;
using testing::TestHeap;

// app.SESSIONS = [Session, ...]: `items` sessions of 1,000 bytes.
TestHeap Sessions(int items) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t sessions = heap.Add("list", 500);
  heap.Edge(ns, sessions, LabelKind::kDictKey, "'SESSIONS'");
  for (int i = 0; i < items; ++i) heap.Append(sessions, heap.Add("app.Session", 1000));
  return heap;
}

TEST(Accumulation, ALargeContainerIsFound) {
  auto d = RunDetector(FindingKind::kAccumulation, Sessions(40), "sessions");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kAccumulation);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(testing::FieldNames(f), (std::vector<std::string>{"container", "length"}));
  EXPECT_EQ(FieldText(f, "container"), "list");
  EXPECT_EQ(FieldText(f, "length"), "40");
  EXPECT_EQ(f.count, 1u);
  EXPECT_EQ(f.retained_bytes, 40500u);
  EXPECT_EQ(f.objects, 41u);
  EXPECT_EQ(f.path_text, "sys.modules['app'].SESSIONS");
  EXPECT_EQ(f.types, (std::map<std::string, uint64_t>{{"Session", 40}, {"list", 1}}));
  EXPECT_EQ(f.title,
            "list sys.modules['app'].SESSIONS holds 40 entries (mostly app.Session) and keeps "
            "39.6 KiB alive that nothing else holds: 99% of the live heap");
}

TEST(Accumulation, AContainerOfFewEntriesIsNotAContainerThatGrows) {
  EXPECT_TRUE(RunDetector(FindingKind::kAccumulation, Sessions(15), "few").findings.empty());
  EXPECT_EQ(RunDetector(FindingKind::kAccumulation, Sessions(16), "sixteen").findings.size(), 1u);
}

TEST(Accumulation, AContainerUnderTheShareOfTheHeapIsNotReported) {
  TestHeap heap = Sessions(40);
  const uint32_t big = heap.Add("bytes", 2000000);  // the heap is mostly something else
  heap.Root(RootKind::kSys, big, "sys");
  auto d = RunDetector(FindingKind::kAccumulation, heap, "share");
  EXPECT_TRUE(d.findings.empty());
  DetectorOptions options;
  options.min_share = 0.01;  // 40 KB of 2 MB is 2%
  EXPECT_EQ(RunDetector(FindingKind::kAccumulation, heap, "share", options).findings.size(), 1u);
}

// app.CACHE = Cache() with self.maxsize = `maxsize` and self.data = {key: value} of `items`.
TestHeap Cache(int items, const char* maxsize) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t cache = heap.Add("app.Cache", 48);
  heap.Edge(ns, cache, LabelKind::kDictKey, "'CACHE'");
  const uint32_t attrs = heap.Add("dict", 100);
  heap.Edge(cache, attrs, LabelKind::kField, "__dict__");
  const uint32_t limit = heap.Add("int", 28);
  heap.Value(limit, maxsize);
  heap.Edge(attrs, limit, LabelKind::kDictKey, "'maxsize'");
  const uint32_t data = heap.Add("dict", 1000);
  heap.Edge(attrs, data, LabelKind::kDictKey, "'data'");
  for (int i = 0; i < items; ++i) {
    heap.Edge(data, heap.Add("bytes", 1000), LabelKind::kDictKey, "'k" + std::to_string(i) + "'");
  }
  return heap;
}

TEST(Accumulation, ACacheWithinItsDeclaredLimitIsANote) {
  auto d = RunDetector(FindingKind::kAccumulation, Cache(20, "256"), "bounded");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.severity, Severity::kLow);
  EXPECT_EQ(f.container, "dict");
  EXPECT_EQ(f.length, 20u);
  EXPECT_EQ(f.path_text, "sys.modules['app'].CACHE.data");
  EXPECT_NE(f.title.find("(bounded: its owner declares a limit of 256)"), std::string::npos)
      << f.title;
}

TEST(Accumulation, ACacheOverItsDeclaredLimitIsALeak) {
  auto d = RunDetector(FindingKind::kAccumulation, Cache(20, "10"), "over");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].severity, Severity::kHigh);
}

// app.history = Node -> Node -> ... (`length` nodes, each with a 1,000-byte payload).
TestHeap Chain(int length) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  uint32_t node = heap.Add("app.Node", 56);
  heap.Edge(ns, node, LabelKind::kDictKey, "'history'");
  for (int i = 0; i < length; ++i) {
    heap.Edge(node, heap.Add("bytes", 1000), LabelKind::kAttribute, "payload");
    if (i + 1 == length) break;
    const uint32_t next = heap.Add("app.Node", 56);
    heap.Edge(node, next, LabelKind::kAttribute, "next");
    node = next;
  }
  return heap;
}

TEST(Accumulation, ALinkedChainIsFoundAtItsHead) {
  auto d = RunDetector(FindingKind::kAccumulation, Chain(30), "chain");
  ASSERT_EQ(d.findings.size(), 1u);
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.container, "app.Node");
  EXPECT_EQ(f.length, 30u);
  EXPECT_EQ(f.retained_bytes, 30 * 1056u);
  EXPECT_EQ(f.objects, 60u);
  EXPECT_EQ(f.path_text, "sys.modules['app'].history");
  EXPECT_EQ(f.details, std::vector<std::string>{
                           "each app.Node keeps the next one alive; the chain is held at its "
                           "head, sys.modules['app'].history"});
  EXPECT_EQ(f.title.rfind("linked chain sys.modules['app'].history.next* of 30 app.Node keeps", 0),
            0u)
      << f.title;
}

TEST(Accumulation, AShortChainIsNotReported) {
  EXPECT_TRUE(RunDetector(FindingKind::kAccumulation, Chain(15), "short").findings.empty());
}

TEST(Accumulation, AModuleNamespaceIsNotAContainerThatGrows) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  for (int i = 0; i < 40; ++i) {
    heap.Edge(ns, heap.Add("app.Handler", 1000), LabelKind::kDictKey,
              "'handler" + std::to_string(i) + "'");
  }
  EXPECT_TRUE(RunDetector(FindingKind::kAccumulation, heap, "namespace").findings.empty());
}

}  // namespace
}  // namespace heapsnap

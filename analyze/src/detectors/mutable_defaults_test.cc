#include "detector_test_util.h"

namespace heapsnap {
namespace {

using testing::FieldText;
using testing::RunDetector;
using testing::TestHeap;

struct Heap {
  TestHeap heap;
  uint32_t ns;     // the module's namespace
  uint32_t value;  // the default
};

// def remember(item, seen=<type>()): ... whose default holds `items` entries of 1,000 bytes.
Heap FunctionWithDefault(const char* type, int items, const char* file = "app.py") {
  Heap h;
  TestHeap& heap = h.heap;
  const uint32_t modules = heap.Add("dict", 100);
  heap.Root(RootKind::kModules, modules, "sys.modules");
  const uint32_t module = heap.Add("module", 50);
  heap.Edge(modules, module, LabelKind::kDictKey, "'app'");
  h.ns = heap.Add("dict", 100);
  heap.Edge(module, h.ns, LabelKind::kField, "__dict__");
  const uint32_t fn = heap.Add("function", 150);
  heap.Name(fn, "app.remember", file, 7);
  heap.Edge(h.ns, fn, LabelKind::kDictKey, "'remember'");
  const uint32_t code = heap.Add("code", 300);
  heap.Edge(fn, code, LabelKind::kField, "__code__");
  const uint32_t defaults = heap.Add("tuple", 40);
  heap.Edge(fn, defaults, LabelKind::kField, "__defaults__");
  h.value = heap.Add(type, 200);
  heap.Edge(defaults, h.value, LabelKind::kParameterDefault, "seen");
  for (int i = 0; i < items; ++i) heap.Append(h.value, heap.Add("str", 1000));
  const uint32_t none = heap.Add("NoneType", 16, 0);
  heap.Edge(defaults, none, LabelKind::kParameterDefault, "limit");
  return h;
}

TEST(MutableDefaults, ADefaultThatHoldsItemsIsFound) {
  auto d = RunDetector(FindingKind::kMutableDefault, FunctionWithDefault("list", 12).heap, "list");
  ASSERT_EQ(d.findings.size(), 1u);  // and not the None default
  const Finding& f = d.findings[0];
  EXPECT_EQ(f.kind, FindingKind::kMutableDefault);
  EXPECT_EQ(f.severity, Severity::kHigh);
  EXPECT_EQ(f.count, 1u);
  EXPECT_EQ(f.retained_bytes, 12200u);
  EXPECT_EQ(f.objects, 13u);
  EXPECT_EQ(f.types, (std::map<std::string, uint64_t>{{"list", 1}, {"str", 12}}));
  EXPECT_EQ(testing::FieldNames(f),
            (std::vector<std::string>{"function", "location", "parameter", "container", "length"}));
  EXPECT_EQ(FieldText(f, "function"), "app.remember");
  EXPECT_EQ(FieldText(f, "location"), "app.py:7");
  EXPECT_EQ(FieldText(f, "parameter"), "seen");
  EXPECT_EQ(FieldText(f, "container"), "list");
  EXPECT_EQ(FieldText(f, "length"), "12");
  EXPECT_EQ(f.path_text, "sys.modules['app'].remember.<default seen=>");
  EXPECT_EQ(f.title,
            "mutable default seen=list of app.remember (app.py:7) has accumulated 12 items");
}

TEST(MutableDefaults, AnEmptyDefaultIsANoteHoweverSmall) {
  auto d = RunDetector(FindingKind::kMutableDefault, FunctionWithDefault("dict", 0).heap, "empty");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].severity, Severity::kLow);
  EXPECT_EQ(d.findings[0].length, 0u);
  EXPECT_EQ(d.findings[0].title, "empty mutable default seen=dict() in app.remember (app.py:7)");
}

TEST(MutableDefaults, ADefaultSharedWithAGlobalIsNotThisBug) {
  Heap h = FunctionWithDefault("list", 12);
  h.heap.Edge(h.ns, h.value, LabelKind::kDictKey, "'CACHE'");
  EXPECT_TRUE(RunDetector(FindingKind::kMutableDefault, h.heap, "shared").findings.empty());
}

TEST(MutableDefaults, AnImmutableDefaultIsNotReported) {
  auto d =
      RunDetector(FindingKind::kMutableDefault, FunctionWithDefault("tuple", 12).heap, "tuple");
  EXPECT_TRUE(d.findings.empty());
}

TEST(MutableDefaults, TheStandardLibrarysSmallDefaultsAreLeftOut) {
  const char* stdlib = "/usr/lib/python3.12/functools.py";
  EXPECT_TRUE(RunDetector(FindingKind::kMutableDefault, FunctionWithDefault("set", 2, stdlib).heap,
                          "stdlib")
                  .findings.empty());
  auto big = RunDetector(FindingKind::kMutableDefault, FunctionWithDefault("set", 12, stdlib).heap,
                         "stdlib_big");
  EXPECT_EQ(big.findings.size(), 1u);
}

}  // namespace
}  // namespace heapsnap

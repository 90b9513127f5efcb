#include <set>
#include <sstream>
#include <string>

#include "detector_test_util.h"
#include "detector_util.h"
#include "gtest/gtest.h"
#include "heapsnap/analyze/detectors.h"

namespace heapsnap {
namespace {

using testing::LoadAndAnalyze;
using testing::RunAllDetectors;
using testing::TestHeap;

// The JSON contract (README) names every kind and its fields; the CLI writes whatever these say.
TEST(Findings, KindsAndTheirFieldsAreTheContractsNames) {
  const std::pair<FindingKind, std::vector<std::string>> kinds[] = {
      {FindingKind::kUnreachableCycle, {"shape"}},
      {FindingKind::kClosure, {"function", "location", "variable"}},
      {FindingKind::kMutableDefault, {"function", "location", "parameter", "container", "length"}},
      {FindingKind::kFinalizer, {"reason", "type"}},
      {FindingKind::kTraceback, {"exception"}},
      {FindingKind::kAccumulation, {"container", "length"}},
      {FindingKind::kExternal, {"type", "references", "function"}},
  };
  std::set<std::string> names;
  for (const auto& [kind, fields] : kinds) {
    names.insert(FindingKindName(kind));
    Finding f;
    f.kind = kind;
    f.length = 7;
    f.references = 3;
    std::vector<std::string> got;
    for (const KindField& field : KindFields(f)) {
      got.push_back(field.name);
      if (got.back() == "length") {
        EXPECT_TRUE(field.is_number && field.number == 7);
      }
      if (got.back() == "references") {
        EXPECT_TRUE(field.is_number && field.number == 3);
      }
    }
    EXPECT_EQ(got, fields) << FindingKindName(kind);
  }
  EXPECT_EQ(names, (std::set<std::string>{"unreachable_cycle", "closure", "mutable_default",
                                          "finalizer", "traceback", "accumulation", "external"}));
  EXPECT_STREQ(SeverityName(Severity::kHigh), "high");
  EXPECT_STREQ(SeverityName(Severity::kLow), "low");
  EXPECT_TRUE(KindFields(Finding()).empty());
  EXPECT_STREQ(FindingKindName(FindingKind::kNone), "none");
}

// A detector as a newcomer would add one: in its own file this class and a maker, and one
// line in HEAPSNAP_DETECTORS. Here it is registered the same way at run time, under a kind
// value no enumerator names.
class LargeStringDetector : public Detector {
 public:
  const char* name() const override { return "large_string"; }
  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("type", f.type), KindField::Number("length", f.length)};
  }
  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Snapshot& s = input.analysis.snapshot();
    detect::FindingGroup g;
    for (uint32_t i = 0; i < s.object_count(); ++i) {
      if (s.TypeName(NodeIndex(i)) != "str" || s.size[i] < input.options.min_bytes) continue;
      g.AddInstance(NodeIndex(i), input.analysis.retained[i], input.analysis.retained_count[i]);
      g.finding.length += s.size[i];
    }
    if (g.empty()) return;
    Finding f = g.Take(input.analysis);
    f.type = "str";
    f.title = std::to_string(f.count) + " large strings";
    detect::SetPath(input.analysis, f.examples.front(), &f);
    findings->push_back(std::move(f));
  }
};

constexpr FindingKind kLargeString{100};

// The kind-specific part of a finding as leaks_command.cc writes it: the kind's name, then
// every field the detector lists, by type (a copy of the CLI's loop, which is generic).
std::string KindPart(const DetectorRegistry& registry, const Finding& f) {
  std::ostringstream out;
  out << "\"kind\": \"" << registry.KindName(f.kind) << "\"";
  for (const KindField& field : registry.Fields(f)) {
    out << ", \"" << field.name << "\": ";
    if (field.is_number) {
      out << field.number;
    } else {
      out << "\"" << field.text << "\"";
    }
  }
  return out.str();
}

TEST(Findings, ANewDetectorNeedsOneClassAndOneRegistration) {
  TestHeap heap;
  const uint32_t modules = heap.Add("dict", 100);
  heap.Root(RootKind::kModules, modules, "sys.modules");
  heap.Edge(modules, heap.Add("str", 50000), LabelKind::kDictKey, "'BANNER'");
  heap.Edge(modules, heap.Add("str", 20000), LabelKind::kDictKey, "'HELP'");
  heap.Edge(modules, heap.Add("str", 100), LabelKind::kDictKey, "'NAME'");
  auto d = LoadAndAnalyze(heap, "new_detector");

  DetectorRegistry registry = DetectorRegistry::BuiltIn();
  registry.Add(kLargeString, std::make_shared<LargeStringDetector>());
  const std::vector<Finding> findings = registry.Detect(*d.analysis, DetectorOptions());
  ASSERT_EQ(findings.size(), 1u);
  const Finding& f = findings[0];
  EXPECT_EQ(f.kind, kLargeString);  // given by the registry, from the registration
  EXPECT_EQ(f.count, 2u);
  EXPECT_EQ(f.retained_bytes, 70000u);
  EXPECT_EQ(f.path_text, "sys.modules['BANNER']");
  EXPECT_EQ(KindPart(registry, f),
            "\"kind\": \"large_string\", \"type\": \"str\", \"length\": 70000");
  // The built-in registry is untouched.
  EXPECT_EQ(DetectorRegistry::BuiltIn().Find(kLargeString), nullptr);
  EXPECT_TRUE(DetectLeaks(*d.analysis).empty());
}

TEST(Findings, EveryBuiltInDetectorIsRegisteredUnderItsOwnKind) {
  const DetectorRegistry& registry = DetectorRegistry::BuiltIn();
  std::set<std::string> names;
  for (uint8_t k = 1; k <= static_cast<uint8_t>(FindingKind::kExternal); ++k) {
    const Detector* d = registry.Find(static_cast<FindingKind>(k));
    ASSERT_NE(d, nullptr) << int{k};
    EXPECT_TRUE(names.insert(d->name()).second) << d->name();
  }
  EXPECT_EQ(registry.Find(FindingKind::kNone), nullptr);
}

// sys.modules['app'].LISTENERS: `count` closures each keeping 6,000 bytes, and an empty
// mutable default.
TestHeap ListenersAndANote(int count) {
  TestHeap heap;
  const uint32_t modules = heap.Add("dict", 100);
  heap.Root(RootKind::kModules, modules, "sys.modules");
  const uint32_t module = heap.Add("module", 50);
  heap.Edge(modules, module, LabelKind::kDictKey, "'app'");
  const uint32_t listeners = heap.Add("list", 200);
  heap.Edge(module, listeners, LabelKind::kAttribute, "LISTENERS");
  const uint32_t code = heap.Add("code", 300);
  heap.Edge(module, code, LabelKind::kAttribute, "CODE");
  for (int i = 0; i < count; ++i) {
    const uint32_t fn = heap.Add("function", 150);
    heap.Name(fn, "app.on.<locals>.notify", "app.py", 5);
    heap.Edge(fn, code, LabelKind::kField, "__code__");
    const uint32_t closure = heap.Add("tuple", 40);
    heap.Edge(fn, closure, LabelKind::kField, "__closure__");
    const uint32_t cell = heap.Add("cell", 40);
    heap.Edge(closure, cell, LabelKind::kClosureVariable, "payload");
    heap.Edge(cell, heap.Add("bytes", 6000), LabelKind::kField, "cell_contents");
    heap.Append(listeners, fn);
  }
  const uint32_t fn = heap.Add("function", 150);
  heap.Name(fn, "app.log", "app.py", 9);
  heap.Edge(module, fn, LabelKind::kAttribute, "log");
  heap.Edge(fn, code, LabelKind::kField, "__code__");
  const uint32_t defaults = heap.Add("tuple", 40);
  heap.Edge(fn, defaults, LabelKind::kField, "__defaults__");
  heap.Edge(defaults, heap.Add("list", 56), LabelKind::kParameterDefault, "lines");
  return heap;
}

TEST(Findings, AContainerOfAMoreSpecificFindingIsThatFindingsDetail) {
  auto d = RunAllDetectors(ListenersAndANote(40), "merge");
  ASSERT_EQ(d.findings.size(), 2u);
  const Finding& closures = d.findings[0];
  EXPECT_EQ(closures.kind, FindingKind::kClosure);  // not also an accumulation finding
  EXPECT_EQ(closures.count, 40u);
  ASSERT_FALSE(closures.details.empty());
  EXPECT_EQ(closures.details[0].rfind("they accumulate in list sys.modules['app'].LISTENERS (40 "
                                      "entries, ",
                                      0),
            0u)
      << closures.details[0];
  const Finding& note = d.findings[1];  // notes last, whatever they retain
  EXPECT_EQ(note.kind, FindingKind::kMutableDefault);
  EXPECT_EQ(note.severity, Severity::kLow);
}

TEST(Findings, WithoutTheMergeTheContainerIsAFindingOfItsOwn) {
  auto d = testing::RunDetector(FindingKind::kAccumulation, ListenersAndANote(40), "no_merge");
  ASSERT_EQ(d.findings.size(), 1u);
  EXPECT_EQ(d.findings[0].path_text, "sys.modules['app'].LISTENERS");
}

}  // namespace
}  // namespace heapsnap

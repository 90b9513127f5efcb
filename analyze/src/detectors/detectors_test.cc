#include "heapsnap/analyze/detectors.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace heapsnap {
namespace {

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
}

}  // namespace
}  // namespace heapsnap

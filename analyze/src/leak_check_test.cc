#include "heapsnap/analyze/leak_check.h"

#include "gtest/gtest.h"
#include "heap_diff_test_util.h"

namespace heapsnap {
namespace {

using testing::AppHeap;
using testing::Series;

Series Growing(const std::string& name, std::vector<uint32_t> counts, uint32_t garbage = 0) {
  Series s;
  for (size_t i = 0; i < counts.size(); ++i) {
    AppHeap h{counts[i]};
    h.garbage_cycles = garbage;
    s.Add(h.Build(), name + std::to_string(i));
  }
  return s;
}

CheckReport Check(const Series& s, const CheckOptions& options,
                  const std::vector<SuppressionRule>& user = {}, bool defaults = true) {
  SuppressionSet rules(user, defaults, 0x030c);
  const HeapDiff diff = s.Diff(options.min_growth);
  return RunCheck(s.last(), &diff, options, &rules);
}

std::vector<SuppressionRule> Rules(const std::string& text) {
  auto rules = ParseSuppressions(text, "test.supp");
  EXPECT_TRUE(rules.ok()) << rules.status().message();
  return rules.ok() ? *rules : std::vector<SuppressionRule>{};
}

TEST(LeakCheck, AGroupGrowingInEveryIntervalFailsWithItsPath) {
  const Series s = Growing("grow", {10, 20, 30});
  const CheckReport r = Check(s, {});
  EXPECT_FALSE(r.passed);
  ASSERT_EQ(r.assertions.size(), 1u);
  EXPECT_EQ(r.assertions[0].name, "growth");
  EXPECT_FALSE(r.assertions[0].passed);
  ASSERT_EQ(r.failures.size(), 1u);
  const CheckItem& f = r.failures[0];
  EXPECT_EQ(f.assertion, "growth");
  EXPECT_EQ(f.kind, "group");
  EXPECT_EQ(f.path_text, "sys.modules['app'].SESSIONS[*] -> app.Token");
  EXPECT_EQ(f.counts, (std::vector<uint64_t>{10, 20, 30}));
  EXPECT_EQ(f.count_delta, 20);
  EXPECT_EQ(f.bytes_delta, 20 * 64);
  EXPECT_NE(f.example_address, 0u);
  EXPECT_EQ(f.example_path.rfind("sys.modules['app'].SESSIONS[", 0), 0u);
}

TEST(LeakCheck, FillOnceAndMinGrowthPass) {
  EXPECT_TRUE(Check(Growing("once", {0, 30, 30}), {}).passed);
  CheckOptions options;
  options.min_growth = 11;
  EXPECT_TRUE(Check(Growing("min", {10, 20, 30}), options).passed);
}

TEST(LeakCheck, SuppressedGroupsAreListedNotJudged) {
  const Series s = Growing("supp", {10, 20, 30});
  const CheckReport r = Check(s, {}, Rules("type:app.Tok*\n"));
  EXPECT_TRUE(r.passed);
  EXPECT_TRUE(r.failures.empty());
  ASSERT_EQ(r.suppressed.size(), 1u);
  EXPECT_EQ(r.suppressed[0].rule, "type:app.Tok* (test.supp:1)");
  // By fingerprint, copied from a failure.
  const CheckReport failed = Check(s, {});
  ASSERT_EQ(failed.failures.size(), 1u);
  const std::string rule = "fingerprint:" + FingerprintHex(failed.failures[0].fingerprint) + "\n";
  EXPECT_TRUE(Check(s, {}, Rules(rule)).passed);
  // A rule on another path leaves it failing.
  EXPECT_FALSE(Check(s, {}, Rules("path:sys.modules['app'].OTHER*\n")).passed);
  EXPECT_TRUE(Check(s, {}, Rules("path:sys.modules['app'].SESSIONS*\n")).passed);
}

TEST(LeakCheck, ATypeBoundReplacesTheGrowthRuleForItsType) {
  const Series s = Growing("bound", {10, 20, 30});
  CheckOptions within;
  within.max_growth = {{"app.Token", 20}};
  const CheckReport ok = Check(s, within);
  EXPECT_TRUE(ok.passed);
  ASSERT_EQ(ok.assertions.size(), 2u);
  EXPECT_EQ(ok.assertions[1].name, "max-growth app.Token");
  EXPECT_EQ(ok.assertions[1].message, "app.Token objects: +20 (at most +20 allowed)");
  CheckOptions beyond;
  beyond.max_growth = {{"app.*", 19}};
  const CheckReport bad = Check(s, beyond);
  EXPECT_FALSE(bad.passed);
  EXPECT_TRUE(bad.assertions[0].passed);  // growth: app.Token is judged by its bound
  ASSERT_EQ(bad.failures.size(), 1u);
  EXPECT_EQ(bad.failures[0].assertion, "max-growth app.*");
}

TEST(LeakCheck, BytesBoundCountsTheLiveHeap) {
  const Series s = Growing("bytes", {10, 20});
  CheckOptions options;
  options.max_growth = {{"*", 1000}};  // the growth rule out of the way
  options.max_growth_bytes = 10 * 64;
  EXPECT_TRUE(Check(s, options).passed);
  options.max_growth_bytes = 10 * 64 - 1;
  const CheckReport r = Check(s, options);
  EXPECT_FALSE(r.passed);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_EQ(r.failures[0].assertion, "max-growth-bytes");
  // What a suppression excuses is not held against the bound.
  EXPECT_TRUE(Check(s, options, Rules("type:app.Token\n")).passed);
}

TEST(LeakCheck, UnreachableBoundAndFailOnNameTheCycles) {
  const Series s = Growing("cycles", {1, 1}, /*garbage=*/3);
  CheckOptions options;
  options.max_unreachable = 6;
  EXPECT_TRUE(Check(s, options).passed);
  options.max_unreachable = 5;
  const CheckReport r = Check(s, options);
  EXPECT_FALSE(r.passed);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_EQ(r.failures[0].kind, "unreachable_cycle");
  EXPECT_NE(r.failures[0].fingerprint, 0u);
  CheckOptions fail_on;
  fail_on.fail_on = {FindingKind::kUnreachableCycle};
  fail_on.detector_options.min_bytes = 0;  // small cycles are reported too
  const CheckReport k = Check(s, fail_on);
  EXPECT_FALSE(k.passed);
  EXPECT_EQ(k.assertions.back().name, "fail-on unreachable_cycle");
  // Suppressed by type: the cycle's members are app.Node.
  EXPECT_TRUE(Check(s, fail_on, Rules("type:app.Node\n")).passed);
}

TEST(LeakCheck, BuiltInRulesMakeKnownRetention) {
  // A group under re's cache, growing every interval, on a 3.12 snapshot.
  Series s;
  for (uint32_t n : {2u, 4u, 6u}) {
    testing::TestHeap heap;
    const uint32_t ns = heap.ModuleNamespace("re");
    const uint32_t cache = heap.Add("dict", 100);
    heap.Edge(ns, cache, LabelKind::kDictKey, "'_cache'");
    for (uint32_t i = 0; i < n; ++i) {
      heap.Edge(cache, heap.Add("re.Pattern", 80), LabelKind::kDictKey,
                "'p" + std::to_string(i) + "'");
    }
    s.Add(heap, "re_" + std::to_string(n));
  }
  const CheckReport r = Check(s, {});
  EXPECT_TRUE(r.passed);
  ASSERT_EQ(r.known_retention.size(), 1u);
  EXPECT_EQ(r.known_retention[0].path_text, "sys.modules['re']._cache[*] -> re.Pattern");
  EXPECT_EQ(r.known_retention[0].rule, "path:sys.modules['re']._cache* (built-in)");
  EXPECT_FALSE(Check(s, {}, {}, /*defaults=*/false).passed);
}

}  // namespace
}  // namespace heapsnap

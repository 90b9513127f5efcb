// The assertions of `heapsnap check`: a snapshot, optionally after baselines of the same
// program, judged against bounds a CI job sets. Each assertion passes or fails; each failure
// names the groups or findings that broke it, with their fingerprints and paths. Suppressions
// (suppressions.h) take matching groups and findings out of the judgement; those matched by a
// built-in rule are listed as known retention, those matched by the user's as suppressed.
//
//   growth            with baselines: no group grows by min_growth or more in every interval
//                     (heap_diff.h), except types that have a max_growth bound of their own
//   max-growth TYPE   the count of objects of TYPE (a glob on the qualified name) rises by at
//                     most N from the first snapshot to the last
//   max-growth-bytes  the live heap's own bytes rise by at most N from the first to the last
//   max-unreachable   at most N objects are unreachable garbage in the last snapshot
//   fail-on KIND      no finding of that detector kind (detectors.h) in the last snapshot
//
// Suppressed and known groups do not count towards any bound: a type's or the heap's growth is
// judged without what they added.
//
//   CheckReport r = RunCheck(last, &diff, options, &suppressions);
//   return r.passed ? 0 : 1;
#ifndef HEAPSNAP_ANALYZE_LEAK_CHECK_H_
#define HEAPSNAP_ANALYZE_LEAK_CHECK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/heap_diff.h"
#include "heapsnap/analyze/suppressions.h"

namespace heapsnap {

struct CheckOptions {
  uint64_t min_growth = 1;
  std::vector<std::pair<std::string, int64_t>> max_growth;  // type glob, most objects added
  std::optional<int64_t> max_growth_bytes;
  std::optional<uint64_t> max_unreachable;
  std::vector<FindingKind> fail_on;
  DetectorOptions detector_options;  // for fail_on
};

// A group or finding as the check reports it.
struct CheckItem {
  std::string assertion;  // the assertion it broke (or would have broken)
  uint64_t fingerprint = 0;
  std::string kind;   // "group", or the finding's kind ("closure", ...)
  std::string title;  // a finding's title; for a group, what grew
  std::string type;
  std::vector<std::string> path;
  std::string path_text;
  std::vector<uint64_t> counts;  // per snapshot, oldest first (a finding: its count)
  int64_t count_delta = 0;
  int64_t bytes_delta = 0;  // a finding: its retained bytes
  NodeIndex example;
  uint64_t example_address = 0;
  std::string example_path;
  std::string rule;  // known retention and suppressed: the rule's text, and where it is from
};

struct AssertionResult {
  std::string name;  // "growth", "max-growth app.Token", ...
  bool passed = true;
  std::string message;  // one line: the bound and what was measured
};

struct CheckReport {
  bool passed = true;
  std::vector<AssertionResult> assertions;
  std::vector<CheckItem> failures;
  std::vector<CheckItem> known_retention;
  std::vector<CheckItem> suppressed;
};

// `diff` (of the baselines and `last`) is null without baselines: then the growth assertions
// are not run (the CLI refuses growth bounds without baselines).
CheckReport RunCheck(const Analysis& last, const HeapDiff* diff, const CheckOptions& options,
                     SuppressionSet* suppressions);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_LEAK_CHECK_H_

#include "heapsnap/analyze/leak_check.h"

#include <algorithm>
#include <unordered_map>

#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/analyze/paths.h"

namespace heapsnap {
namespace {

// Only objects that run code name a function for `function:` rules.
bool RunsCode(const std::string& type) {
  return type == "function" || type == "code" || type == "frame" || type == "method" ||
         type == "generator" || type == "coroutine" || type == "async_generator";
}

std::vector<std::string> FunctionsOnPath(const Analysis& a, NodeIndex node) {
  std::vector<std::string> out;
  const RetainerPath p = a.PathTo(node);
  if (!p.found) return out;
  const Snapshot& s = a.snapshot();
  auto add = [&](NodeIndex v) {
    const NameRecord* name = s.Name(v);
    if (name != nullptr && RunsCode(s.TypeName(v))) out.push_back(s.String(name->name));
  };
  add(p.start);
  for (const RetainerStep& step : p.steps) add(step.node);
  return out;
}

// What rules see of a described group: its shape, with and without the type, and its example's
// full path when the diff rendered it; the functions on that path only when a rule asks
// (finding them walks the whole path).
// A group's shape as text, without its ` -> Type`.
std::string ShapeText(const GroupGrowth& g) {
  std::string shape;
  for (const std::string& step : g.path) shape += step;
  return shape;
}

SuppressionSubject SubjectOf(const Analysis& a, const GroupGrowth& g, bool functions) {
  SuppressionSubject s;
  s.fingerprint = g.fingerprint;
  s.types = {g.type};
  s.paths = {ShapeText(g), g.path_text};
  if (!g.example_path.empty()) s.paths.push_back(g.example_path);
  if (functions) s.functions = FunctionsOnPath(a, g.example);
  return s;
}

SuppressionSubject SubjectOf(const Analysis& a, const Finding& f) {
  SuppressionSubject s;
  s.fingerprint = f.fingerprint;
  for (const std::string* t : {&f.type, &f.container}) {
    if (!t->empty()) s.types.push_back(*t);
  }
  if (!f.examples.empty()) s.types.push_back(a.snapshot().TypeQualname(f.examples.front()));
  s.paths = {f.path_text.empty() ? std::string(kGarbagePathText) : f.path_text};
  if (!f.function.empty()) s.functions.push_back(f.function);
  if (!f.examples.empty()) {
    for (std::string& name : FunctionsOnPath(a, f.examples.front())) {
      s.functions.push_back(std::move(name));
    }
  }
  return s;
}

CheckItem ItemOf(const Analysis& a, const GroupGrowth& g, const std::string& assertion) {
  CheckItem item;
  item.assertion = assertion;
  item.fingerprint = g.fingerprint;
  item.kind = "group";
  item.title = g.type + " objects at " + ShapeText(g) + ": " + FormatCountSeries(g.counts);
  item.type = g.type;
  item.path = g.path;
  item.path_text = g.path_text;
  item.counts = g.counts;
  item.count_delta = g.count_delta;
  item.bytes_delta = g.bytes_delta;
  item.example = g.example;
  item.example_address = a.snapshot().address[g.example.value()];
  item.example_path = g.example_path;
  return item;
}

CheckItem ItemOf(const Analysis& a, const Finding& f, const std::string& assertion) {
  CheckItem item;
  item.assertion = assertion;
  item.fingerprint = f.fingerprint;
  item.kind = FindingKindName(f.kind);
  item.title = f.title;
  item.type = !f.type.empty() ? f.type : !f.container.empty() ? f.container : "";
  item.path = f.path;
  item.path_text = f.path_text.empty() ? std::string(kGarbagePathText) : f.path_text;
  item.counts = {f.count};
  item.count_delta = static_cast<int64_t>(f.objects);
  item.bytes_delta = static_cast<int64_t>(f.retained_bytes);
  if (!f.examples.empty()) {
    item.example = f.examples.front();
    item.example_address = a.snapshot().address[item.example.value()];
    if (item.type.empty()) item.type = a.snapshot().TypeQualname(item.example);
  }
  item.example_path = item.path_text;
  return item;
}

// The run of one check: what each group and finding matched, then each assertion in turn.
class Checker {
 public:
  Checker(const Analysis& last, const HeapDiff* diff, const CheckOptions& options,
          SuppressionSet* rules)
      : a_(last), diff_(diff), options_(options), rules_(rules) {}

  CheckReport Run() {
    if (diff_ != nullptr) {
      MatchGroups();
      CheckGrowth();
      for (const auto& [type, bound] : options_.max_growth) CheckTypeGrowth(type, bound);
      if (options_.max_growth_bytes) CheckBytesGrowth(*options_.max_growth_bytes);
    }
    if (!options_.fail_on.empty()) {
      findings_ = DetectLeaks(a_, options_.detector_options);
      MatchFindings();
    }
    if (options_.max_unreachable) CheckUnreachable(*options_.max_unreachable);
    for (FindingKind kind : options_.fail_on) CheckKind(kind);
    return std::move(report_);
  }

 private:
  // -1: no rule; else the rule's index. Rules see the described groups (heap_diff.h: the
  // largest kMaxDescribedGroups); the others are judged as they are.
  void MatchGroups() {
    group_rule_.assign(diff_->grown.size(), -1);
    const bool functions = rules_->Has(SuppressionKind::kFunction);
    for (size_t i = 0; i < diff_->grown.size(); ++i) {
      const GroupGrowth& g = diff_->grown[i];
      if (!g.described) continue;
      group_rule_[i] = rules_->Match(SubjectOf(a_, g, functions),
                                     static_cast<uint64_t>(std::max<int64_t>(g.count_delta, 0)),
                                     static_cast<uint64_t>(std::max<int64_t>(g.bytes_delta, 0)));
      if (g.growing && group_rule_[i] >= 0) Excuse(ItemOf(a_, g, "growth"), group_rule_[i]);
    }
  }

  void MatchFindings() {
    finding_rule_.assign(findings_.size(), -1);
    for (size_t i = 0; i < findings_.size(); ++i) {
      const Finding& f = findings_[i];
      finding_rule_[i] = rules_->Match(SubjectOf(a_, f), f.objects, f.retained_bytes);
    }
  }

  void Excuse(CheckItem item, int rule) {
    const SuppressionRule& r = rules_->rules()[static_cast<size_t>(rule)];
    item.rule = r.Text() + " (" + r.origin + ")";
    (r.builtin ? report_.known_retention : report_.suppressed).push_back(std::move(item));
  }

  bool HasTypeBound(const std::string& type) const {
    for (const auto& [glob, bound] : options_.max_growth) {
      if (GlobMatch(glob, type)) return true;
    }
    return false;
  }

  void Assert(const std::string& name, bool passed, const std::string& message) {
    report_.assertions.push_back({name, passed, message});
    report_.passed &= passed;
  }

  void CheckGrowth() {
    size_t failed = 0;
    for (size_t i = 0; i < diff_->grown.size(); ++i) {
      const GroupGrowth& g = diff_->grown[i];
      if (!g.growing || group_rule_[i] >= 0 || HasTypeBound(g.type)) continue;
      if (g.described) report_.failures.push_back(ItemOf(a_, g, "growth"));
      ++failed;
    }
    const std::string rule = "by " + FormatCount(options_.min_growth) + " or more in each of " +
                             FormatCount(diff_->snapshots - 1) + " interval" +
                             (diff_->snapshots == 2 ? "" : "s");
    Assert("growth", failed == 0,
           failed == 0 ? "no group of objects grew " + rule
                       : FormatCount(failed) + (failed == 1 ? " group" : " groups") +
                             " of objects grew " + rule);
  }

  // The unsuppressed groups that rose, of the types `glob` matches (all: empty), by `key`.
  template <typename Key>
  std::vector<size_t> Contributors(const std::string& glob, Key key) const {
    std::vector<size_t> out;
    for (size_t i = 0; i < diff_->grown.size(); ++i) {
      const GroupGrowth& g = diff_->grown[i];
      if (g.described && group_rule_[i] < 0 && key(g) > 0 &&
          (glob.empty() || GlobMatch(glob, g.type))) {
        out.push_back(i);
      }
    }
    std::stable_sort(out.begin(), out.end(), [&](size_t x, size_t y) {
      return key(diff_->grown[x]) > key(diff_->grown[y]);
    });
    if (out.size() > kMaxContributors) out.resize(kMaxContributors);
    return out;
  }

  // What suppressed groups of the matching types added: not held against the bounds.
  template <typename Key>
  int64_t Excused(const std::string& glob, Key key) const {
    int64_t total = 0;
    for (size_t i = 0; i < diff_->grown.size(); ++i) {
      const GroupGrowth& g = diff_->grown[i];
      if (group_rule_[i] >= 0 && (glob.empty() || GlobMatch(glob, g.type))) {
        total += std::max<int64_t>(key(g), 0);
      }
    }
    return total;
  }

  void CheckTypeGrowth(const std::string& glob, int64_t bound) {
    int64_t delta = 0;
    for (const TypeDelta& t : diff_->types) {
      if (GlobMatch(glob, t.type)) delta += t.count_delta;
    }
    auto count = [](const GroupGrowth& g) { return g.count_delta; };
    delta -= Excused(glob, count);
    const bool passed = delta <= bound;
    const std::string name = "max-growth " + glob;
    if (!passed) {
      for (size_t i : Contributors(glob, count)) {
        report_.failures.push_back(ItemOf(a_, diff_->grown[i], name));
      }
    }
    Assert(name, passed,
           glob + " objects: " + FormatSignedCount(delta) + " (at most " +
               FormatSignedCount(bound) + " allowed)");
  }

  void CheckBytesGrowth(int64_t bound) {
    auto bytes = [](const GroupGrowth& g) { return g.bytes_delta; };
    const int64_t delta = diff_->live_bytes_delta - Excused("", bytes);
    const bool passed = delta <= bound;
    if (!passed) {
      for (size_t i : Contributors("", bytes)) {
        report_.failures.push_back(ItemOf(a_, diff_->grown[i], "max-growth-bytes"));
      }
    }
    Assert("max-growth-bytes", passed,
           "the live heap: " + FormatSignedBytes(delta) + " (at most " +
               FormatBytes(static_cast<uint64_t>(std::max<int64_t>(bound, 0))) + " allowed)");
  }

  // Every garbage cycle, however small (the detector's own thresholds are for reports).
  std::vector<Finding> AllCycles() const {
    DetectorOptions all = options_.detector_options;
    all.min_bytes = 0;
    all.min_share = 0;
    const PathShapes shapes(a_, FoldRule::kTwoAlike);
    const DetectorInput input{a_, shapes, all, ThresholdsFor(a_, all)};
    std::vector<Finding> cycles;
    DetectorRegistry::BuiltIn().Run(FindingKind::kUnreachableCycle, input, &cycles);
    for (Finding& f : cycles) f.fingerprint = FindingFingerprint(a_, shapes, f);
    std::stable_sort(cycles.begin(), cycles.end(), [](const Finding& x, const Finding& y) {
      return x.retained_bytes > y.retained_bytes;
    });
    return cycles;
  }

  void CheckUnreachable(uint64_t bound) {
    uint64_t excused = 0;
    std::vector<CheckItem> items;
    for (const Finding& f : AllCycles()) {
      const int rule = rules_->Match(SubjectOf(a_, f), f.objects, f.retained_bytes);
      if (rule >= 0) {
        excused += f.objects;
      } else if (items.size() < kMaxContributors) {
        items.push_back(ItemOf(a_, f, "max-unreachable"));
      }
    }
    const uint64_t total = a_.collector.unreachable_objects;
    const uint64_t counted = total - std::min(total, excused);
    const bool passed = counted <= bound;
    if (!passed) {
      for (CheckItem& item : items) report_.failures.push_back(std::move(item));
    }
    Assert(
        "max-unreachable", passed,
        FormatCount(counted) + " unreachable objects (at most " + FormatCount(bound) + " allowed)");
  }

  void CheckKind(FindingKind kind) {
    const std::string name = std::string("fail-on ") + FindingKindName(kind);
    size_t failed = 0;
    for (size_t i = 0; i < findings_.size(); ++i) {
      const Finding& f = findings_[i];
      if (f.kind != kind) continue;
      if (finding_rule_[i] >= 0) {
        Excuse(ItemOf(a_, f, name), finding_rule_[i]);
      } else {
        report_.failures.push_back(ItemOf(a_, f, name));
        ++failed;
      }
    }
    Assert(name, failed == 0,
           FormatCount(failed) + " " + FindingKindName(kind) +
               (failed == 1 ? " finding" : " findings"));
  }

  static constexpr size_t kMaxContributors = 10;

  const Analysis& a_;
  const HeapDiff* diff_;
  const CheckOptions& options_;
  SuppressionSet* rules_;
  std::vector<int> group_rule_;
  std::vector<Finding> findings_;
  std::vector<int> finding_rule_;
  CheckReport report_;
};

}  // namespace

CheckReport RunCheck(const Analysis& last, const HeapDiff* diff, const CheckOptions& options,
                     SuppressionSet* suppressions) {
  return Checker(last, diff, options, suppressions).Run();
}

}  // namespace heapsnap

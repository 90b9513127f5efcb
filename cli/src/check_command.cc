// heapsnap check SNAP [--baseline OLD]... [--max-growth TYPE=N]... [--max-growth-bytes N]
//   [--max-unreachable N] [--fail-on KIND]... [--suppress FILE]... [--no-default-suppressions]
//   [--junit FILE] [--json]
// For CI: exit 0 when every assertion holds, 1 when one fails (printing the groups, findings
// and paths that broke it), 2 for usage or input errors. The assertions are leak_check.h's.
#include <cctype>
#include <fstream>

#include "command.h"
#include "heapsnap/analyze/leak_check.h"
#include "json.h"
#include "junit.h"
#include "output_file.h"
#include "snapshot_series.h"

namespace heapsnap::cli {
namespace {

constexpr size_t kTextItems = 20;

const std::vector<FindingKind>& AllKinds() {
#define HEAPSNAP_KIND_VALUE(kind, make) FindingKind::kind,
  static const std::vector<FindingKind> kinds = {HEAPSNAP_DETECTORS(HEAPSNAP_KIND_VALUE)};
#undef HEAPSNAP_KIND_VALUE
  return kinds;
}

std::string KindList() {
  std::string out;
  for (FindingKind k : AllKinds())
    out += (out.empty() ? "" : ", ") + std::string(FindingKindName(k));
  return out;
}

// "N", or N with a unit: K/KB/KiB, M/MB/MiB, G/GB/GiB, all powers of 1024.
StatusOr<int64_t> ParseBytes(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 15) {
    return InvalidArgument("--max-growth-bytes: '" + text +
                           "' is not a size (e.g. 1048576, 512K, 10MiB)");
  }
  int64_t n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  if (unit == "K" || unit == "KB" || unit == "KIB") shift = 10;
  if (unit == "M" || unit == "MB" || unit == "MIB") shift = 20;
  if (unit == "G" || unit == "GB" || unit == "GIB") shift = 30;
  if (shift < 0) {
    return InvalidArgument("--max-growth-bytes: unknown unit in '" + text + "' (K, M or G)");
  }
  return n << shift;
}

class CheckCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "check", "For CI: exit 1 when the snapshot breaks an assertion (growth, bounds, findings)");
    sub->add_option("snapshot", path_, "The snapshot to judge (the newest)");
    sub->add_option("--baseline", baselines_,
                    "An earlier snapshot of the same program (repeat, oldest first): then no group "
                    "of objects may grow in every interval");
    sub->add_option("--min-growth", options_.min_growth,
                    "With baselines: a group grows when it rises by this many objects in every "
                    "interval (default 1)")
        ->check(CLI::PositiveNumber);
    sub->add_option("--max-growth", max_growth_,
                    "TYPE=N: objects of TYPE (a glob on the qualified name) may rise by at most N "
                    "from the first snapshot to the last; such types are judged by this bound "
                    "instead of by growth");
    sub->add_option("--max-growth-bytes", max_growth_bytes_,
                    "The live heap may grow by at most this much (N, or with K, M, G)");
    sub->add_option("--max-unreachable", max_unreachable_,
                    "At most N objects may be unreachable garbage in the snapshot")
        ->check(CLI::NonNegativeNumber);
    sub->add_option("--fail-on", fail_on_, "Fail on any finding of this kind: " + KindList());
    sub->add_option("--suppress", suppress_files_,
                    "A suppressions file (repeatable): type:, path:, function:, fingerprint: "
                    "rules, one per line (see README)");
    sub->add_flag("--no-default-suppressions", no_defaults_,
                  "Judge CPython's own caches too (re, typing, linecache, ...)");
    sub->add_flag("--list-default-suppressions", list_defaults_,
                  "Print the built-in rules and the Python versions they apply to, and exit");
    sub->add_option("--junit", junit_path_, "Also write the results as JUnit XML to this file");
    sub->add_flag("--json", json_, "Machine-readable output (see README)");
    return sub;
  }

  StatusOr<int> Run() override {
    if (list_defaults_) {
      ListDefaults();
      return 0;
    }
    HEAPSNAP_RETURN_IF_ERROR(ParseOptions());
    std::vector<SuppressionRule> user_rules;
    for (const std::string& file : suppress_files_) {
      HEAPSNAP_ASSIGN_OR_RETURN(std::vector<SuppressionRule> rules, LoadSuppressions(file));
      user_rules.insert(user_rules.end(), rules.begin(), rules.end());
    }
    std::vector<std::string> paths = baselines_;
    paths.push_back(path_);
    Progress progress;
    HEAPSNAP_ASSIGN_OR_RETURN(const SnapshotSeries series, LoadSeries(paths, &progress));
    const Analysis& last = *series.last->analysis;
    std::optional<HeapDiff> diff;
    if (!baselines_.empty()) {
      progress.Show("comparing " + std::to_string(paths.size()) + " snapshots");
      DiffOptions diff_options;
      diff_options.min_growth = options_.min_growth;
      diff = DiffHeaps(series.profiles, last, *series.last_shapes, diff_options);
    }
    SuppressionSet rules(user_rules, !no_defaults_,
                         PythonMinorVersion(series.last->snapshot.header.python_hexversion));
    progress.Show("checking");
    const CheckReport report = RunCheck(last, diff ? &*diff : nullptr, options_, &rules);
    progress.Clear();
    if (!junit_path_.empty()) {
      HEAPSNAP_RETURN_IF_ERROR(WriteFileAtomically(junit_path_, Junit(report)));
    }
    if (json_) {
      PrintJson(series, report, rules, std::cout);
      std::cout << "\n";
    } else {
      PrintText(report, rules, std::cout);
    }
    return report.passed ? 0 : 1;
  }

 private:
  Status ParseOptions() {
    if (path_.empty()) return InvalidArgument("check: give the snapshot to check");
    for (const std::string& bound : max_growth_) {
      const size_t eq = bound.rfind('=');
      char* end = nullptr;
      const std::string number = eq == std::string::npos ? "" : bound.substr(eq + 1);
      const long long n = number.empty() ? -1 : std::strtoll(number.c_str(), &end, 10);
      if (eq == 0 || eq == std::string::npos || n < 0 || *end != '\0') {
        return InvalidArgument("--max-growth: '" + bound + "' is not TYPE=N (e.g. app.Session=0)");
      }
      options_.max_growth.emplace_back(bound.substr(0, eq), n);
    }
    if (!max_growth_bytes_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(const int64_t bytes, ParseBytes(max_growth_bytes_));
      options_.max_growth_bytes = bytes;
    }
    if (max_unreachable_ >= 0) options_.max_unreachable = static_cast<uint64_t>(max_unreachable_);
    for (const std::string& name : fail_on_) {
      bool known = false;
      for (FindingKind k : AllKinds()) {
        if (name == FindingKindName(k)) {
          options_.fail_on.push_back(k);
          known = true;
        }
      }
      if (!known) {
        return InvalidArgument("--fail-on: unknown kind '" + name + "' (" + KindList() + ")");
      }
    }
    const bool growth_bounds = !options_.max_growth.empty() || options_.max_growth_bytes;
    if (growth_bounds && baselines_.empty()) {
      return InvalidArgument(
          "check: --max-growth and --max-growth-bytes compare with an earlier snapshot: give it "
          "with --baseline");
    }
    if (baselines_.empty() && !options_.max_unreachable && options_.fail_on.empty()) {
      return InvalidArgument(
          "check: nothing to check: give --baseline (no growth), --max-unreachable or --fail-on");
    }
    return Status::Ok();
  }

  static void ListDefaults() {
    std::cout << "Built-in suppressions: CPython's own fill-once retention, reported as known "
                 "retention (--no-default-suppressions judges it too)\n";
    for (const SuppressionRule& r : DefaultSuppressions()) {
      std::cout << "  " << r.Text() << "\n      Python " << r.Versions() << ": " << r.reason
                << "\n";
    }
  }

  static std::string ItemDetails(const CheckItem& item) {
    std::string text = item.title + "\npath: " + item.path_text + "\n";
    if (item.kind == "group") {
      text += "counts: " + FormatCountSeries(item.counts) + " (" +
              FormatSignedCount(item.count_delta) + " objects, " +
              FormatSignedBytes(item.bytes_delta) + ")\n";
    } else {
      text += "retains: " + FormatCount(static_cast<uint64_t>(item.count_delta)) + " objects, " +
              FormatBytes(static_cast<uint64_t>(item.bytes_delta)) + "\n";
    }
    if (item.example_address != 0) {
      text += "example: " + FormatAddress(item.example_address) + " " + item.example_path + "\n";
    }
    text += "fingerprint: " + FingerprintHex(item.fingerprint) + "\n";
    return text;
  }

  std::string Junit(const CheckReport& report) const {
    std::vector<JUnitCase> cases;
    for (const AssertionResult& a : report.assertions) {
      JUnitCase c{"heapsnap.check", a.name, JUnitCase::Outcome::kPassed, a.message, ""};
      if (!a.passed) {
        c.outcome = JUnitCase::Outcome::kFailed;
        c.text = a.message + "\n";
      }
      cases.push_back(c);
    }
    for (const CheckItem& item : report.failures) {
      cases.push_back({"heapsnap.check." + item.assertion,
                       FingerprintHex(item.fingerprint) + " " + item.path_text,
                       JUnitCase::Outcome::kFailed, item.title, ItemDetails(item)});
    }
    for (const auto* list : {&report.known_retention, &report.suppressed}) {
      const bool known = list == &report.known_retention;
      for (const CheckItem& item : *list) {
        cases.push_back({known ? "heapsnap.known_retention" : "heapsnap.suppressed",
                         FingerprintHex(item.fingerprint) + " " + item.path_text,
                         JUnitCase::Outcome::kSkipped,
                         (known ? "known retention: " : "suppressed: ") + item.rule, ""});
      }
    }
    return JUnitXml("heapsnap check " + path_, cases);
  }

  void PrintText(const CheckReport& r, const SuppressionSet& rules, std::ostream& out) const {
    size_t failed = 0;
    for (const AssertionResult& a : r.assertions) failed += !a.passed;
    out << "heapsnap check " << path_;
    if (!baselines_.empty()) {
      out << " against " << baselines_.size()
          << (baselines_.size() == 1 ? " baseline" : " baselines");
    }
    out << ": " << (r.passed ? "passed" : "FAILED") << " (" << r.assertions.size() - failed
        << " of " << r.assertions.size() << " assertions hold)\n";
    for (const AssertionResult& a : r.assertions) {
      out << "  " << (a.passed ? "ok   " : "FAIL ") << a.name << ": " << a.message << "\n";
    }
    PrintItems("Failures", r.failures, true, out);
    PrintItems("Suppressed by your rules", r.suppressed, false, out);
    // Known retention by rule, not by group: CPython's caches make many small groups.
    bool header = false;
    for (size_t i = 0; i < rules.rules().size(); ++i) {
      const SuppressionRule& rule = rules.rules()[i];
      const SuppressionUse& use = rules.uses()[i];
      if (!rule.builtin || use.matches == 0) continue;
      if (!header) {
        out << "\nKnown retention: CPython's own caches, matched by built-in rules (not judged; "
               "--no-default-suppressions judges them too; --json lists every group):\n";
      }
      header = true;
      out << "  " << rule.Text() << ": " << FormatCount(use.matches)
          << (use.matches == 1 ? " group, " : " groups, ")
          << FormatSignedCount(static_cast<int64_t>(use.objects)) << " objects, "
          << FormatSignedBytes(static_cast<int64_t>(use.bytes)) << "\n      " << rule.reason
          << "\n";
    }
    header = false;
    for (size_t i = 0; i < rules.rules().size(); ++i) {
      const SuppressionRule& rule = rules.rules()[i];
      const SuppressionUse& use = rules.uses()[i];
      if (rule.builtin) continue;
      if (!header) out << "\nYour suppression rules:\n";
      header = true;
      if (use.matches == 0) {
        out << "  UNUSED     " << rule.Text() << " (" << rule.origin << ") matched nothing\n";
      } else {
        out << "  matched " << FormatCount(use.matches)
            << (use.matches == 1 ? " group or finding: " : " groups or findings: ") << rule.Text()
            << " (" << rule.origin << "), " << FormatCount(use.objects) << " objects, "
            << FormatBytes(use.bytes) << "\n";
      }
    }
  }

  static void PrintItems(const std::string& title, const std::vector<CheckItem>& items,
                         bool numbered, std::ostream& out) {
    if (items.empty()) return;
    out << "\n" << title << ":\n";
    for (size_t i = 0; i < items.size() && i < kTextItems; ++i) {
      const CheckItem& item = items[i];
      if (numbered) {
        out << "#" << i + 1 << " " << item.assertion << ": " << item.title << "\n";
        std::string details = ItemDetails(item);
        details = details.substr(details.find('\n') + 1);  // the title is on the line above
        for (size_t start = 0; start < details.size();) {
          const size_t end = details.find('\n', start);
          out << "   " << details.substr(start, end - start) << "\n";
          start = end + 1;
        }
      } else {
        out << "  " << item.title << "\n     " << item.rule << "; fingerprint "
            << FingerprintHex(item.fingerprint) << "\n";
      }
    }
    if (items.size() > kTextItems) {
      out << "... and " << FormatCount(items.size() - kTextItems) << " more (--json lists all)\n";
    }
  }

  static void PrintJsonItem(const CheckItem& item, JsonWriter& j) {
    j.BeginObject();
    j.Key("assertion").String(item.assertion);
    j.Key("kind").String(item.kind);
    j.Key("fingerprint").String(FingerprintHex(item.fingerprint));
    j.Key("title").String(item.title);
    j.Key("path").StringArray(item.path);
    j.Key("path_text").String(item.path_text);
    j.Key("type").String(item.type);
    j.Key("counts").UintArray(item.counts);
    j.Key("count_delta").Int(item.count_delta);
    j.Key("bytes_delta").Int(item.bytes_delta);
    if (item.example_address != 0) {
      j.Key("example").String(FormatAddress(item.example_address));
    } else {
      j.Key("example").Null();
    }
    j.Key("example_path").String(item.example_path);
    if (!item.rule.empty()) j.Key("rule").String(item.rule);
    j.EndObject();
  }

  void PrintJson(const SnapshotSeries& series, const CheckReport& r, const SuppressionSet& rules,
                 std::ostream& out) const {
    JsonWriter j(out);
    j.BeginObject();
    j.Key("passed").Bool(r.passed);
    j.Key("snapshots").StringArray(series.paths);
    j.Key("assertions").BeginArray();
    for (const AssertionResult& a : r.assertions) {
      j.BeginObject();
      j.Key("name").String(a.name);
      j.Key("passed").Bool(a.passed);
      j.Key("message").String(a.message);
      j.EndObject();
    }
    j.EndArray();
    const std::pair<const char*, const std::vector<CheckItem>*> lists[] = {
        {"findings", &r.failures},
        {"known_retention", &r.known_retention},
        {"suppressed", &r.suppressed}};
    for (const auto& [key, items] : lists) {
      j.Key(key).BeginArray();
      for (const CheckItem& item : *items) PrintJsonItem(item, j);
      j.EndArray();
    }
    j.Key("suppressions").BeginArray();
    for (size_t i = 0; i < rules.rules().size(); ++i) {
      const SuppressionRule& rule = rules.rules()[i];
      const SuppressionUse& use = rules.uses()[i];
      j.BeginObject();
      j.Key("rule").String(rule.Text());
      j.Key("origin").String(rule.origin);
      j.Key("builtin").Bool(rule.builtin);
      j.Key("matches").Uint(use.matches);
      j.Key("objects").Uint(use.objects);
      j.Key("bytes").Uint(use.bytes);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }

  std::string path_;
  std::vector<std::string> baselines_;
  std::vector<std::string> max_growth_;
  std::string max_growth_bytes_;
  int64_t max_unreachable_ = -1;
  std::vector<std::string> fail_on_;
  std::vector<std::string> suppress_files_;
  bool no_defaults_ = false;
  bool list_defaults_ = false;
  std::string junit_path_;
  bool json_ = false;
  CheckOptions options_;
};

}  // namespace

std::unique_ptr<Command> MakeCheckCommand() { return std::make_unique<CheckCommand>(); }

}  // namespace heapsnap::cli

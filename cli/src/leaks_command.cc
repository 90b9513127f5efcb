// heapsnap leaks SNAP [--verbose] [--min-bytes N] [--json]: what is leaking and why, ranked by
// retained bytes, each finding with the path that holds it and a one-line fix. Exit code 0
// whether or not anything was found: this command reports, it does not judge.
#include <algorithm>
#include <cstdio>

#include "command.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/heap_diff.h"
#include "json.h"

namespace heapsnap::cli {
namespace {

struct LeaksResult {
  const Analysis* analysis = nullptr;
  std::vector<Finding> findings;  // all of them: JSON has every one
  Thresholds thresholds;
  std::vector<const Finding*> shown;  // what the text shows: notes on library code need -v
  size_t hidden = 0;
};

class LeaksCommand : public SnapshotCommand<LeaksResult> {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = AddSubcommand(app, "leaks", "What is leaking and why, largest first");
    sub->add_flag("-v,--verbose", verbose_, "All examples and details of every finding");
    sub->add_option("--min-bytes", min_bytes_,
                    "Leave out findings retaining less (default 10240; finalizer trouble, notes "
                    "and groups of 100 or more garbage cycles are always reported)");
    sub->add_option(
           "--min-share", min_share_,
           "Large containers, linked chains and memory held from C code are reported when they "
           "retain this percentage of the live heap, and --min-bytes (default 3)")
        ->check(CLI::Range(0.0, 100.0));
    AddJsonFlag(sub, "Machine-readable output (see README)");
    return sub;
  }

 private:
  StatusOr<LeaksResult> Compute(const Loaded& loaded) override {
    LeaksResult r;
    r.analysis = &*loaded.analysis;
    DetectorOptions options;
    options.min_bytes = min_bytes_;
    options.min_share = min_share_ / 100.0;
    r.findings = DetectLeaks(*r.analysis, options);
    r.thresholds = ThresholdsFor(*r.analysis, options);
    for (const Finding& f : r.findings) {
      // Notes on a library's own code (its decorators, its empty defaults) are for --verbose.
      if (!verbose_ && f.severity == Severity::kLow && detect::InLibrary(f.location)) {
        ++r.hidden;
      } else {
        r.shown.push_back(&f);
      }
    }
    return r;
  }

  void PrintJson(const LeaksResult& r, std::ostream& out) const override {
    JsonWriter j(out);
    j.BeginObject();
    j.Key("unreachable_objects").Uint(r.analysis->collector.unreachable_objects);
    j.Key("thresholds").BeginObject();
    j.Key("min_bytes").Uint(min_bytes_);
    j.Key("min_share_percent").Double(min_share_);
    j.Key("share_bytes").Uint(r.thresholds.share_bytes);
    j.Key("live_bytes").Uint(r.thresholds.live_bytes);
    j.EndObject();
    j.Key("findings").BeginArray();
    for (const Finding& f : r.findings) PrintJsonFinding(r.analysis->snapshot(), f, j);
    j.EndArray().EndObject();
  }

  // Every finding has the same fields, then its kind's own (KindFields), written generically.
  static void PrintJsonFinding(const Snapshot& s, const Finding& f, JsonWriter& j) {
    j.BeginObject();
    j.Key("kind").String(FindingKindName(f.kind));
    j.Key("fingerprint").String(FingerprintHex(f.fingerprint));
    j.Key("severity").String(SeverityName(f.severity));
    j.Key("title").String(f.title);
    j.Key("fix").String(f.fix);
    j.Key("count").Uint(f.count);
    j.Key("objects").Uint(f.objects);
    j.Key("retained_bytes").Uint(f.retained_bytes);
    j.Key("types").BeginObject();
    for (const auto& [type, count] : f.types) j.Key(type).Uint(count);
    j.EndObject();
    j.Key("path").BeginArray();
    for (const auto& label : f.path) j.String(label);
    j.EndArray();
    j.Key("path_text").String(f.path_text);
    j.Key("examples").BeginArray();
    for (NodeIndex e : f.examples) j.String(FormatAddress(s.address[e.value()]));
    j.EndArray();
    for (const KindField& field : KindFields(f)) {
      j.Key(field.name);
      if (field.is_number) {
        j.Uint(field.number);
      } else {
        j.String(field.text);
      }
    }
    j.Key("details").BeginArray();
    for (const auto& d : f.details) j.String(d);
    j.EndArray();
    j.EndObject();
  }

  void PrintText(const LeaksResult& r, std::ostream& out) const override {
    PrintTextHeader(r, out);
    if (r.findings.empty()) {
      out << "no leaks found\n";
      return;
    }
    size_t number = 0;
    for (const Finding* f : r.shown) PrintTextFinding(r.analysis->snapshot(), *f, ++number, out);
    if (r.hidden > 0) {
      out << "\n"
          << FormatCount(r.hidden) << (r.hidden == 1 ? " note" : " notes")
          << " on library code not shown (--verbose shows them)\n";
    }
  }

  void PrintTextHeader(const LeaksResult& r, std::ostream& out) const {
    out << path() << ": " << FormatCount(r.analysis->collector.unreachable_objects)
        << " gc-tracked objects would be found unreachable by a full gc.collect()";
    if (!r.analysis->snapshot().header.gc_enabled) out << " (gc is disabled)";
    out << "\n";
    char share[32];
    std::snprintf(share, sizeof(share), "%g%%", min_share_);
    out << "reported: findings that retain " << FormatBytes(min_bytes_)
        << " or more (--min-bytes; finalizer trouble, notes, and groups of 100 or more "
           "garbage cycles always); large containers, linked chains and memory held from C "
           "code also need "
        << share << " of the live heap, " << FormatBytes(r.thresholds.share_bytes)
        << " (--min-share)\n";
  }

  void PrintTextFinding(const Snapshot& s, const Finding& f, size_t number,
                        std::ostream& out) const {
    out << "\n#" << number << " " << FindingKindName(f.kind)
        << (f.severity == Severity::kLow ? " (note)" : "") << ": " << FormatBytes(f.retained_bytes)
        << " in " << FormatCount(f.objects) << (f.objects == 1 ? " object" : " objects") << "\n";
    out << "   " << f.title << "\n";
    if (!f.path_text.empty()) out << "   held by: " << f.path_text << "\n";
    if (!f.types.empty()) {
      std::vector<std::pair<uint64_t, std::string>> types;
      for (const auto& [type, count] : f.types) types.emplace_back(count, type);
      std::sort(types.rbegin(), types.rend());
      out << "   holds:";
      for (size_t k = 0; k < types.size() && (verbose_ || k < 4); ++k) {
        out << (k ? ", " : " ") << FormatCount(types[k].first) << " " << types[k].second;
      }
      out << "\n";
    }
    for (size_t k = 0; k < f.details.size() && (verbose_ || k < 3); ++k) {
      out << "   " << f.details[k] << "\n";
    }
    if (verbose_) {
      out << "   examples:";
      for (NodeIndex e : f.examples) out << " " << FormatAddress(s.address[e.value()]);
      out << "\n";
    }
    out << "   fix: " << f.fix << "\n";
  }

  bool verbose_ = false;
  uint64_t min_bytes_ = DetectorOptions().min_bytes;
  double min_share_ = DetectorOptions().min_share * 100;  // a percentage here
};

}  // namespace

std::unique_ptr<Command> MakeLeaksCommand() { return std::make_unique<LeaksCommand>(); }

}  // namespace heapsnap::cli

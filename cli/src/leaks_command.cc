// heapsnap leaks SNAP [--verbose] [--min-bytes N] [--json]: what is leaking and why, ranked by
// retained bytes, each finding with the path that holds it and a one-line fix. Exit code 0
// whether or not anything was found (`check` is the command that fails builds).
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "command.h"
#include "heapsnap/analyze/detectors.h"
#include "json.h"
#include "loaded.h"

namespace heapsnap::cli {
namespace {

class LeaksCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand("leaks", "What is leaking and why, largest first");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    sub->add_flag("-v,--verbose", verbose_, "All examples and details of every finding");
    sub->add_option("--min-bytes", min_bytes_,
                    "Leave out findings retaining less (default 10240; garbage cycles, "
                    "finalizers and mutable defaults are always reported)");
    sub->add_option(
           "--min-share", min_share_,
           "Large containers, linked chains and memory held from C code are reported when they "
           "retain this percentage of the live heap, and --min-bytes (default 3)")
        ->check(CLI::Range(0.0, 100.0));
    sub->add_flag("--json", json_, "Machine-readable output (see README)");
    return sub;
  }

  StatusOr<int> Run() override {
    auto loaded = LoadAndAnalyze(path_);
    if (!loaded.ok()) return loaded.status();
    const Snapshot& s = (*loaded)->snapshot;
    const Analysis& a = (*loaded)->analysis;
    DetectorOptions options;
    options.min_bytes = min_bytes_;
    options.min_share = min_share_ / 100.0;
    std::vector<Finding> findings = DetectLeaks(a, options);
    const Thresholds thresholds = ThresholdsFor(a, options);
    const uint64_t live = thresholds.live_bytes;
    const uint64_t share_bytes = thresholds.share_bytes;
    if (json_) {
      JsonWriter j(std::cout);
      j.BeginObject();
      j.Key("unreachable_objects").Uint(a.collector.unreachable_objects);
      j.Key("thresholds").BeginObject();
      j.Key("min_bytes").Uint(min_bytes_);
      j.Key("min_share_percent").Double(min_share_);
      j.Key("share_bytes").Uint(share_bytes);
      j.Key("live_bytes").Uint(live);
      j.EndObject();
      j.Key("findings").BeginArray();
      for (const Finding& f : findings) {
        j.BeginObject();
        j.Key("kind").String(FindingKindName(f.kind));
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
      j.EndArray().EndObject();
      std::cout << "\n";
      return 0;
    }
    std::cout << path_ << ": " << FormatCount(a.collector.unreachable_objects)
              << " gc-tracked objects would be found unreachable by a full gc.collect()";
    if (!s.header.gc_enabled) std::cout << " (gc is disabled)";
    std::cout << "\n";
    char share[32];
    std::snprintf(share, sizeof(share), "%g%%", min_share_);
    std::cout << "reported: findings that retain " << FormatBytes(min_bytes_)
              << " or more (--min-bytes; finalizer trouble, notes, and groups of 100 or more "
                 "garbage cycles always); large containers, linked chains and memory held from C "
                 "code also need "
              << share << " of the live heap, " << FormatBytes(share_bytes) << " (--min-share)\n";
    if (findings.empty()) {
      std::cout << "no leaks found\n";
      return 0;
    }
    size_t number = 0;
    size_t hidden = 0;
    for (const Finding& f : findings) {
      // Notes on a library's own code (its decorators, its empty defaults) are for --verbose.
      if (!verbose_ && f.severity == Severity::kLow && detect::InLibrary(f.location)) {
        ++hidden;
        continue;
      }
      ++number;
      std::cout << "\n#" << number << " " << FindingKindName(f.kind)
                << (f.severity == Severity::kLow ? " (note)" : "") << ": "
                << FormatBytes(f.retained_bytes) << " in " << FormatCount(f.objects)
                << (f.objects == 1 ? " object" : " objects") << "\n";
      std::cout << "   " << f.title << "\n";
      if (!f.path_text.empty()) std::cout << "   held by: " << f.path_text << "\n";
      if (!f.types.empty()) {
        std::vector<std::pair<uint64_t, std::string>> types;
        for (const auto& [type, count] : f.types) types.emplace_back(count, type);
        std::sort(types.rbegin(), types.rend());
        std::cout << "   holds:";
        for (size_t k = 0; k < types.size() && (verbose_ || k < 4); ++k) {
          std::cout << (k ? ", " : " ") << FormatCount(types[k].first) << " " << types[k].second;
        }
        std::cout << "\n";
      }
      for (size_t k = 0; k < f.details.size() && (verbose_ || k < 3); ++k) {
        std::cout << "   " << f.details[k] << "\n";
      }
      if (verbose_) {
        std::cout << "   examples:";
        for (NodeIndex e : f.examples) std::cout << " " << FormatAddress(s.address[e.value()]);
        std::cout << "\n";
      }
      std::cout << "   fix: " << f.fix << "\n";
    }
    if (hidden > 0) {
      std::cout << "\n"
                << FormatCount(hidden) << (hidden == 1 ? " note" : " notes")
                << " on library code not shown (--verbose shows them)\n";
    }
    return 0;
  }

 private:
  std::string path_;
  bool verbose_ = false;
  uint64_t min_bytes_ = uint64_t{10} * 1024;
  double min_share_ = 3;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeLeaksCommand() { return std::make_unique<LeaksCommand>(); }

}  // namespace heapsnap::cli

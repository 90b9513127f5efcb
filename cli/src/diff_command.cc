// heapsnap diff OLD NEW [MORE...] [--min-growth K] [--json]
// heapsnap diff --baseline A --target B --final C
// What grew between snapshots of one program: per type, and per group of objects alike (path
// shape and type, never address: heap_diff.h), with a group growing only when it rose by K in
// every interval. Exit code 0 whatever grew: this command reports; `check` judges.
#include <algorithm>
#include <cstdlib>

#include "command.h"
#include "heapsnap/analyze/heap_diff.h"
#include "json.h"
#include "snapshot_series.h"

namespace heapsnap::cli {
namespace {

constexpr size_t kTextGroups = 20;
constexpr size_t kTextContainers = 10;
constexpr size_t kTextTypes = 15;

class DiffCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "diff",
        "What grew between snapshots of one program, by type and by path (never by address)");
    sub->add_option("snapshots", paths_, "Snapshots, oldest first (two or more)");
    sub->add_option("--baseline", baseline_, "Three-snapshot form: before the action");
    sub->add_option("--target", target_, "Three-snapshot form: after the action");
    sub->add_option("--final", final_,
                    "Three-snapshot form: after the action was undone or repeated");
    sub->add_option(
           "--min-growth", min_growth_,
           "A group grows when it rises by this many objects in every interval (default 1)")
        ->check(CLI::PositiveNumber);
    sub->add_flag("--json", json_, "Machine-readable output (see README)");
    return sub;
  }

  StatusOr<int> Run() override {
    std::vector<std::string> paths = paths_;
    const bool three = !baseline_.empty() || !target_.empty() || !final_.empty();
    if (three) {
      if (!paths.empty() || baseline_.empty() || target_.empty() || final_.empty()) {
        return InvalidArgument(
            "diff: give --baseline, --target and --final together, or the snapshots in order "
            "without them");
      }
      paths = {baseline_, target_, final_};
    }
    if (paths.size() < 2) {
      return InvalidArgument("diff: give two or more snapshots of one program, oldest first");
    }
    Progress progress;
    HEAPSNAP_ASSIGN_OR_RETURN(const SnapshotSeries series, LoadSeries(paths, &progress));
    DiffOptions options;
    options.min_growth = min_growth_;
    progress.Show("comparing " + std::to_string(paths.size()) + " snapshots");
    const HeapDiff diff =
        DiffHeaps(series.profiles, *series.last->analysis, *series.last_shapes, options);
    progress.Clear();
    if (json_) {
      PrintJson(series, diff, std::cout);
      std::cout << "\n";
    } else {
      PrintText(series, diff, std::cout);
    }
    return 0;
  }

 private:
  void PrintText(const SnapshotSeries& series, const HeapDiff& d, std::ostream& out) const {
    const Snapshot& last = series.last->snapshot;
    const HeapProfile& first_p = series.profiles.front();
    const HeapProfile& last_p = series.profiles.back();
    out << "heapsnap diff: " << series.paths.size() << " snapshots, " << series.paths.size() - 1
        << (series.paths.size() == 2 ? " interval" : " intervals") << ", oldest first\n";
    for (const std::string& p : series.paths) out << "  " << p << "\n";
    out << "live heap: " << FormatCountSeries({first_p.live_objects, last_p.live_objects})
        << " objects (" << FormatSignedCount(d.live_objects_delta) << "), "
        << FormatBytes(first_p.live_bytes) << " -> " << FormatBytes(last_p.live_bytes) << " ("
        << FormatSignedBytes(d.live_bytes_delta) << ")"
        << "; unreachable garbage: " << FormatSignedCount(d.unreachable_objects_delta)
        << " objects\n\n";

    std::vector<const GroupGrowth*> growing;
    for (const GroupGrowth& g : d.grown) {
      if (g.growing && g.described) growing.push_back(&g);
    }
    const std::string rule = "rose by " + FormatCount(min_growth_) + " or more" +
                             (series.paths.size() == 2 ? "" : " in every interval");
    if (growing.empty()) {
      out << "No group of objects " << rule << ".\n";
    } else {
      out << "Growing: " << FormatCount(d.growing_count)
          << (d.growing_count == 1 ? " group of objects " : " groups of objects ") << rule
          << ", largest first\n";
    }
    for (size_t i = 0; i < growing.size() && i < kTextGroups; ++i) {
      const GroupGrowth& g = *growing[i];
      out << "#" << i + 1 << " " << FormatSignedCount(g.count_delta) << " " << g.type << " ("
          << FormatSignedBytes(g.bytes_delta) << "): " << FormatCountSeries(g.counts) << "\n"
          << "   at " << g.path_text << "\n"
          << "   e.g. " << FormatAddress(last.address[g.example.value()]) << " " << g.example_path
          << "\n"
          << "   fingerprint " << FingerprintHex(g.fingerprint) << "\n";
    }
    if (growing.size() > kTextGroups) {
      out << "... and " << FormatCount(growing.size() - kTextGroups)
          << " more (--json lists all)\n";
    }
    if (!d.containers.empty()) {
      out << "\nContainers that grew" << (series.paths.size() == 2 ? "" : " in every interval")
          << ":\n";
      for (size_t i = 0; i < d.containers.size() && i < kTextContainers; ++i) {
        const GrownContainer& c = d.containers[i];
        out << "  " << c.type << " " << c.path_text << ": " << FormatCountSeries(c.lengths)
            << " entries, retains " << FormatBytes(c.retained_bytes) << " ("
            << FormatSignedBytes(c.retained_bytes_delta) << ")\n";
      }
    }
    if (!d.types.empty()) {
      out << "\nTypes, by bytes added (count, own bytes, retained bytes):\n";
      for (size_t i = 0; i < d.types.size() && i < kTextTypes; ++i) {
        const TypeDelta& t = d.types[i];
        out << "  " << FormatSignedCount(t.count_delta) << "  " << FormatSignedBytes(t.bytes_delta)
            << "  " << FormatSignedBytes(t.retained_bytes_delta) << "  " << t.type << "\n";
      }
      if (d.types.size() > kTextTypes) {
        out << "  ... and " << FormatCount(d.types.size() - kTextTypes) << " more types\n";
      }
    }
  }

  void PrintJson(const SnapshotSeries& series, const HeapDiff& d, std::ostream& out) const {
    const Snapshot& last = series.last->snapshot;
    JsonWriter j(out);
    j.BeginObject();
    j.Key("snapshots").StringArray(series.paths);
    j.Key("min_growth").Uint(min_growth_);
    j.Key("live_objects_delta").Int(d.live_objects_delta);
    j.Key("live_bytes_delta").Int(d.live_bytes_delta);
    j.Key("unreachable_objects_delta").Int(d.unreachable_objects_delta);
    j.Key("types").BeginArray();
    for (const TypeDelta& t : d.types) {
      j.BeginObject();
      j.Key("type").String(t.type);
      j.Key("count").Uint(t.count);
      j.Key("count_delta").Int(t.count_delta);
      j.Key("bytes_delta").Int(t.bytes_delta);
      j.Key("retained_bytes_delta").Int(t.retained_bytes_delta);
      j.EndObject();
    }
    j.EndArray();
    j.Key("growing_count").Uint(d.growing_count);
    j.Key("growing").BeginArray();
    for (const GroupGrowth& g : d.grown) {
      if (!g.growing || !g.described) continue;
      j.BeginObject();
      j.Key("fingerprint").String(FingerprintHex(g.fingerprint));
      j.Key("path").StringArray(g.path);
      j.Key("path_text").String(g.path_text);
      j.Key("type").String(g.type);
      j.Key("counts").UintArray(g.counts);
      j.Key("count_delta").Int(g.count_delta);
      j.Key("bytes_delta").Int(g.bytes_delta);
      j.Key("example").String(FormatAddress(last.address[g.example.value()]));
      j.Key("example_path").String(g.example_path);
      j.EndObject();
    }
    j.EndArray();
    j.Key("containers").BeginArray();
    for (const GrownContainer& c : d.containers) {
      j.BeginObject();
      j.Key("fingerprint").String(FingerprintHex(c.fingerprint));
      j.Key("type").String(c.type);
      j.Key("path_text").String(c.path_text);
      j.Key("lengths").UintArray(c.lengths);
      j.Key("retained_bytes").Uint(c.retained_bytes);
      j.Key("retained_bytes_delta").Int(c.retained_bytes_delta);
      j.Key("address").String(FormatAddress(last.address[c.node.value()]));
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }

  std::vector<std::string> paths_;
  std::string baseline_;
  std::string target_;
  std::string final_;
  uint64_t min_growth_ = 1;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeDiffCommand() { return std::make_unique<DiffCommand>(); }

}  // namespace heapsnap::cli

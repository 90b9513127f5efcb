// heapsnap report SNAP [--baseline OLD]... -o report.html: one self-contained HTML page (no
// network) with the summary, the leak findings with their retainer graphs, the largest objects
// and types, a drillable map of the dominator tree and, against baselines, what grew
// (heapsnap/export/html_report.h). The file is written whole or not at all.
#include <optional>

#include "command.h"
#include "heapsnap/export/html_report.h"
#include "output_file.h"
#include "snapshot_series.h"

namespace heapsnap::cli {
namespace {

class ReportCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "report",
        "A self-contained HTML report: summary, leak findings with their retainer graphs, the "
        "largest objects, a map of the memory, and with --baseline what grew");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    sub->add_option("-o,--output", output_, "The HTML file to write")->required();
    sub->add_option("--baseline", baselines_,
                    "An older snapshot of the same program, to show what grew (repeat for "
                    "several, oldest first)");
    sub->add_option("--min-growth", min_growth_,
                    "With baselines: a group grows when it rises by this many objects in every "
                    "interval (default 1)")
        ->check(CLI::PositiveNumber);
    sub->add_option("--min-bytes", detectors_.min_bytes,
                    "Leave out findings retaining less, as heapsnap leaks (default 10240)");
    sub->add_option("--min-share", min_share_,
                    "Large containers, chains and C-held memory must retain this percentage of "
                    "the live heap, as heapsnap leaks (default 3)")
        ->check(CLI::Range(0.0, 100.0));
    return sub;
  }

  StatusOr<int> Run() override {
    Progress progress;
    // One snapshot is loaded alone; with baselines, as a series (one at a time, each reduced
    // to its profile), the report's snapshot last.
    std::vector<std::string> paths = baselines_;
    paths.push_back(path_);
    SnapshotSeries series;
    if (baselines_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(series.last, LoadSnapshotFile(path_, Analyse::kYes, &progress));
    } else {
      HEAPSNAP_ASSIGN_OR_RETURN(series, LoadSeries(paths, &progress));
    }
    std::optional<HeapDiff> diff;
    HtmlReportDiff diff_input;
    if (!baselines_.empty()) {
      progress.Show("comparing " + std::to_string(paths.size()) + " snapshots");
      DiffOptions options;
      options.min_growth = min_growth_;
      diff = DiffHeaps(series.profiles, *series.last->analysis, *series.last_shapes, options);
      diff_input.snapshot_names = paths;
      diff_input.profiles = &series.profiles;
      diff_input.diff = &*diff;
      diff_input.min_growth = min_growth_;
    }
    HtmlReportOptions options;
    options.snapshot_name = path_;
    options.detectors = detectors_;
    options.detectors.min_share = min_share_ / 100.0;
    options.progress = [&](const char* phase, double fraction) {
      progress.ShowPhase(phase, fraction);
    };
    const std::string html =
        RenderHtmlReport(*series.last->analysis, options, diff ? &diff_input : nullptr);
    progress.Show("writing " + output_);
    HEAPSNAP_RETURN_IF_ERROR(WriteFileAtomically(output_, html));
    progress.Clear();
    std::cerr << "heapsnap: report written to " << output_ << " (" << FormatBytes(html.size())
              << ")\n";
    return 0;
  }

 private:
  std::string path_;
  std::string output_;
  std::vector<std::string> baselines_;
  uint64_t min_growth_ = 1;
  DetectorOptions detectors_;
  double min_share_ = DetectorOptions().min_share * 100;  // a percentage here
};

}  // namespace

std::unique_ptr<Command> MakeReportCommand() { return std::make_unique<ReportCommand>(); }

}  // namespace heapsnap::cli

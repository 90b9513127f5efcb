#include "snapshot_series.h"

#include <iostream>

namespace heapsnap::cli {
namespace {

void NoteMismatches(const std::vector<std::string>& paths, const std::vector<HeaderInfo>& headers) {
  for (size_t i = 1; i < headers.size(); ++i) {
    if (headers[i].python_version != headers[0].python_version) {
      std::cerr << "heapsnap: note: " << paths[i] << " is of Python " << headers[i].python_version
                << ", " << paths[0] << " of Python " << headers[0].python_version
                << ": paths that differ between versions do not compare\n";
    }
    if (headers[i].time_unix_ns != 0 && headers[i].time_unix_ns < headers[i - 1].time_unix_ns) {
      std::cerr << "heapsnap: note: " << paths[i] << " was taken before " << paths[i - 1]
                << ": snapshots are compared in the order given (oldest first)\n";
    }
  }
}

}  // namespace

StatusOr<SnapshotSeries> LoadSeries(const std::vector<std::string>& paths, Progress* shared) {
  // One snapshot at a time. Loading two at once on two threads was measured: on the
  // development machines' 2 vCPUs it took as long as one after the other (two `heapsnap
  // summary` processes side by side do too: the work is bound by memory), for twice the memory.
  Progress own;
  Progress& progress = shared != nullptr ? *shared : own;
  SnapshotSeries series;
  series.paths = paths;
  std::vector<HeaderInfo> headers;
  for (size_t i = 0; i < paths.size(); ++i) {
    progress.SetPrefix("snapshot " + std::to_string(i + 1) + "/" + std::to_string(paths.size()) +
                       " (" + paths[i] + "): ");
    HEAPSNAP_ASSIGN_OR_RETURN(std::unique_ptr<Loaded> loaded,
                              LoadSnapshotFile(paths[i], Analyse::kYes, &progress));
    headers.push_back(loaded->snapshot.header);
    progress.Show("path shapes");
    auto shapes = std::make_unique<PathShapes>(*loaded->analysis, FoldRule::kTwoAlike);
    series.profiles.push_back(ProfileHeap(*loaded->analysis, *shapes));
    if (i + 1 == paths.size()) {
      series.last = std::move(loaded);
      series.last_shapes = std::move(shapes);
    }
  }
  progress.SetPrefix("");
  progress.Clear();
  NoteMismatches(paths, headers);
  return series;
}

}  // namespace heapsnap::cli

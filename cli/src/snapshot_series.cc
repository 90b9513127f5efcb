#include "snapshot_series.h"

#include <iostream>

namespace heapsnap::cli {

StatusOr<SnapshotSeries> LoadSeries(const std::vector<std::string>& paths) {
  SnapshotSeries series;
  series.paths = paths;
  std::string first_version;
  int64_t previous_time = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    HEAPSNAP_ASSIGN_OR_RETURN(std::unique_ptr<Loaded> loaded,
                              LoadSnapshotFile(paths[i], Analyse::kYes));
    const HeaderInfo& header = loaded->snapshot.header;
    if (i == 0) {
      first_version = header.python_version;
    } else if (header.python_version != first_version) {
      std::cerr << "heapsnap: note: " << paths[i] << " is of Python " << header.python_version
                << ", " << paths[0] << " of Python " << first_version
                << ": paths that differ between versions do not compare\n";
    }
    if (i > 0 && header.time_unix_ns != 0 && header.time_unix_ns < previous_time) {
      std::cerr << "heapsnap: note: " << paths[i] << " was taken before " << paths[i - 1]
                << ": snapshots are compared in the order given (oldest first)\n";
    }
    previous_time = header.time_unix_ns;
    auto shapes = std::make_unique<PathShapes>(*loaded->analysis, FoldRule::kTwoAlike);
    series.profiles.push_back(ProfileHeap(*loaded->analysis, *shapes));
    if (i + 1 == paths.size()) {
      series.last = std::move(loaded);
      series.last_shapes = std::move(shapes);
    }
  }
  return series;
}

}  // namespace heapsnap::cli

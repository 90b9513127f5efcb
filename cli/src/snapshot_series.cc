#include "snapshot_series.h"

#include <algorithm>
#include <deque>
#include <future>
#include <iostream>
#include <thread>

namespace heapsnap::cli {
namespace {

// One snapshot's part: loaded, analysed and profiled; only the last one stays loaded.
struct Step {
  std::unique_ptr<Loaded> loaded;
  std::unique_ptr<PathShapes> shapes;
  HeapProfile profile;
  HeaderInfo header;
};

StatusOr<Step> LoadAndProfile(const std::string& path, bool keep) {
  Step step;
  HEAPSNAP_ASSIGN_OR_RETURN(step.loaded,
                            LoadSnapshotFile(path, Analyse::kYes, /*show_progress=*/false));
  step.header = step.loaded->snapshot.header;
  step.shapes = std::make_unique<PathShapes>(*step.loaded->analysis, FoldRule::kTwoAlike);
  step.profile = ProfileHeap(*step.loaded->analysis, *step.shapes);
  if (!keep) {
    step.shapes.reset();
    step.loaded.reset();
  }
  return step;
}

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

StatusOr<SnapshotSeries> LoadSeries(const std::vector<std::string>& paths) {
  SnapshotSeries series;
  series.paths = paths;
  // Two snapshots load at once when there are two cores: each load is mostly one thread's
  // work, so a diff of two snapshots takes about as long as analysing one, for the memory of
  // two. In order, so that the first error reported is the first file's.
  const size_t window = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  std::deque<std::future<StatusOr<Step>>> running;
  size_t next = 0;
  std::vector<HeaderInfo> headers;
  ProgressLine progress;
  for (size_t i = 0; i < paths.size(); ++i) {
    while (next < paths.size() && running.size() < window) {
      const bool keep = next + 1 == paths.size();
      running.push_back(std::async(std::launch::async, LoadAndProfile, paths[next], keep));
      ++next;
    }
    progress.Show("analysing snapshot " + std::to_string(i + 1) + " of " +
                  std::to_string(paths.size()) + ": " + paths[i]);
    StatusOr<Step> step = running.front().get();
    running.pop_front();
    if (!step.ok()) return step.status();  // the futures left wait for their loads, then go
    headers.push_back(step->header);
    series.profiles.push_back(std::move(step->profile));
    if (i + 1 == paths.size()) {
      series.last = std::move(step->loaded);
      series.last_shapes = std::move(step->shapes);
    }
  }
  NoteMismatches(paths, headers);
  return series;
}

}  // namespace heapsnap::cli

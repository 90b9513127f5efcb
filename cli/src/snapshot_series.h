// Snapshots of one program taken over time, for `diff` and `check`: each is loaded, analysed
// and reduced to a HeapProfile (heap_diff.h) before the next one loads, so N snapshots take the
// memory of the largest one plus N small profiles. The last stays loaded, to name and render
// what grew.
#ifndef HEAPSNAP_CLI_SNAPSHOT_SERIES_H_
#define HEAPSNAP_CLI_SNAPSHOT_SERIES_H_

#include <memory>
#include <string>
#include <vector>

#include "heapsnap/analyze/heap_diff.h"
#include "heapsnap/analyze/path_shapes.h"
#include "heapsnap/base/status.h"
#include "load.h"

namespace heapsnap::cli {

struct SnapshotSeries {
  std::vector<std::string> paths;  // oldest first
  std::vector<HeapProfile> profiles;
  std::unique_ptr<Loaded> last;
  std::unique_ptr<PathShapes> last_shapes;  // of last, FoldRule::kTwoAlike
};

// Loads `paths` (oldest first, one or more), showing on `progress` (or a Progress of its own)
// which snapshot it is at and how far: "snapshot 2/3 (b.heapsnap): dominators 40%". Says on
// stderr when the snapshots come from different Python versions (their paths may differ) or
// were taken out of order.
StatusOr<SnapshotSeries> LoadSeries(const std::vector<std::string>& paths,
                                    Progress* progress = nullptr);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_SNAPSHOT_SERIES_H_

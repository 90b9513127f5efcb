// Loading a snapshot for a command (and analysing it), with progress on stderr when it is a
// terminal.
#ifndef HEAPSNAP_CLI_LOAD_H_
#define HEAPSNAP_CLI_LOAD_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/status.h"

namespace heapsnap::cli {

struct Loaded {
  Snapshot snapshot;
  std::optional<Analysis> analysis;  // refers to snapshot: Loaded does not move
};

enum class Analyse { kNo, kYes };

// Loads `path` and, unless told not to, analyses it. The result lives on the heap so the
// analysis' reference to the snapshot stays valid.
StatusOr<std::unique_ptr<Loaded>> LoadSnapshotFile(const std::string& path, Analyse analyse);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_LOAD_H_

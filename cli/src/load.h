// Loading a snapshot for a command (and analysing it), with progress on stderr when it is a
// terminal; and the object ids a user types.
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

// Parses an object id: 0x-hex or decimal.
StatusOr<uint64_t> ParseAddress(const std::string& text);

// The objects with these ids (as ParseAddress reads them), in order; NotFound names the first id
// that is not in the snapshot.
StatusOr<std::vector<NodeIndex>> FindObjects(const Snapshot& snapshot,
                                             const std::vector<std::string>& ids);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_LOAD_H_

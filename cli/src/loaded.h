// Loading and analysing a snapshot for a command, with progress on stderr when it is a terminal.
#ifndef HEAPSNAP_CLI_LOADED_H_
#define HEAPSNAP_CLI_LOADED_H_

#include <memory>
#include <string>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/format/status.h"

namespace heapsnap::cli {

struct Loaded {
  Snapshot snapshot;
  Analysis analysis;  // refers to snapshot: Loaded does not move
};

// Loads and analyses `path`. The result lives on the heap so the analysis' reference stays valid.
StatusOr<std::unique_ptr<Loaded>> LoadAndAnalyze(const std::string& path);

// Objects whose type's name or qualified name is `name`.
std::vector<NodeIndex> ObjectsOfType(const Snapshot& snapshot, const std::string& name);

// Parses an object id: 0x-hex or decimal.
StatusOr<uint64_t> ParseAddress(const std::string& text);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_LOADED_H_

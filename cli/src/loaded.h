// Loading and analysing a snapshot for a command, with progress on stderr when it is a terminal.
#ifndef HEAPSNAP_CLI_LOADED_H_
#define HEAPSNAP_CLI_LOADED_H_

#include <memory>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/status.h"

namespace heapsnap::cli {

struct Loaded {
  Snapshot snapshot;
  Analysis analysis;  // refers to snapshot: Loaded does not move
};

// Loads and analyses `path`. The result lives on the heap so the analysis' reference stays valid.
StatusOr<std::unique_ptr<Loaded>> LoadAndAnalyze(const std::string& path);

// The types `name` means, by type id: a qualified name as summary and top print it
// (`app.models.Node`, `dict`, also `builtins.dict`), or a bare name (`Node`) when it names one
// class only. A bare name of several classes is an error that lists them with their counts.
StatusOr<std::vector<uint8_t>> MatchTypes(const Snapshot& snapshot, const std::string& name);

// The objects of those types (at most `limit`, 0: all); NotFound when there are none.
StatusOr<std::vector<NodeIndex>> ObjectsOfType(const Snapshot& snapshot, const std::string& name,
                                               size_t limit = 0);

// Parses an object id: 0x-hex or decimal.
StatusOr<uint64_t> ParseAddress(const std::string& text);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_LOADED_H_

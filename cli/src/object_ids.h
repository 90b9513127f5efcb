// The object ids a user types (--id): id() in Python, as 0x-hex or decimal.
#ifndef HEAPSNAP_CLI_OBJECT_IDS_H_
#define HEAPSNAP_CLI_OBJECT_IDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/status.h"

namespace heapsnap::cli {

// Parses an object id: 0x-hex or decimal.
StatusOr<uint64_t> ParseAddress(const std::string& text);

// The objects with these ids (as ParseAddress reads them), in order; NotFound names the first id
// that is not in the snapshot.
StatusOr<std::vector<NodeIndex>> FindObjects(const Snapshot& snapshot,
                                             const std::vector<std::string>& ids);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_OBJECT_IDS_H_

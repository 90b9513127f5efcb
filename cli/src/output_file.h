// Files the CLI writes (a JUnit report): whole or not at all. The text goes to a temporary file
// beside the target, which is renamed over it only once written and flushed, so a reader (a CI
// job collecting reports) never sees half a file, and a failure leaves the old file or none.
#ifndef HEAPSNAP_CLI_OUTPUT_FILE_H_
#define HEAPSNAP_CLI_OUTPUT_FILE_H_

#include <string>
#include <string_view>

#include "heapsnap/base/status.h"

namespace heapsnap::cli {

[[nodiscard]] Status WriteFileAtomically(const std::string& path, std::string_view content);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_OUTPUT_FILE_H_

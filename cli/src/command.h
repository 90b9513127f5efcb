// One class per subcommand. Each owns its options, registers them with CLI11 and runs.
// Run() returns the exit code on success (0, 1 for a failed check, or a captured program's
// own code); an error Status becomes exit code 2 in main(), the one place exit codes are made.
#ifndef HEAPSNAP_CLI_COMMAND_H_
#define HEAPSNAP_CLI_COMMAND_H_

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "heapsnap/analyze/text.h"
#include "heapsnap/base/hex.h"  // FormatAddress
#include "heapsnap/base/status.h"

namespace heapsnap::cli {

class Command {
 public:
  virtual ~Command() = default;
  virtual CLI::App* Register(CLI::App& app) = 0;
  virtual StatusOr<int> Run() = 0;
};

std::unique_ptr<Command> MakeCaptureCommand();
std::unique_ptr<Command> MakeSummaryCommand();
std::unique_ptr<Command> MakeObjectsCommand();
std::unique_ptr<Command> MakePathCommand();
std::unique_ptr<Command> MakeTopCommand();
std::unique_ptr<Command> MakeLeaksCommand();

// Shared formatting.
using heapsnap::FormatBytes;                          // "1.2 MiB"
using heapsnap::FormatCount;                          // "12,345"
std::string ShortPythonVersion(uint32_t hexversion);  // "3.12.1"

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_COMMAND_H_

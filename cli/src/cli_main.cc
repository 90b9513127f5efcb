#include "cli_main.h"

#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <vector>

#include "command.h"
#include "heapsnap/base/memory_reuse.h"
#include "terminal_safe.h"

namespace heapsnap::cli {
namespace {

// Everything printed goes through one rule: nothing a snapshot holds can drive the terminal.
class TerminalSafeStreams {
 public:
  TerminalSafeStreams()
      : safe_out_(std::cout.rdbuf()),
        safe_err_(std::cerr.rdbuf()),
        plain_out_(std::cout.rdbuf(&safe_out_)),
        plain_err_(std::cerr.rdbuf(&safe_err_)) {}
  ~TerminalSafeStreams() {
    std::cout.flush();
    std::cerr.flush();
    std::cout.rdbuf(plain_out_);
    std::cerr.rdbuf(plain_err_);
  }
  TerminalSafeStreams(const TerminalSafeStreams&) = delete;
  TerminalSafeStreams& operator=(const TerminalSafeStreams&) = delete;

 private:
  TerminalSafeBuffer safe_out_;
  TerminalSafeBuffer safe_err_;
  std::streambuf* const plain_out_;
  std::streambuf* const plain_err_;
};

std::vector<std::unique_ptr<Command>> AllCommands() {
  std::vector<std::unique_ptr<Command>> commands;
  commands.push_back(MakeCaptureCommand());
  commands.push_back(MakeSummaryCommand());
  commands.push_back(MakeObjectsCommand());
  commands.push_back(MakePathCommand());
  commands.push_back(MakeTopCommand());
  commands.push_back(MakeLeaksCommand());
  commands.push_back(MakeDiffCommand());
  commands.push_back(MakeCheckCommand());
  commands.push_back(MakeGraphCommand());
  commands.push_back(MakeExportCommand());
  commands.push_back(MakeReportCommand());
  return commands;
}

int ParseAndRun(int argc, char** argv) {
  CLI::App app{"heapsnap: heap snapshots of CPython programs, analysed offline", "heapsnap"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("heapsnap ") + HEAPSNAP_VERSION);
  const std::vector<std::unique_ptr<Command>> commands = AllCommands();
  std::vector<std::pair<CLI::App*, Command*>> registered;
  registered.reserve(commands.size());
  for (const auto& c : commands) registered.emplace_back(c->Register(app), c.get());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    app.exit(e);
    return 2;
  }
  for (auto& [sub, command] : registered) {
    if (!sub->parsed()) continue;
    StatusOr<int> result = command->Run();
    if (!result.ok()) {
      std::cerr << "heapsnap: " << result.status().message() << "\n";
      return 2;
    }
    return *result;
  }
  return 2;
}

}  // namespace

int Main(int argc, char** argv) noexcept {
  KeepFreedMemoryForReuse();
  try {
    TerminalSafeStreams streams;
    try {
      return ParseAndRun(argc, argv);
    } catch (const std::bad_alloc&) {
      std::cerr << "heapsnap: out of memory (the snapshot is too large for this machine)\n";
    } catch (const std::exception& e) {
      std::cerr << "heapsnap: internal error: " << e.what() << "\n";
    }
    return 2;
  } catch (...) {  // the terminal-safe streams themselves could not be set up or flushed
    return 2;
  }
}

}  // namespace heapsnap::cli

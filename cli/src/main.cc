// heapsnap: the command line. Parses flags, runs one subcommand, and turns its result into the
// process's exit code: 0 ok, 1 a check failed, 2 usage or input error; `capture` passes the
// captured program's own exit code through.
#include <malloc.h>

#include <exception>
#include <iostream>
#include <memory>
#include <new>
#include <vector>

#include "command.h"
#include "terminal_safe.h"

int main(int argc, char** argv) {
  // Analyses allocate and free arrays of hundreds of megabytes, phase after phase. Keeping
  // freed memory in the process (no mmap for big blocks, no trimming) saves the kernel from
  // zeroing every page again on the next fault: about a fifth of the time of a large analysis.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // Everything printed goes through one rule: nothing a snapshot holds can drive the terminal.
  heapsnap::cli::TerminalSafeBuffer safe_out(std::cout.rdbuf());
  heapsnap::cli::TerminalSafeBuffer safe_err(std::cerr.rdbuf());
  std::streambuf* const plain_out = std::cout.rdbuf(&safe_out);
  std::streambuf* const plain_err = std::cerr.rdbuf(&safe_err);
  struct Restore {
    std::streambuf* out;
    std::streambuf* err;
    ~Restore() {
      std::cout.flush();
      std::cerr.flush();
      std::cout.rdbuf(out);
      std::cerr.rdbuf(err);
    }
  } restore{plain_out, plain_err};
  CLI::App app{"heapsnap: heap snapshots of CPython programs, analysed offline", "heapsnap"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("heapsnap ") + HEAPSNAP_VERSION);
  std::vector<std::unique_ptr<heapsnap::cli::Command>> commands;
  commands.push_back(heapsnap::cli::MakeCaptureCommand());
  commands.push_back(heapsnap::cli::MakeSummaryCommand());
  commands.push_back(heapsnap::cli::MakeObjectsCommand());
  commands.push_back(heapsnap::cli::MakePathCommand());
  commands.push_back(heapsnap::cli::MakeTopCommand());
  commands.push_back(heapsnap::cli::MakeLeaksCommand());
  std::vector<std::pair<CLI::App*, heapsnap::cli::Command*>> registered;
  for (auto& c : commands) registered.emplace_back(c->Register(app), c.get());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    app.exit(e);
    return 2;
  }
  for (auto& [sub, command] : registered) {
    if (!sub->parsed()) continue;
    try {
      heapsnap::StatusOr<int> result = command->Run();
      if (!result.ok()) {
        std::cerr << "heapsnap: " << result.status().message() << "\n";
        return 2;
      }
      return *result;
    } catch (const std::bad_alloc&) {
      std::cerr << "heapsnap: out of memory (the snapshot is too large for this machine)\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "heapsnap: internal error: " << e.what() << "\n";
      return 2;
    }
  }
  return 2;
}

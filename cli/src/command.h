// One class per subcommand. Each owns its options, registers them with CLI11 and runs.
// Run() returns the exit code on success (0, or a captured program's own code); an error Status
// becomes exit code 2 in cli_main.cc, the one place exit codes are made.
//
// The commands that read a snapshot derive from SnapshotCommand<Result>: it loads (and
// analyses) the file, then the command computes its Result with the analyze library and prints
// it as text or as JSON. A command's own code is its options, Compute and the two printers.
#ifndef HEAPSNAP_CLI_COMMAND_H_
#define HEAPSNAP_CLI_COMMAND_H_

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/base/hex.h"  // FormatAddress
#include "heapsnap/base/status.h"
#include "load.h"

namespace heapsnap::cli {

class Command {
 public:
  virtual ~Command() = default;
  virtual CLI::App* Register(CLI::App& app) = 0;
  virtual StatusOr<int> Run() = 0;
};

template <typename Result>
class SnapshotCommand : public Command {
 public:
  StatusOr<int> Run() final {
    HEAPSNAP_RETURN_IF_ERROR(CheckOptions());
    HEAPSNAP_ASSIGN_OR_RETURN(const std::unique_ptr<Loaded> loaded,
                              LoadSnapshotFile(path_, analyse_));
    HEAPSNAP_ASSIGN_OR_RETURN(const Result result, Compute(*loaded));
    if (json_) {
      PrintJson(result, std::cout);
      std::cout << "\n";
    } else {
      PrintText(result, std::cout);
    }
    return 0;
  }

 protected:
  explicit SnapshotCommand(Analyse analyse = Analyse::kYes) : analyse_(analyse) {}

  // Adds the subcommand with its snapshot argument.
  CLI::App* AddSubcommand(CLI::App& app, const std::string& name, const std::string& description) {
    CLI::App* sub = app.add_subcommand(name, description);
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    return sub;
  }
  // Adds --json (last, so that help lists it after the command's own options).
  void AddJsonFlag(CLI::App* sub, const std::string& help) { sub->add_flag("--json", json_, help); }

  // Options that CLI11 cannot check alone (one of two required, say).
  virtual Status CheckOptions() { return Status::Ok(); }
  virtual StatusOr<Result> Compute(const Loaded& loaded) = 0;
  virtual void PrintText(const Result& result, std::ostream& out) const = 0;
  virtual void PrintJson(const Result& result, std::ostream& out) const = 0;

  const std::string& path() const { return path_; }
  bool json() const { return json_; }

 private:
  const Analyse analyse_;
  std::string path_;
  bool json_ = false;
};

std::unique_ptr<Command> MakeCaptureCommand();
std::unique_ptr<Command> MakeSummaryCommand();
std::unique_ptr<Command> MakeObjectsCommand();
std::unique_ptr<Command> MakePathCommand();
std::unique_ptr<Command> MakeTopCommand();
std::unique_ptr<Command> MakeLeaksCommand();
std::unique_ptr<Command> MakeDiffCommand();
std::unique_ptr<Command> MakeCheckCommand();
std::unique_ptr<Command> MakeGraphCommand();
std::unique_ptr<Command> MakeExportCommand();
std::unique_ptr<Command> MakeReportCommand();

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_COMMAND_H_

// heapsnap export SNAP --format devtools -o FILE.heapsnapshot: the whole graph in another
// tool's format. devtools: a Chrome DevTools heap snapshot (Memory panel, Load; memlab), see
// export/include/heapsnap/export/devtools_snapshot.h for the format and the mapping.
#include <iostream>
#include <string>

#include "command.h"
#include "heapsnap/export/devtools_snapshot.h"

namespace heapsnap::cli {
namespace {

class ExportCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "export", "Write the whole graph in another tool's format (Chrome DevTools, memlab)");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    sub->add_option("--format", format_,
                    "devtools (default): a Chrome DevTools .heapsnapshot, for the Memory panel "
                    "(Load) and memlab")
        ->check(CLI::IsMember({"devtools"}));
    sub->add_option("-o,--output", output_, "The file to write (replaced whole, or left alone)")
        ->required();
    return sub;
  }

  StatusOr<int> Run() override {
    HEAPSNAP_ASSIGN_OR_RETURN(const std::unique_ptr<Loaded> loaded,
                              LoadSnapshotFile(path_, Analyse::kYes));
    DevToolsStats stats;
    {
      Progress progress;
      DevToolsOptions options;
      options.progress = [&](const char* phase, double fraction) {
        progress.Show(std::string(phase) + " " + std::to_string(static_cast<int>(fraction * 100)) +
                      "%");
      };
      HEAPSNAP_ASSIGN_OR_RETURN(stats, ExportDevToolsSnapshot(*loaded->analysis, output_, options));
    }
    std::cerr << "heapsnap: " << output_ << ": Chrome DevTools heap snapshot of "
              << FormatCount(stats.nodes - stats.synthetic_nodes) << " objects ("
              << FormatCount(stats.nodes) << " nodes, " << FormatCount(stats.edges) << " edges, "
              << FormatBytes(stats.bytes) << ")\n";
    return 0;
  }

 private:
  std::string path_;
  std::string format_ = "devtools";
  std::string output_;
};

}  // namespace

std::unique_ptr<Command> MakeExportCommand() { return std::make_unique<ExportCommand>(); }

}  // namespace heapsnap::cli

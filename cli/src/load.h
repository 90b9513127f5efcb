// Loading a snapshot for a command (and analysing it), with progress on stderr when it is a
// terminal.
#ifndef HEAPSNAP_CLI_LOAD_H_
#define HEAPSNAP_CLI_LOAD_H_

#include <chrono>
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

// "heapsnap: loading 1,234,567 objects" / "heapsnap: dominators 55%" on one line of stderr,
// redrawn at most ten times a second, erased when the Progress goes. Silent unless stderr is a
// terminal. A command that does several things (loads several snapshots, then writes a
// report) passes one Progress to each, with a prefix saying which it is at.
class Progress {
 public:
  Progress();
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Show(const std::string& text);
  // "phase 55%".
  void ShowPhase(const char* phase, double fraction);
  // Erases the line (before other messages on stderr, or output on the terminal).
  void Clear();
  // Put before every text shown from now on: "snapshot 2/3: ". The next text is shown at once,
  // however soon it comes, so that every stage is seen.
  void SetPrefix(std::string prefix) {
    prefix_ = std::move(prefix);
    show_next_ = true;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  bool show_next_ = false;
  std::string prefix_;
  std::chrono::steady_clock::time_point last_;
};

// Loads `path` and, unless told not to, analyses it, showing progress on `progress` (or on a
// Progress of its own). The result lives on the heap so the analysis' reference to the
// snapshot stays valid.
StatusOr<std::unique_ptr<Loaded>> LoadSnapshotFile(const std::string& path, Analyse analyse,
                                                   Progress* progress = nullptr);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_LOAD_H_

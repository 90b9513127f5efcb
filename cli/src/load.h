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

// "heapsnap: loading 1,234,567 objects" / "heapsnap: dominators 55%" on one line, redrawn at
// most ten times a second, erased when done. Silent unless stderr is a terminal.
class Progress {
 public:
  Progress();
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void Show(const std::string& text);

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

struct Loaded {
  Snapshot snapshot;
  std::optional<Analysis> analysis;  // refers to snapshot: Loaded does not move
};

enum class Analyse { kNo, kYes };

// Loads `path` and, unless told not to, analyses it. The result lives on the heap so the
// analysis' reference to the snapshot stays valid.
StatusOr<std::unique_ptr<Loaded>> LoadSnapshotFile(const std::string& path, Analyse analyse);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_LOAD_H_

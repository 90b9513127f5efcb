#include "load.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap::cli {

Progress::Progress() : enabled_(::isatty(2) != 0) {}

Progress::~Progress() { Clear(); }

void Progress::Clear() {
  if (enabled_ && drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
  drawn_ = false;
}

void Progress::Show(const std::string& text) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && !show_next_ && now - last_ < std::chrono::milliseconds(100)) return;
  show_next_ = false;
  last_ = now;
  drawn_ = true;
  std::fprintf(stderr, "\r\033[Kheapsnap: %s%s", prefix_.c_str(), text.c_str());
  std::fflush(stderr);
}

void Progress::ShowPhase(const char* phase, double fraction) {
  Show(std::string(phase) + " " + std::to_string(static_cast<int>(fraction * 100)) + "%");
}

StatusOr<std::unique_ptr<Loaded>> LoadSnapshotFile(const std::string& path, Analyse analyse,
                                                   Progress* shared) {
  Progress own;
  Progress& progress = shared != nullptr ? *shared : own;
  LoadOptions load;
  load.progress = [&](uint64_t objects) {
    progress.Show("loading " + FormatCount(objects) + " objects");
  };
  auto loaded = std::make_unique<Loaded>();
  HEAPSNAP_ASSIGN_OR_RETURN(loaded->snapshot, LoadSnapshot(path, load));
  if (analyse == Analyse::kNo) return loaded;
  AnalysisOptions options;
  options.progress = [&](const char* phase, double fraction) {
    progress.ShowPhase(phase, fraction);
  };
  loaded->analysis = Analyze(loaded->snapshot, options);
  return loaded;
}

}  // namespace heapsnap::cli

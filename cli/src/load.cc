#include "load.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap::cli {

Progress::Progress() : enabled_(::isatty(2) != 0) {}

Progress::~Progress() {
  if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::Show(const std::string& text) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  std::fprintf(stderr, "\r\033[Kheapsnap: %s", text.c_str());
  std::fflush(stderr);
}

StatusOr<std::unique_ptr<Loaded>> LoadSnapshotFile(const std::string& path, Analyse analyse) {
  Progress progress;
  LoadOptions load;
  load.progress = [&](uint64_t objects) {
    progress.Show("loading " + std::to_string(objects) + " objects");
  };
  auto loaded = std::make_unique<Loaded>();
  HEAPSNAP_ASSIGN_OR_RETURN(loaded->snapshot, LoadSnapshot(path, load));
  if (analyse == Analyse::kNo) return loaded;
  AnalysisOptions options;
  options.progress = [&](const char* phase, double fraction) {
    progress.Show(std::string(phase) + " " + std::to_string(static_cast<int>(fraction * 100)) +
                  "%");
  };
  loaded->analysis = Analyze(loaded->snapshot, options);
  return loaded;
}

}  // namespace heapsnap::cli

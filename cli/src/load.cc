#include "load.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "heapsnap/analyze/text.h"

namespace heapsnap::cli {
namespace {

// "heapsnap: loading 1,234,567 objects" / "heapsnap: dominators 55%" on one line, redrawn at
// most ten times a second, erased when done. Silent unless stderr is a terminal.
class Progress {
 public:
  Progress() : enabled_(::isatty(2) != 0) {}
  ~Progress() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\r\033[K");
  }
  void Show(const std::string& text) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    std::fprintf(stderr, "\r\033[Kheapsnap: %s", text.c_str());
    std::fflush(stderr);
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace

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

StatusOr<uint64_t> ParseAddress(const std::string& text) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return InvalidArgument("'" + text + "' is not an object id (0x-hex or decimal)");
}

StatusOr<std::vector<NodeIndex>> FindObjects(const Snapshot& s,
                                             const std::vector<std::string>& ids) {
  std::vector<NodeIndex> out;
  for (const std::string& text : ids) {
    HEAPSNAP_ASSIGN_OR_RETURN(const uint64_t address, ParseAddress(text));
    const std::optional<NodeIndex> node = s.FindAddress(address);
    if (!node) return NotFound(s.path + ": no object with id " + text);
    out.push_back(*node);
  }
  return out;
}

}  // namespace heapsnap::cli

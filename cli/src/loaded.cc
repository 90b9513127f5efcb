#include "loaded.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

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

StatusOr<std::unique_ptr<Loaded>> LoadAndAnalyze(const std::string& path) {
  Progress progress;
  LoadOptions load;
  load.progress = [&](uint64_t objects) {
    progress.Show("loading " + std::to_string(objects) + " objects");
  };
  StatusOr<Snapshot> snapshot = LoadSnapshot(path, load);
  if (!snapshot.ok()) return snapshot.status();
  auto loaded = std::make_unique<Loaded>();
  loaded->snapshot = std::move(snapshot).value();
  AnalysisOptions options;
  options.progress = [&](const char* phase, double fraction) {
    progress.Show(std::string(phase) + " " + std::to_string(static_cast<int>(fraction * 100)) +
                  "%");
  };
  loaded->analysis = Analyze(loaded->snapshot, options);
  return loaded;
}

std::vector<NodeIndex> ObjectsOfType(const Snapshot& s, const std::string& name) {
  std::vector<uint8_t> match(s.types.size(), 0);
  for (size_t t = 1; t < s.types.size(); ++t) {
    match[t] = s.String(s.types[t].name) == name || s.String(s.types[t].qualname) == name;
  }
  std::vector<NodeIndex> out;
  for (uint32_t i = 0; i < s.object_count(); ++i) {
    if (match[s.type[i].value()]) out.push_back(NodeIndex(i));
  }
  return out;
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

}  // namespace heapsnap::cli

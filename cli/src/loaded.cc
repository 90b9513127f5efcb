#include "loaded.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>

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

StatusOr<std::vector<uint8_t>> MatchTypes(const Snapshot& s, const std::string& name) {
  std::vector<uint8_t> match(s.types.size(), 0);
  const std::string kBuiltins = "builtins.";
  const bool builtin = name.compare(0, kBuiltins.size(), kBuiltins) == 0;
  bool any = false;
  // A qualified name, as summary and top print it: app.models.Node, or dict for a builtin
  // (also accepted as builtins.dict).
  for (size_t t = 1; t < s.types.size(); ++t) {
    const std::string& qualname = s.String(s.types[t].qualname);
    if (qualname == name || (builtin && qualname == name.substr(kBuiltins.size()) &&
                             qualname.find('.') == std::string::npos)) {
      match[t] = 1;
      any = true;
    }
  }
  if (any) return match;
  // A bare name: fine when it names one class; several are listed, never merged silently.
  std::map<std::string, uint64_t> classes;  // qualified name -> instances
  std::vector<uint64_t> instances(s.types.size(), 0);
  for (uint32_t i = 0; i < s.object_count(); ++i) ++instances[s.type[i].value()];
  // Classes without instances in the snapshot (a protocol, an abstract base) do not count.
  for (size_t t = 1; t < s.types.size(); ++t) {
    if (s.String(s.types[t].name) != name || instances[t] == 0) continue;
    match[t] = 1;
    classes[s.String(s.types[t].qualname)] += instances[t];
  }
  if (classes.size() > 1) {
    std::string list;
    for (const auto& [qualname, count] : classes) {
      list += (list.empty() ? "" : ", ") + qualname + " (" + FormatCount(count) +
              (count == 1 ? " object)" : " objects)");
    }
    return InvalidArgument(s.path + ": --type " + name + " names " +
                           std::to_string(classes.size()) + " classes: " + list +
                           "; give the qualified name of the one you mean");
  }
  if (classes.empty()) return NotFound(s.path + ": no object of type " + name);
  return match;
}

StatusOr<std::vector<NodeIndex>> ObjectsOfType(const Snapshot& s, const std::string& name,
                                               size_t limit) {
  auto match = MatchTypes(s, name);
  if (!match.ok()) return match.status();
  std::vector<NodeIndex> out;
  for (uint32_t i = 0; i < s.object_count() && (limit == 0 || out.size() < limit); ++i) {
    if ((*match)[s.type[i].value()]) out.push_back(NodeIndex(i));
  }
  if (out.empty()) return NotFound(s.path + ": no object of type " + name);
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

// Times the analysis of a snapshot end to end — load, collector reproduction, garbage
// components, retainer-path BFS, dominators, retained sizes — and reports peak memory.
//
//   analyze_bench SNAP     -> one JSON line
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/base/memory_reuse.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: analyze_bench SNAP\n";
    return 2;
  }
  heapsnap::KeepFreedMemoryForReuse();  // as the CLI does
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  const auto start = Clock::now();
  auto snapshot = heapsnap::LoadSnapshot(argv[1]);
  if (!snapshot.ok()) {
    std::cerr << snapshot.status().message() << "\n";
    return 2;
  }
  const auto loaded = Clock::now();
  std::map<std::string, double> phases;
  std::string phase;
  auto phase_start = Clock::now();
  heapsnap::AnalysisOptions options;
  options.progress = [&](const char* name, double) {
    auto now = Clock::now();
    if (!phase.empty()) phases[phase] += seconds(phase_start, now);
    phase = name;
    phase_start = now;
  };
  heapsnap::Analysis analysis = heapsnap::Analyze(*snapshot, options);
  const auto done = Clock::now();
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  const double total = seconds(start, done);
  std::cout << "{\"objects\": " << snapshot->object_count()
            << ", \"edges\": " << snapshot->edge_count()
            << ", \"load_s\": " << seconds(start, loaded)
            << ", \"analyze_s\": " << seconds(loaded, done) << ", \"total_s\": " << total
            << ", \"objects_per_s\": " << static_cast<uint64_t>(snapshot->object_count() / total)
            << ", \"peak_rss_mb\": " << usage.ru_maxrss / 1024
            << ", \"unreachable\": " << analysis.collector.unreachable_objects << ", \"phases\": {";
  bool first = true;
  for (const auto& [name, s] : phases) {
    std::cout << (first ? "" : ", ") << "\"" << name << "\": " << s;
    first = false;
  }
  std::cout << "}}\n";
  return 0;
}

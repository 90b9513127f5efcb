// libFuzzer target: a snapshot from memory through the reader, the loader, the analysis, the
// summary, the leak detectors, and a diff and check of the snapshot against itself. Whatever the
// bytes, each step ends with a result or a Status: never a crash, a sanitizer report, a hang or
// memory out of proportion to the input. scripts/test.sh builds it (HEAPSNAP_FUZZ=ON, clang) and
// runs it, seeded by make_seeds.sh.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/heap_diff.h"
#include "heapsnap/analyze/leak_check.h"
#include "heapsnap/analyze/path_shapes.h"
#include "heapsnap/analyze/snapshot.h"
#include "heapsnap/analyze/summary.h"
#include "heapsnap/analyze/suppressions.h"
#include "heapsnap/base/wire.h"
#include "heapsnap/format/byte_source.h"
#include "heapsnap/format/crc32c.h"
#include "heapsnap/format/types.h"

namespace {

// Mutations would almost never get past the records' checksums, so the checks behind them
// would go unfuzzed: recompute every checksum the framing lets us find. (The checksum check
// itself has unit tests in format/src/reader_test.cc.)
std::string WithValidChecksums(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto* b = reinterpret_cast<unsigned char*>(bytes.data());
  size_t pos = heapsnap::kPreambleSize;
  while (pos + 8 <= size) {
    const uint32_t length = heapsnap::ReadFixed32LE(b + pos);
    if (length > size - pos - 8) break;
    const uint32_t crc = heapsnap::Crc32c(b + pos + 8, length);
    for (int i = 0; i < 4; ++i) b[pos + 4 + i] = static_cast<unsigned char>(crc >> (8 * i));
    pos += 8 + length;
  }
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = WithValidChecksums(data, size);
  auto snapshot = heapsnap::LoadSnapshot(heapsnap::MemorySource(bytes, "<fuzz input>"));
  if (!snapshot.ok()) return 0;
  const heapsnap::Analysis analysis = heapsnap::Analyze(*snapshot);
  heapsnap::Summary summary = heapsnap::SummarizeSnapshot(*snapshot);
  heapsnap::AddAnalysis(analysis, &summary);
  (void)heapsnap::DetectLeaks(analysis);
  const heapsnap::PathShapes shapes(analysis, heapsnap::FoldRule::kTwoAlike);
  const std::vector<heapsnap::HeapProfile> profiles(2, heapsnap::ProfileHeap(analysis, shapes));
  const heapsnap::HeapDiff diff = heapsnap::DiffHeaps(profiles, analysis, shapes, {});
  heapsnap::SuppressionSet rules({}, /*defaults=*/true, snapshot->header.python_hexversion >> 16);
  heapsnap::CheckOptions options;
  options.max_unreachable = 0;
  options.fail_on = {heapsnap::FindingKind::kClosure};
  (void)heapsnap::RunCheck(analysis, &diff, options, &rules);
  return 0;
}

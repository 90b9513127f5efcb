// Numbers as people read them, shared by the analyzer's messages and the CLI.
//   FormatBytes(1258291) == "1.2 MiB"; FormatCount(12345) == "12,345"
//   FormatSignedCount(-3) == "-3"; FormatSignedBytes(2048) == "+2.0 KiB"; changes always signed
#ifndef HEAPSNAP_ANALYZE_HUMAN_NUMBERS_H_
#define HEAPSNAP_ANALYZE_HUMAN_NUMBERS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace heapsnap {

std::string FormatBytes(uint64_t bytes);
std::string FormatCount(uint64_t count);
std::string FormatSignedCount(int64_t count);
std::string FormatSignedBytes(int64_t bytes);
// "3 -> 5 -> 8": one value per snapshot.
std::string FormatCountSeries(const std::vector<uint64_t>& counts);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_HUMAN_NUMBERS_H_

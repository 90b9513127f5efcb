// Numbers as people read them, shared by the analyzer's messages and the CLI.
//   FormatBytes(1258291) == "1.2 MiB"; FormatCount(12345) == "12,345"
#ifndef HEAPSNAP_ANALYZE_HUMAN_NUMBERS_H_
#define HEAPSNAP_ANALYZE_HUMAN_NUMBERS_H_

#include <cstdint>
#include <string>

namespace heapsnap {

std::string FormatBytes(uint64_t bytes);
std::string FormatCount(uint64_t count);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_HUMAN_NUMBERS_H_

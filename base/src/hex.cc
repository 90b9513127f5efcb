#include "heapsnap/base/hex.h"

#include <cstdio>

namespace heapsnap {

std::string FormatAddress(uint64_t address) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(address));
  return buf;
}

}  // namespace heapsnap

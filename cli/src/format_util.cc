#include <cstdio>
#include <string>

#include "command.h"

namespace heapsnap::cli {

std::string ShortPythonVersion(uint32_t hex) {
  return std::to_string(hex >> 24) + "." + std::to_string((hex >> 16) & 0xff) + "." +
         std::to_string((hex >> 8) & 0xff);
}

}  // namespace heapsnap::cli

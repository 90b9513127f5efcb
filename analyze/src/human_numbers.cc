#include "heapsnap/analyze/human_numbers.h"

#include <cstdio>

namespace heapsnap {

std::string FormatBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof(buf), "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string FormatCount(uint64_t count) {
  std::string digits = std::to_string(count);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

namespace {
uint64_t Magnitude(int64_t n) {
  return n >= 0 ? static_cast<uint64_t>(n) : uint64_t{0} - static_cast<uint64_t>(n);
}
}  // namespace

std::string FormatSignedCount(int64_t count) {
  return (count >= 0 ? "+" : "-") + FormatCount(Magnitude(count));
}

std::string FormatSignedBytes(int64_t bytes) {
  return (bytes >= 0 ? "+" : "-") + FormatBytes(Magnitude(bytes));
}

std::string FormatCountSeries(const std::vector<uint64_t>& counts) {
  std::string out;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (i > 0) out += " -> ";
    out += FormatCount(counts[i]);
  }
  return out;
}

}  // namespace heapsnap

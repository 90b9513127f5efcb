// The names of a numbered series of snapshots, as the capture's triggers write them and the
// CLI finds them: app.heapsnap -> app.1.heapsnap, app.2.heapsnap, ...; a forked child of the
// program (a pre-fork server's worker) writes app.PID.1.heapsnap, ... (one rule, written here).
#ifndef HEAPSNAP_FORMAT_FILE_NAMES_H_
#define HEAPSNAP_FORMAT_FILE_NAMES_H_

#include <cstdint>
#include <string>

namespace heapsnap {

inline constexpr char kSnapshotExtension[] = ".heapsnap";

// base without its .heapsnap extension ("app" for "app.heapsnap"), and the extension it had.
inline void SplitSnapshotPath(const std::string& base, std::string* stem, std::string* extension) {
  const size_t n = sizeof(kSnapshotExtension) - 1;
  if (base.size() > n && base.compare(base.size() - n, n, kSnapshotExtension) == 0) {
    *stem = base.substr(0, base.size() - n);
    *extension = kSnapshotExtension;
  } else {
    *stem = base;
    extension->clear();
  }
}

// "app.heapsnap", 3 -> "app.3.heapsnap"; a path without the extension gets ".3".
inline std::string NumberedSnapshotPath(const std::string& base, uint64_t number) {
  std::string stem;
  std::string extension;
  SplitSnapshotPath(base, &stem, &extension);
  return stem + "." + std::to_string(number) + extension;
}

// The base of a forked child's series: "app.heapsnap", 4242 -> "app.4242.heapsnap".
inline std::string PerProcessSnapshotPath(const std::string& base, int64_t pid) {
  std::string stem;
  std::string extension;
  SplitSnapshotPath(base, &stem, &extension);
  return stem + "." + std::to_string(pid) + extension;
}

// Whether `name` (a file name in base's directory, or a whole path) is one of base's numbered
// snapshots: stem.N[.ext] or stem.PID.N[.ext] with only digits in N and PID.
inline bool IsNumberedSnapshotOf(const std::string& base, const std::string& name) {
  std::string stem;
  std::string extension;
  SplitSnapshotPath(base, &stem, &extension);
  if (name.size() <= stem.size() + 1 + extension.size() ||
      name.compare(0, stem.size(), stem) != 0 || name[stem.size()] != '.' ||
      name.compare(name.size() - extension.size(), extension.size(), extension) != 0) {
    return false;
  }
  const std::string middle =
      name.substr(stem.size() + 1, name.size() - stem.size() - 1 - extension.size());
  int parts = 0;
  size_t start = 0;
  while (start <= middle.size()) {
    size_t dot = middle.find('.', start);
    if (dot == std::string::npos) dot = middle.size();
    if (dot == start) return false;
    for (size_t i = start; i < dot; ++i) {
      if (middle[i] < '0' || middle[i] > '9') return false;
    }
    ++parts;
    start = dot + 1;
  }
  return parts == 1 || parts == 2;
}

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_FILE_NAMES_H_

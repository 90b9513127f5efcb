#include "object_ids.h"

#include <exception>
#include <optional>

namespace heapsnap::cli {

StatusOr<uint64_t> ParseAddress(const std::string& text) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(text, &used, 0);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  return InvalidArgument("'" + text + "' is not an object id (0x-hex or decimal)");
}

StatusOr<std::vector<NodeIndex>> FindObjects(const Snapshot& s,
                                             const std::vector<std::string>& ids) {
  std::vector<NodeIndex> out;
  for (const std::string& text : ids) {
    HEAPSNAP_ASSIGN_OR_RETURN(const uint64_t address, ParseAddress(text));
    const std::optional<NodeIndex> node = s.FindAddress(address);
    if (!node) return NotFound(s.path + ": no object with id " + text);
    out.push_back(*node);
  }
  return out;
}

}  // namespace heapsnap::cli

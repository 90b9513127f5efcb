#include "string_table.h"

#include <functional>

namespace heapsnap::writer_internal {

uint32_t StringTable::Intern(std::string_view s) {
  const uint64_t h = std::hash<std::string_view>()(s);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t id = slots_[i];
    if (id == 0) {
      id = next_id_++;
      arena_.append(s.data(), s.size());
      offset_.push_back(arena_.size());
      hash_.push_back(h);
      slots_[i] = id;
      // Load factor at most 1/2.
      if (static_cast<size_t>(next_id_) * 2 > slots_.size()) GrowIndex();
      return id;
    }
    if (hash_[id] == h && Get(id) == s) return id;
  }
}

void StringTable::GrowIndex() {
  std::vector<uint32_t> slots(slots_.size() * 2, 0);
  const size_t mask = slots.size() - 1;
  for (uint32_t id = 1; id < next_id_; ++id) {
    size_t i = hash_[id] & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = id;
  }
  slots_ = std::move(slots);
}

}  // namespace heapsnap::writer_internal

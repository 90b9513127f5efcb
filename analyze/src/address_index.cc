#include "address_index.h"

#include <algorithm>
#include <thread>

#include "heapsnap/base/huge_pages.h"

namespace heapsnap {

std::optional<std::pair<uint32_t, uint32_t>> AddressIndex::Build(Snapshot* s) {
  size_t slots = 16;
  while (slots < 2 * s->address.size()) slots *= 2;
  AssignHuge(s->address_slots, slots, kNoObject);
  const size_t mask = slots - 1;
  const std::vector<uint64_t>& address = s->address;
  std::vector<uint32_t>& slot = s->address_slots;
  const auto count = static_cast<uint32_t>(address.size());
  for (uint32_t i = 0; i < count; ++i) {
    if (i + 16 < count) __builtin_prefetch(&slot[HashAddress(address[i + 16]) & mask]);
    for (size_t k = HashAddress(address[i]) & mask;; k = (k + 1) & mask) {
      const uint32_t other = slot[k];
      if (other == kNoObject) {
        slot[k] = i;
        break;
      }
      if (address[other] == address[i]) return std::make_pair(other, i);
    }
  }
  return std::nullopt;
}

// In batches, prefetching the index slots and then the objects' addresses, so that the cache
// misses of a batch overlap.
size_t AddressIndex::Resolve(const std::vector<uint64_t>& targets, size_t from, size_t to,
                             uint32_t* out) const {
  constexpr size_t kBatch = 32;
  size_t slot[kBatch];
  bool cached[kBatch];
  // Most edges lead to a few popular objects (classes, None, small ints, interned names):
  // a small direct-mapped cache answers those without touching the big index.
  constexpr size_t kCache = 4096;
  std::vector<std::pair<uint64_t, uint32_t>> cache(kCache, {0, kNoObject});
  for (size_t base = from; base < to; base += kBatch) {
    const size_t end = std::min(to, base + kBatch);
    for (size_t e = base; e < end; ++e) {
      const uint64_t target = targets[e];
      const auto& c = cache[(target >> 4) & (kCache - 1)];
      cached[e - base] = c.first == target && c.second != kNoObject;
      if (cached[e - base]) {
        out[e] = c.second;
        continue;
      }
      slot[e - base] = HashAddress(target) & mask_;
      __builtin_prefetch(&slots_[slot[e - base]]);
    }
    for (size_t e = base; e < end; ++e) {
      if (cached[e - base]) continue;
      const uint32_t idx = slots_[slot[e - base]];
      if (idx != kNoObject) __builtin_prefetch(&address_[idx]);
    }
    for (size_t e = base; e < end; ++e) {
      if (cached[e - base]) continue;
      const uint64_t target = targets[e];
      uint32_t found = kNoObject;
      for (size_t k = slot[e - base];; k = (k + 1) & mask_) {
        const uint32_t idx = slots_[k];
        if (idx == kNoObject) break;
        if (address_[idx] == target) {
          found = idx;
          break;
        }
      }
      if (found == kNoObject) return e;
      out[e] = found;
      cache[(target >> 4) & (kCache - 1)] = {target, found};
    }
  }
  return SIZE_MAX;
}

}  // namespace heapsnap

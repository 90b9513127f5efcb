#include "address_set.h"

namespace heapsnap::capture {

uint64_t* AddressSet::RegionSlow(uintptr_t region, Cached* cached) {
  const void* key = reinterpret_cast<const void*>(region + 1);
  uint32_t* index = index_.Find(key);
  if (index == nullptr) {
    storage_.push_back(std::make_unique<uint64_t[]>(kWordsPerRegion));  // zeroed
    index = index_.Insert(key, static_cast<uint32_t>(storage_.size() - 1)).first;
  }
  cached->region = region;
  cached->bits = storage_[*index].get();
  return cached->bits;
}

}  // namespace heapsnap::capture

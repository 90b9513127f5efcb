// PtrMap: an open-addressing map from pointers to small values, for the capture's hot lookups
// (the walk does millions; std::unordered_map would allocate a node per entry).
#ifndef HEAPSNAP_CAPTURE_PTR_MAP_H_
#define HEAPSNAP_CAPTURE_PTR_MAP_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "heapsnap/base/hash.h"

namespace heapsnap::capture {

// Keys are non-null pointers: key 0 marks an empty slot.
template <typename V>
class PtrMap {
 public:
  PtrMap() { Reset(1024); }

  V* Find(const void* p) {
    auto key = reinterpret_cast<uintptr_t>(p);
    for (size_t i = HashAddress(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == 0) return nullptr;
    }
  }
  const V* Find(const void* p) const { return const_cast<PtrMap*>(this)->Find(p); }

  // Returns the value slot and whether the key was new.
  std::pair<V*, bool> Insert(const void* p, V value) {
    if ((size_ + 1) * 2 > keys_.size()) Grow();
    auto key = reinterpret_cast<uintptr_t>(p);
    for (size_t i = HashAddress(key) & mask_;; i = (i + 1) & mask_) {
      if (keys_[i] == key) return {&values_[i], false};
      if (keys_[i] == 0) {
        keys_[i] = key;
        values_[i] = value;
        ++size_;
        return {&values_[i], true};
      }
    }
  }

  size_t size() const { return size_; }

 private:
  void Reset(size_t capacity) {
    keys_.assign(capacity, 0);
    values_.assign(capacity, V());
    mask_ = capacity - 1;
    size_ = 0;
  }
  void Grow() {
    std::vector<uintptr_t> old_keys = std::move(keys_);
    std::vector<V> old_values = std::move(values_);
    Reset(old_keys.size() * 2);
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] != 0) Insert(reinterpret_cast<const void*>(old_keys[i]), old_values[i]);
    }
  }

  std::vector<uintptr_t> keys_;
  std::vector<V> values_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_PTR_MAP_H_

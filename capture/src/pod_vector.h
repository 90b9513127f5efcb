// PodVector: a growable array of trivially copyable values for the walk's hot appends, on
// BlockMemory: no value initialization, and a push_back the compiler inlines (the growth path
// is kept out of line).
#ifndef HEAPSNAP_CAPTURE_POD_VECTOR_H_
#define HEAPSNAP_CAPTURE_POD_VECTOR_H_

#include <cstddef>
#include <type_traits>
#include <utility>

#include "block_memory.h"

namespace heapsnap::capture {

template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T>, "PodVector holds plain values");

 public:
  // The size of an element (T may be a pointer: sizeof of a pointer type is meant).
  static constexpr size_t kElementBytes = sizeof(T);  // NOLINT(bugprone-sizeof-expression)

  PodVector() = default;
  ~PodVector() {
    if (data_ != nullptr) BlockMemory::Free(data_, capacity_ * kElementBytes);
  }
  PodVector(const PodVector&) = delete;
  PodVector& operator=(const PodVector&) = delete;

  __attribute__((always_inline)) void push_back(const T& v) {
    if (size_ == capacity_) Grow(size_ + 1);
    data_[size_++] = v;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  void clear() { size_ = 0; }
  void truncate(size_t n) { size_ = n < size_ ? n : size_; }
  // Room for n more values without growing.
  void reserve_more(size_t n) {
    if (capacity_ - size_ < n) Grow(size_ + n);
  }
  // Exchanges contents with other (no copy).
  void swap(PodVector& other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  __attribute__((noinline)) void Grow(size_t at_least) {
    size_t wanted = capacity_ == 0 ? 1024 : capacity_ * 2;
    if (wanted < at_least) wanted = at_least;
    size_t bytes = 0;
    data_ = static_cast<T*>(data_ == nullptr ? BlockMemory::Allocate(wanted * kElementBytes, &bytes)
                                             : BlockMemory::Resize(data_, capacity_ * kElementBytes,
                                                                   wanted * kElementBytes, &bytes));
    capacity_ = bytes / kElementBytes;
  }
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_POD_VECTOR_H_

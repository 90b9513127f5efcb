// Object addresses in the forms the capture carries them: pointers where objects are read, and
// 64-bit integers in snapshot records and in label values (which hold a pointer or a number).
// The casts between the two are written here once.
#ifndef HEAPSNAP_CAPTURE_OBJECT_ADDRESS_H_
#define HEAPSNAP_CAPTURE_OBJECT_ADDRESS_H_

#include <cstdint>

namespace heapsnap::capture {

inline uint64_t AddressOf(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

// The pointer an address or a label value holds (PointerAt<PyObject>(label.value)).
template <typename T>
T* PointerAt(uint64_t address) {
  return reinterpret_cast<T*>(static_cast<uintptr_t>(address));
}

// The object behind a target kept as const void* by the Python-free parts (RawLabel::target).
template <typename T>
T* PointerAt(const void* p) {
  return static_cast<T*>(const_cast<void*>(p));
}

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_OBJECT_ADDRESS_H_

// CRC-32C (Castagnoli), used to check every record of a snapshot. Uses the SSE4.2 instruction
// when the CPU has it and a slicing-by-8 table otherwise; both give the same value.
#ifndef HEAPSNAP_FORMAT_CRC32C_H_
#define HEAPSNAP_FORMAT_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace heapsnap {

uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);
// The portable implementation, exposed so tests can compare it with the hardware one.
uint32_t Crc32cPortable(const void* data, size_t size, uint32_t crc = 0);

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_CRC32C_H_

// ByteSource: where a snapshot's bytes come from, a file or memory (bloaty's InputFile
// pattern), so that the fuzz target and the tests read without touching the disk. The reader
// reads sequentially and seeks only to peek at the trailer.
//
//   auto file = OpenFileSource("app.heapsnap");            // NotFound, IoError
//   auto reader = SnapshotReader::Open(std::move(*file));
//   auto memory = MemorySource(bytes, "<fuzz input>");   // bytes must outlive the source
#ifndef HEAPSNAP_FORMAT_BYTE_SOURCE_H_
#define HEAPSNAP_FORMAT_BYTE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "heapsnap/base/status.h"

namespace heapsnap {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // What error messages call the source: the file's path, or the name given to the memory.
  const std::string& name() const { return name_; }
  // Reads up to n bytes from the current position into out and advances; fewer only at the end.
  virtual StatusOr<size_t> Read(void* out, size_t n) = 0;
  // Moves the position to offset (which may be the end); an error past the end or when the
  // source cannot seek (a pipe).
  virtual Status Seek(uint64_t offset) = 0;
  // The size in bytes, 0 when unknown (a pipe).
  virtual uint64_t size() const = 0;

 protected:
  explicit ByteSource(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

// The file at path, read through a large buffer.
StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path);
// The bytes of data, not copied: data must outlive the source.
std::unique_ptr<ByteSource> MemorySource(std::string_view data, std::string name);

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_BYTE_SOURCE_H_

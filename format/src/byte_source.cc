#include "heapsnap/format/byte_source.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace heapsnap {
namespace {

class FileSource : public ByteSource {
 public:
  FileSource(std::string path, FILE* file) : ByteSource(std::move(path)), file_(file) {
    std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
    struct stat st {};
    if (::fstat(::fileno(file_), &st) == 0 && S_ISREG(st.st_mode)) {
      size_ = static_cast<uint64_t>(st.st_size);
    }
  }
  ~FileSource() override { std::fclose(file_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  StatusOr<size_t> Read(void* out, size_t n) override {
    const size_t got = n == 0 ? 0 : std::fread(out, 1, n, file_);
    if (got < n && std::ferror(file_)) {
      return IoError(name() + ": read failed: " + std::strerror(errno));
    }
    return got;
  }

  Status Seek(uint64_t offset) override {
    if (offset > static_cast<uint64_t>(LONG_MAX) ||
        std::fseek(file_, static_cast<long>(offset), SEEK_SET) != 0) {
      return IoError(name() + ": cannot seek to offset " + std::to_string(offset));
    }
    return Status::Ok();
  }

  uint64_t size() const override { return size_; }

 private:
  FILE* file_;
  uint64_t size_ = 0;
};

class MemoryByteSource : public ByteSource {
 public:
  MemoryByteSource(std::string_view data, std::string name)
      : ByteSource(std::move(name)), data_(data) {}

  StatusOr<size_t> Read(void* out, size_t n) override {
    const size_t got = std::min(n, data_.size() - position_);
    if (got > 0) std::memcpy(out, data_.data() + position_, got);
    position_ += got;
    return got;
  }

  Status Seek(uint64_t offset) override {
    if (offset > data_.size()) {
      return IoError(name() + ": cannot seek to offset " + std::to_string(offset));
    }
    position_ = static_cast<size_t>(offset);
    return Status::Ok();
  }

  uint64_t size() const override { return data_.size(); }

 private:
  std::string_view data_;
  size_t position_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    if (err == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + std::strerror(err));
  }
  return std::unique_ptr<ByteSource>(new FileSource(path, f));
}

std::unique_ptr<ByteSource> MemorySource(std::string_view data, std::string name) {
  return std::make_unique<MemoryByteSource>(data, std::move(name));
}

}  // namespace heapsnap

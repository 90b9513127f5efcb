#include "record_sink.h"

#include <cerrno>
#include <cstring>
#include <optional>

#include "chunk_encoder.h"
#include "heapsnap/base/wire.h"
#include "heapsnap/format/crc32c.h"

namespace heapsnap::writer_internal {
namespace {

// At most this many jobs in flight (one running, the rest queued): bounds the memory of chunks
// waiting for the disk.
constexpr size_t kJobsInFlight = 5;

}  // namespace

RecordSink::RecordSink(std::string name, FILE* file, bool background)
    : name_(std::move(name)), file_(file), jobs_(kJobsInFlight) {
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  if (background) worker_ = std::thread([this] { WorkerLoop(); });
}

RecordSink::~RecordSink() {
  if (worker_.joinable()) {
    jobs_.Close();
    worker_.join();
  }
  if (file_ != nullptr) std::fclose(file_);
}

void RecordSink::WorkerLoop() {
  while (std::optional<std::function<void()>> job = jobs_.Pop()) {
    (*job)();
    jobs_.Done();
  }
}

void RecordSink::Submit(std::function<void()> job) {
  if (!worker_.joinable()) {
    job();
    return;
  }
  jobs_.Push(std::move(job));
}

void RecordSink::SubmitRecord(std::string payload) {
  Submit([this, payload = std::move(payload)] { (void)WriteRecord(payload); });
}

void RecordSink::Drain() {
  if (worker_.joinable()) jobs_.WaitUntilIdle();
}

Status RecordSink::status() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

Status RecordSink::WritePreamble() {
  std::string preamble(reinterpret_cast<const char*>(kMagic), sizeof(kMagic));
  PutFixed32LE(&preamble, kFormatVersion);
  if (std::fwrite(preamble.data(), 1, preamble.size(), file_) != preamble.size()) {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_ = IoError(name_ + ": write failed: " + std::strerror(errno));
  }
  bytes_written_ = preamble.size();
  return Status::Ok();
}

Status RecordSink::WriteRecord(std::string_view payload) {
  HEAPSNAP_RETURN_IF_ERROR(status());
  Status error;
  if (payload.size() > kMaxRecordBytes) {
    error = Internal(name_ + ": record of " + std::to_string(payload.size()) +
                     " bytes exceeds the format's limit");
  } else {
    std::string frame;
    PutFixed32LE(&frame, static_cast<uint32_t>(payload.size()));
    PutFixed32LE(&frame, Crc32c(payload.data(), payload.size()));
    if (std::fwrite(frame.data(), 1, frame.size(), file_) != frame.size() ||
        std::fwrite(payload.data(), 1, payload.size(), file_) != payload.size()) {
      error = IoError(name_ + ": write failed: " + std::strerror(errno));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error.ok()) {
    status_ = error;
    return error;
  }
  ++records_;
  bytes_written_ += 8 + payload.size();
  return Status::Ok();
}

Status RecordSink::Finish(TrailerInfo totals) {
  Drain();
  HEAPSNAP_RETURN_IF_ERROR(status());
  uint64_t trailer_offset = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    totals.records = records_;
    trailer_offset = bytes_written_;
  }
  HEAPSNAP_RETURN_IF_ERROR(WriteRecord(EncodeTrailer(totals)));
  // The footer lets a reader find the trailer's totals before reading the records.
  std::string footer;
  PutFixed32LE(&footer, static_cast<uint32_t>(trailer_offset));
  PutFixed32LE(&footer, static_cast<uint32_t>(trailer_offset >> 32));
  footer.append(reinterpret_cast<const char*>(kFooterMagic), sizeof(kFooterMagic));
  if (std::fwrite(footer.data(), 1, footer.size(), file_) != footer.size()) {
    return IoError(name_ + ": write failed: " + std::strerror(errno));
  }
  FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) return IoError(name_ + ": write failed: " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace heapsnap::writer_internal

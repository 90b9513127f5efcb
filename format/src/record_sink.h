// RecordSink: the snapshot writer's output. Frames records (length, CRC-32C, payload), writes
// them in order to the file, on a background thread or inline, and ends the file with the
// trailer and the footer. Jobs wait in a BoundedQueue, so the producer (the heap walk) waits
// rather than buffer the whole heap when the disk is behind.
//
//   RecordSink sink(path, file, /*background=*/true);
//   HEAPSNAP_RETURN_IF_ERROR(sink.WritePreamble());
//   sink.SubmitRecord(payload);                      // or Submit(job) that calls WriteRecord
//   HEAPSNAP_RETURN_IF_ERROR(sink.Finish(totals));   // drains, trailer, footer, close
#ifndef HEAPSNAP_FORMAT_SRC_RECORD_SINK_H_
#define HEAPSNAP_FORMAT_SRC_RECORD_SINK_H_

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "heapsnap/base/bounded_queue.h"
#include "heapsnap/base/status.h"
#include "heapsnap/format/types.h"

namespace heapsnap::writer_internal {

class RecordSink {
 public:
  // Takes file (closed by Finish or the destructor); name is what messages call it.
  RecordSink(std::string name, FILE* file, bool background);
  // Runs the jobs already queued, then stops the worker and closes the file.
  ~RecordSink();
  RecordSink(const RecordSink&) = delete;
  RecordSink& operator=(const RecordSink&) = delete;

  // Magic and format version, before any record.
  Status WritePreamble();
  // Runs job after every job submitted before it: on the worker, or right here without one.
  void Submit(std::function<void()> job);
  void SubmitRecord(std::string payload);
  // Frames and writes one record. Called by jobs, or by the producer when nothing is queued.
  // The first error sticks: later records are dropped and status() reports it.
  Status WriteRecord(std::string_view payload);
  // Waits until every job submitted so far has run.
  void Drain();
  // Drains, writes the trailer (its record count filled in) and the footer, closes the file.
  Status Finish(TrailerInfo totals);
  Status status() const;

 private:
  void WorkerLoop();

  std::string name_;
  FILE* file_;
  BoundedQueue<std::function<void()>> jobs_;
  std::thread worker_;
  mutable std::mutex mutex_;  // guards the three below: the worker writes, others read
  Status status_;
  uint64_t records_ = 0;
  uint64_t bytes_written_ = 0;  // file offset of the next record
};

}  // namespace heapsnap::writer_internal

#endif  // HEAPSNAP_FORMAT_SRC_RECORD_SINK_H_

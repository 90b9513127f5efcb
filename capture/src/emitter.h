// The capture's second stage (see batch.h): turns the walk's raw batches into snapshot
// records, on a thread of its own so that it overlaps with the walk.
#ifndef HEAPSNAP_CAPTURE_EMITTER_H_
#define HEAPSNAP_CAPTURE_EMITTER_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
// clang-format on

#include "batch.h"
#include "heapsnap/format/writer.h"
#include "ptr_map.h"

namespace heapsnap::capture {

class Emitter {
 public:
  // threaded: process batches on a second thread; otherwise inline, in SubmitBatch.
  // key_refs: str dict keys may be written as references to their key objects (the walk
  // writes their previews; see LabelKind::kDictKeyRef).
  Emitter(SnapshotWriter* writer, bool values, bool key_refs, bool threaded);
  ~Emitter();
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  // The batch the walk is filling.
  Batch& batch() { return *current_; }
  // Hands the current batch over (waiting while a few are in flight) and starts a new one.
  void SubmitBatch();
  // Submits what is left, waits until every batch is written and stops the thread. After
  // this the writer belongs to the caller again. Returns the writer's status.
  Status Finish();
  // A write failed: the walk may stop early (Finish reports the error).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // How many batches are waiting for or in the emitter thread (0 when it runs inline).
  size_t backlog() const { return backlog_.load(std::memory_order_relaxed); }

 private:
  void Loop();
  void Process(const Batch& batch);
  // Writes an object's edges as matcher_ paired them: traversed references first, in their
  // order, then the labels they did not name. traversed is null for RawObject::kInOrder.
  void EmitEdges(const RawLabel* labels, size_t n_labels, PyObject* const* traversed,
                 size_t n_traversed, bool uncounted);
  // The kind and value of label i of an object's labels.
  void Resolve(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind, uint64_t* value);
  StringId Literal(const char* s);
  StringId Name(PyObject* str);
  // Name for an attribute, variable or parameter label: without values, a str that is not a
  // name of the program (IsProgramName) keeps only its length.
  StringId LabelName(PyObject* str);
  StringId KeyRepr(PyObject* key);

  SnapshotWriter* w_;
  const bool values_;
  const bool key_refs_;

  PtrMap<uint32_t> literal_ids_;
  struct CachedLiteral {
    const char* text = nullptr;
    StringId id;
  };
  CachedLiteral literal_cache_[256];  // in front of literal_ids_: field and slot names
  struct CachedName {
    PyObject* str = nullptr;
    StringId id;
  };
  CachedName name_cache_[256];  // in front of name_ids_: attribute and variable names
  PtrMap<uint32_t> name_ids_;
  PtrMap<uint32_t> key_ids_;
  std::string scratch_;
  LabelMatcher matcher_;

  // The hand-over. current_ belongs to the walk; queue_ to the emitter thread.
  static constexpr size_t kMaxInFlight = 4;
  std::vector<std::unique_ptr<Batch>> batches_;
  Batch* current_ = nullptr;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch*> queue_;
  size_t large_in_queue_ = 0;  // batches of queue_ that end with a large object
  // At most this many of those at once: each holds a large object's labels.
  static constexpr size_t kMaxLargeInFlight = 2;
  std::vector<Batch*> free_;
  bool stop_ = false;
  std::atomic<bool> failed_{false};
  std::atomic<size_t> backlog_{0};
  std::thread thread_;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_EMITTER_H_

// The capture's second stage (capture/DESIGN.md): turns the walk's raw batches into snapshot
// records, on a thread of its own so that it overlaps with the walk.
#ifndef HEAPSNAP_CAPTURE_EMITTER_H_
#define HEAPSNAP_CAPTURE_EMITTER_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>
// clang-format on

#include "batch.h"
#include "heapsnap/base/bounded_queue.h"
#include "heapsnap/format/writer.h"
#include "label_matcher.h"
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
  size_t backlog() const { return threaded_ ? queue_.in_flight() : 0; }

 private:
  void Loop();
  void Process(const Batch& batch);
  void WriteValue(const Batch& batch, const RawValue& v, uint32_t* text_begin);
  // Writes an object's edges as edge placement orders them. traversed is null for
  // RawObject::kInOrder.
  void EmitEdges(const RawLabel* labels, size_t n_labels, const void* const* traversed,
                 size_t n_traversed, bool uncounted);
  // The kind and value of label i of an object's labels.
  void Resolve(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind, uint64_t* value);
  void ResolveKey(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                  uint64_t* value);
  StringId Literal(const char* s);
  StringId Name(PyObject* str);
  // Name for an attribute, variable or parameter label: without values, a str that is not a
  // name of the program (IsProgramName) keeps only its length.
  StringId LabelName(PyObject* str);
  StringId KeyRepr(PyObject* key);

  SnapshotWriter* writer_;
  const bool values_;
  const bool key_refs_;
  const bool threaded_;

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

  // The hand-over. current_ belongs to the walk. A few batches in flight keep both threads
  // busy; more would only hold memory. A batch that ends with a large object is a long job
  // for the emitter: it is a heavy item, so that the walk goes on meanwhile and only ordinary
  // batches count against kMaxInFlight; at most kMaxLargeInFlight of those (each holds a
  // large object's labels).
  static constexpr size_t kMaxInFlight = 4;
  static constexpr size_t kMaxLargeInFlight = 2;
  BoundedQueue<Batch*> queue_{kMaxInFlight, kMaxLargeInFlight};
  std::vector<std::unique_ptr<Batch>> batches_;  // owns every batch
  Batch* current_ = nullptr;
  std::mutex free_mutex_;
  std::vector<Batch*> free_;  // written batches, cleared, for the walk to fill again
  std::atomic<bool> failed_{false};
  std::thread thread_;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_EMITTER_H_

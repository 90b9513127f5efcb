// The walk: visits every object once, in the collector's order with each untracked object
// right after the first object that reaches it, and describes it into the batch the emitter
// takes next. Run is the whole capture between the header and the footer, in named steps.
#ifndef HEAPSNAP_CAPTURE_WALKER_H_
#define HEAPSNAP_CAPTURE_WALKER_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
// clang-format on

#include "address_set.h"
#include "batch.h"
#include "capture.h"
#include "emitter.h"
#include "heapsnap/format/writer.h"
#include "label_matcher.h"
#include "object_labels.h"
#include "pod_vector.h"
#include "ptr_map.h"
#include "roots.h"
#include "type_table.h"

namespace heapsnap::capture {

class Walker {
 public:
  Walker(SnapshotWriter* writer, const CaptureConfig& config);
  ~Walker();
  Walker(const Walker&) = delete;
  Walker& operator=(const Walker&) = delete;

  // The whole capture: PrepareNames, MarkTracked, the roots, Walk, FinishAfterWalk.
  Status Run(CaptureStats* stats);

 private:
  // Objects with more labels and references than this go to the emitter in a batch of their
  // own (in order) or have their edges placed by the walk (Prematch).
  static constexpr size_t kLargeObject = 16384;

  // ---- Run's steps (walker.cc) ----
  // Everything that may allocate, before the walk: names, types, threads, thread-locals.
  Status PrepareNames();
  // Enters every tracked object into seen_ (and gc.garbage's into garbage_), and notes the
  // containers whose items are named by their owner.
  void MarkTracked();
  // The walk itself: the tracked objects in the collector's order, each untracked one soon
  // after the first object that reaches it.
  void Walk();
  // Once the emitter is done: the roots, the deferred sizes and the stats.
  Status FinishAfterWalk(CaptureStats* stats);
  Status WriteDeferredSizes();

  // ---- describing one object (walker.cc) ----
  // Makes sure op is written: tracked objects are all entered before the walk; anything else
  // is queued the first time an edge reaches it, and described soon after (see Walk).
  void Register(PyObject* op) {
    if (op != nullptr && seen_.Insert(op)) {
      // Described soon: fetch its header and, for objects that straddle two cache lines, the
      // value after it (a float's double, a str's state and first characters).
      __builtin_prefetch(op);
      __builtin_prefetch(reinterpret_cast<const char*>(op) + 40);
      pending_.push_back(op);
    }
  }
  void ProcessObject(PyObject* op, uint32_t generation);
  uint32_t FlagsOf(PyObject* op, const TypeEntry& type, uint32_t generation, bool is_gc);
  void WritePreview(PyObject* op, const TypeEntry& type);
  uint64_t ObjectSize(PyObject* op, const TypeEntry& type, uint64_t index);
  // The object being described: BeginObject, labels and traversal, EndObject.
  void BeginObject(const ObjectRecord& record) {
    if (batch_->Full()) SubmitBatch();
    batch_->objects.push_back({record, 0, 0, RawObject::kMatch});
    labels_.Begin(batch_);
    ++object_count_;
  }
  void EndObject();
  // Hands the batch to the emitter and starts the next. When the emitter has batches waiting
  // (it is the slower of the two), the walk takes over formatting numbers for a while.
  void SubmitBatch() {
    emitter_->SubmitBatch();
    batch_ = &emitter_->batch();
    format_numbers_ = emitter_->backlog() >= 2;
  }

  // ---- large objects (large_objects.cc) ----
  void Prematch();
  void TakeLargeObject();
  void MarkStrKeys(RawLabel* labels, size_t n_labels);
  bool StreamLargeDict(PyObject* op);
  bool TraversesInEntryOrder(PyObject* op, bool str_keys);
  void StreamDictEdges(PyObject* op, const ObjectRecord& record, bool str_keys);
  // Appends a final edge of the current object (RawObject::kPrematched), continuing it in a
  // new batch when this one is full.
  void EmitFinal(const RawLabel& edge, const ObjectRecord& record) {
    if (batch_->labels.size() >= kLargeObject) {
      SubmitBatch();
      batch_->objects.push_back({record, 0, 0, RawObject::kContinued});
    }
    batch_->labels.push_back(edge);
    ++batch_->objects.back().labels;
  }

  // ---- roots (roots.cc) ----
  void RegisterRoots();
  void WriteRunningFrames();
  struct RunningThread;
  static int VisitRunningFrame(const hs_frame_view* frame, int depth, void* arg);
  void WriteRunningFrame(const hs_frame_view& frame, int depth, const RunningThread& thread);

  SnapshotWriter* writer_;  // the emitter's until it finishes
  const CaptureConfig& config_;
  // str dict keys are written as references to their key objects (LabelKind::kDictKeyRef),
  // whose value previews carry the text: needs previews at least as long as a key's shown text
  // (kMaxKeyBytes).
  const bool key_refs_;
  TypeTable types_;
  ObjectLabels labels_;
  ThreadNames thread_names_;
  std::unique_ptr<Emitter> emitter_;
  Batch* batch_ = nullptr;
  bool format_numbers_ = false;  // int and float previews formatted here, not by the emitter
  uint64_t object_count_ = 0;

  PodVector<PyObject*> pending_;  // untracked objects found and not yet described
  AddressSet seen_;
  PtrMap<uint8_t> garbage_;  // gc.garbage's objects

  // Large objects' scratch: the object's labels and references, taken out of the batch.
  PodVector<RawLabel> large_labels_;
  PodVector<const void*> large_traversed_;
  LabelMatcher large_matcher_;
  PodVector<const void*> stream_traversed_;  // StreamLargeDict's
  PodVector<uint8_t> stream_key_traversed_;

  struct Deferred {
    uint64_t index;
    PyObject* op;
    PyObject* sizeof_descr;
  };
  std::vector<Deferred> deferred_sizes_;
  std::vector<PendingRoot> roots_;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_WALKER_H_

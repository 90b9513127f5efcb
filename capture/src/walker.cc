#include "walker.h"

#include <chrono>
#include <cstring>

#include "heapsnap/base/python_text.h"
#include "object_address.h"
#include "value_text.h"

namespace heapsnap::capture {
Walker::Walker(SnapshotWriter* writer, const CaptureConfig& config)
    : writer_(writer),
      config_(config),
      key_refs_(config.values && config.max_preview_bytes >= kMaxKeyBytes),
      types_(config.values),
      labels_(&types_, key_refs_) {}

Walker::~Walker() {
  emitter_.reset();  // its thread may read objects: stop it first
}

Status Walker::Run(CaptureStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  HEAPSNAP_RETURN_IF_ERROR(PrepareNames());
  emitter_ = std::make_unique<Emitter>(writer_, config_.values, key_refs_, config_.parallel);
  batch_ = &emitter_->batch();
  // From here on: no Python objects, no Python code.
  MarkTracked();
  CollectRoots(thread_names_, &roots_);
  RegisterRoots();
  WriteRunningFrames();
  Walk();
  HEAPSNAP_RETURN_IF_ERROR(FinishAfterWalk(stats));
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::Ok();
}

Status Walker::PrepareNames() {
  HEAPSNAP_RETURN_IF_ERROR(types_.Prepare());
  thread_names_.Read();
  return labels_.Prepare(thread_names_);
}

void Walker::MarkTracked() {
  PyObject* garbage = hs_gc_garbage();
  if (garbage != nullptr && PyList_Check(garbage)) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(garbage); ++i) {
      garbage_.Insert(PyList_GET_ITEM(garbage, i), 1);
    }
  }
  hs_foreach_tracked(
      [](PyObject* op, int /*generation*/, void* arg) -> int {
        auto* self = static_cast<Walker*>(arg);
        self->seen_.Insert(op);
        self->labels_.NoteTracked(op);
        return 0;
      },
      this);
}

void Walker::Walk() {
  // Untracked objects (strs, ints, floats, untracked tuples and dicts) are described right
  // after the object that first reached them, not after all tracked objects: the work then
  // has the same mix all along, which keeps the walk and the emitter evenly busy.
  // The tracked objects are read from the collector's lists again (a second pass costs less
  // than keeping a list of them: tens of MB of fresh memory for a big heap). A second cursor
  // runs ahead: objects are scattered in memory, and are fetched early.
  constexpr int kAhead = 8;
  hs_tracked_cursor cursor;
  hs_tracked_cursor ahead;
  hs_tracked_begin(&cursor);
  hs_tracked_begin(&ahead);
  int ahead_generation = 0;
  for (int i = 0; i < kAhead; ++i) (void)hs_tracked_next(&ahead, &ahead_generation);
  bool tracked_left = true;
  size_t pending_head = 0;  // pending_ is a FIFO: the oldest prefetch has had the most time
  for (uint64_t n = 0;; ++n) {
    if (pending_head < pending_.size()) {
      PyObject* op = pending_[pending_head++];
      if (pending_head == pending_.size()) {
        pending_.clear();
        pending_head = 0;
      }
      ProcessObject(op, kGenerationUntracked);
    } else if (tracked_left) {
      int generation = 0;
      PyObject* op = hs_tracked_next(&cursor, &generation);
      if (op == nullptr) {
        tracked_left = false;
        continue;
      }
      if (const auto* next =
              reinterpret_cast<const char*>(hs_tracked_next(&ahead, &ahead_generation))) {
        __builtin_prefetch(next - 16);
        __builtin_prefetch(next + 48);
      }
      // 1 + the generation, kGenerationPermanent for gc.freeze()'s objects.
      ProcessObject(op, static_cast<uint32_t>(generation + 1));
    } else {
      break;
    }
    if ((n & 0xffff) == 0 && emitter_->failed()) break;
  }
}

Status Walker::FinishAfterWalk(CaptureStats* stats) {
  // The emitter reads objects without the GIL: it must be done before anything may change.
  HEAPSNAP_RETURN_IF_ERROR(emitter_->Finish());
  for (const PendingRoot& r : roots_) {
    HEAPSNAP_RETURN_IF_ERROR(writer_->AddRoot(
        {r.kind, r.address, writer_->InternString(r.label), r.thread_id, r.depth}));
  }
  HEAPSNAP_RETURN_IF_ERROR(WriteDeferredSizes());
  stats->objects = writer_->object_count();
  stats->edges = writer_->edge_count();
  stats->roots = roots_.size();
  return Status::Ok();
}

Status Walker::WriteDeferredSizes() {
  // The walk is over: C __sizeof__ methods may allocate their result now.
  for (const Deferred& d : deferred_sizes_) {
    auto* descr = reinterpret_cast<PyMethodDescrObject*>(d.sizeof_descr);
    PyMethodDef* def = descr->d_method;
    if (def == nullptr || !(def->ml_flags & METH_NOARGS)) continue;
    PyObject* result = def->ml_meth(d.op, nullptr);
    if (result == nullptr) {
      PyErr_Clear();
      continue;
    }
    Py_ssize_t size = PyLong_AsSsize_t(result);
    Py_DECREF(result);
    if (size < 0) {
      PyErr_Clear();
      continue;
    }
    size += hs_preheader_size(d.op);
    HEAPSNAP_RETURN_IF_ERROR(writer_->AddSizeFixup({d.index, static_cast<uint64_t>(size)}));
  }
  return Status::Ok();
}

uint32_t Walker::FlagsOf(PyObject* op, const TypeEntry& type, uint32_t generation, bool is_gc) {
  uint32_t flags = type.object_flags;
  if (is_gc) {
    flags |= object_flags::kGcType;
    if (hs_is_finalized(op)) flags |= object_flags::kFinalized;
  }
  if (generation != kGenerationUntracked) flags |= object_flags::kGcTracked;
  if (generation == kGenerationPermanent) flags |= object_flags::kFrozen;
  if (hs_is_immortal(op)) flags |= object_flags::kImmortal;
  if (garbage_.size() > 0 && garbage_.Find(op) != nullptr) flags |= object_flags::kInGcGarbage;
  return flags;
}

uint64_t Walker::ObjectSize(PyObject* op, const TypeEntry& type, uint64_t index) {
  Py_ssize_t size = hs_sizeof(op, type.size_kind);
  if (size < 0) size = 0;
  if (type.deferred_sizeof != nullptr) deferred_sizes_.push_back({index, op, type.deferred_sizeof});
  return static_cast<uint64_t>(size);
}

void Walker::ProcessObject(PyObject* op, uint32_t generation) {
  if (config_.written != nullptr) config_.written->push_back(op);
  PyTypeObject* tp = Py_TYPE(op);
  const TypeEntry& type = types_.TypeOf(tp, &batch_->types);
  const bool is_gc = IsGc(op);
  ObjectRecord record;
  record.address = AddressOf(op);
  record.type = type.id;
  record.refcount = static_cast<uint64_t>(Py_REFCNT(op));
  record.flags = FlagsOf(op, type, generation, is_gc);
  record.generation = generation;
  record.size = ObjectSize(op, type, object_count_);
  BeginObject(record);
  if (type.preview != Preview::kNone) WritePreview(op, type);
  if (type.labeler == Labeler::kDict && tp == &PyDict_Type && config_.parallel &&
      static_cast<size_t>(PyDict_GET_SIZE(op)) * 2 > kLargeObject && StreamLargeDict(op)) {
    return;
  }
  labels_.BeforeTraversal(op, type);
  if (is_gc && tp->tp_traverse != nullptr) tp->tp_traverse(op, AppendVisited, &batch_->traversed);
  labels_.AfterTraversal(op, type);
  labels_.Name(op, type);  // before EndObject: a large object's edges may move to new batches
  EndObject();
}

void Walker::WritePreview(PyObject* op, const TypeEntry& type) {
  Batch& b = *batch_;
  const auto index = static_cast<uint32_t>(b.objects.size() - 1);
  const auto end = static_cast<uint32_t>(b.text.size());
  long long v = 0;
  uint64_t length = 0;
  if (format_numbers_ && type.preview == Preview::kFloat) {
    length = AppendFloatPreview(PyFloat_AS_DOUBLE(op), &b.text);
    b.values.push_back({index, static_cast<uint32_t>(b.text.size()), length, RawValue::kText});
  } else if (format_numbers_ && type.preview == Preview::kInt && hs_long_value(op, &v)) {
    length = AppendIntPreview(v, &b.text);
    b.values.push_back({index, static_cast<uint32_t>(b.text.size()), length, RawValue::kText});
  } else if (type.preview == Preview::kFloat) {
    uint64_t bits;
    const double d = PyFloat_AS_DOUBLE(op);
    std::memcpy(&bits, &d, sizeof(bits));
    b.values.push_back({index, end, bits, RawValue::kFloat});
  } else if (type.preview == Preview::kInt && hs_long_value(op, &v)) {
    b.values.push_back({index, end, static_cast<uint64_t>(v), RawValue::kInt});
  } else if (AppendPreview(op, type.preview, config_.max_preview_bytes, &b.text, &length)) {
    b.values.push_back({index, static_cast<uint32_t>(b.text.size()), length, RawValue::kText});
  }
}

void Walker::EndObject() {
  Batch& b = *batch_;
  RawObject& o = b.objects.back();
  const size_t label_start = labels_.label_start();
  const size_t traversed_start = labels_.traversed_start();
  o.labels = static_cast<uint32_t>(b.labels.size() - label_start);
  o.traversed = static_cast<uint32_t>(b.traversed.size() - traversed_start);
  // Everything this object references is written too (the emitter decides the labels).
  // Labels mostly name what tp_traverse reported, in its order: those are registered already.
  size_t k = traversed_start;
  const size_t traversed_end = b.traversed.size();
  for (size_t i = traversed_start; i < traversed_end; ++i) {
    Register(PointerAt<PyObject>(b.traversed[i]));
  }
  for (size_t i = label_start; i < b.labels.size(); ++i) {
    RawLabel& label = b.labels[i];
    if (k < traversed_end && b.traversed[k] == label.target) {
      label.traversed = true;
      ++k;
      continue;
    }
    Register(PointerAt<PyObject>(label.target));
  }
  const bool large = o.labels + o.traversed > kLargeObject;
  if (k == traversed_end && o.traversed != 0 && config_.parallel) {
    // Every reference tp_traverse reported is named by a label, in its order (the usual
    // case): the marks say which, and the references need not cross to the emitter's core.
    // (A single-threaded capture keeps the emitter's matching for every object: the
    // reference that tests compare threaded captures with.)
    b.traversed.truncate(traversed_start);
    o.traversed = 0;
    o.mode = RawObject::kInOrder;
    if (large) {
      // A large object in order (a big list or dict) goes as is, to be written by the emitter
      // while the walk goes on.
      b.large = true;
      SubmitBatch();
    }
  } else if (large) {
    Prematch();
  }
}

}  // namespace heapsnap::capture

#include "emitter.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace heapsnap::capture {

Emitter::Emitter(SnapshotWriter* writer, bool values, bool key_refs, bool threaded)
    : w_(writer), values_(values), key_refs_(key_refs) {
  batches_.push_back(std::make_unique<Batch>());
  current_ = batches_.back().get();
  if (threaded) thread_ = std::thread([this] { Loop(); });
}

Emitter::~Emitter() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
}

void Emitter::SubmitBatch() {
  if (!thread_.joinable()) {
    Process(*current_);
    current_->Clear();
    return;
  }
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // A few batches in flight keep both threads busy; more would only hold memory.
    // A batch that ends with a large object is a long job for the emitter: the walk goes on
    // meanwhile, and only ordinary batches count against the limit.
    cv_.wait(lock, [this] {
      return queue_.size() - large_in_queue_ < kMaxInFlight &&
             (!current_->large || large_in_queue_ < kMaxLargeInFlight);
    });
    if (current_->large) ++large_in_queue_;
    queue_.push_back(current_);
    backlog_.store(queue_.size(), std::memory_order_relaxed);
    if (free_.empty()) {
      batches_.push_back(std::make_unique<Batch>());
      current_ = batches_.back().get();
    } else {
      current_ = free_.back();
      free_.pop_back();
    }
  }
  cv_.notify_all();
}

void Emitter::Loop() {
  for (;;) {
    Batch* batch = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopped, nothing left
      batch = queue_.front();
    }
    Process(*batch);
    const bool large = batch->large;
    batch->Clear();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.pop_front();
      backlog_.store(queue_.size(), std::memory_order_relaxed);
      if (large) --large_in_queue_;
      free_.push_back(batch);
    }
    cv_.notify_all();
  }
}

Status Emitter::Finish() {
  if (!current_->objects.empty() || !current_->types.empty()) SubmitBatch();
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();  // the thread leaves only once the queue is empty
  }
  return w_->status();
}

void Emitter::Process(const Batch& batch) {
  for (const PendingType& t : batch.types) {
    TypeRecord record = t.record;
    record.name = w_->InternString(t.name);
    record.qualname = w_->InternString(t.qualname);
    w_->AddType(record);
  }
  size_t value = 0;
  uint32_t text_begin = 0;
  const RawLabel* labels = batch.labels.data();
  PyObject* const* traversed = batch.traversed.data();
  size_t name = 0;
  for (size_t i = 0; i < batch.objects.size(); ++i) {
    const RawObject& o = batch.objects[i];
    if (o.mode != RawObject::kContinued) w_->BeginObject(o.record);
    if (value < batch.values.size() && batch.values[value].object == i) {
      const RawValue& v = batch.values[value++];
      switch (v.kind) {
        case RawValue::kText:
          w_->value_buffer()->append(batch.text, text_begin, v.end - text_begin);
          w_->CommitValue(v.payload);
          text_begin = v.end;
          break;
        case RawValue::kInt:
          w_->CommitValue(AppendIntPreview(static_cast<long long>(v.payload), w_->value_buffer()));
          break;
        case RawValue::kFloat: {
          double d;
          std::memcpy(&d, &v.payload, sizeof(d));
          w_->CommitValue(AppendFloatPreview(d, w_->value_buffer()));
          break;
        }
      }
    }
    for (; name < batch.names.size() && batch.names[name].object == i; ++name) {
      const PendingName& n = batch.names[name];
      w_->SetName(n.name != nullptr ? Name(n.name) : w_->InternString(n.text),
                  n.file != nullptr ? Name(n.file) : StringId(), n.line);
    }
    if (o.mode == RawObject::kMatch || o.mode == RawObject::kInOrder) {
      if (o.labels != 0 || o.traversed != 0) {
        // 3.11's static objects (deep-frozen code, constants) never counted their references.
        const bool uncounted =
            PY_VERSION_HEX < 0x030C0000 && (o.record.flags & object_flags::kImmortal) != 0;
        if (o.mode == RawObject::kMatch) {
          matcher_.Match(labels, o.labels, traversed, o.traversed);
          EmitEdges(labels, o.labels, traversed, o.traversed, uncounted);
        } else {
          EmitEdges(labels, o.labels, nullptr, matcher_.FromMarks(labels, o.labels), uncounted);
        }
      }
    } else {
      // Final edges, in order: kind_if_not_traversed is the edge's kind.
      for (size_t j = 0; j < o.labels; ++j) {
        EdgeRecord e;
        e.target = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(labels[j].target));
        e.kind = labels[j].kind_if_not_traversed;
        Resolve(labels + j, 1, 0, &e.label_kind, &e.label_value);
        w_->AddEdge(e);
      }
    }
    labels += o.labels;
    traversed += o.traversed;
  }
  if (!w_->status().ok()) failed_.store(true, std::memory_order_relaxed);
}

StringId Emitter::Literal(const char* s) {
  CachedLiteral& cached = literal_cache_[(reinterpret_cast<uintptr_t>(s) >> 2) & 255];
  if (cached.text == s) return cached.id;
  StringId id;
  if (uint32_t* found = literal_ids_.Find(s)) {
    id = StringId(*found);
  } else {
    id = w_->InternString(s);
    literal_ids_.Insert(s, id.value());
  }
  cached = {s, id};
  return id;
}

StringId Emitter::Name(PyObject* str) {
  CachedName& cached = name_cache_[(reinterpret_cast<uintptr_t>(str) >> 4) & 255];
  if (cached.str == str && str != nullptr) return cached.id;
  if (uint32_t* found = name_ids_.Find(str)) {
    cached = {str, StringId(*found)};
    return cached.id;
  }
  StringId id;
  if (str == nullptr || !PyUnicode_Check(str)) {
    id = Literal("?");
  } else {
    scratch_.clear();
    bool truncated = false;
    if (!AppendUtf8(str, 256, &scratch_, &truncated)) scratch_.clear();
    id = w_->InternString(scratch_);
  }
  name_ids_.Insert(str, id.value());
  return id;
}

StringId Emitter::LabelName(PyObject* str) {
  // Attribute names come from instances' keys, which need not be names of the program (a key
  // written into an instance's __dict__ at run time). Rare: not cached.
  if (values_ || str == nullptr || !PyUnicode_Check(str) || IsProgramName(str)) return Name(str);
  scratch_.clear();
  AppendRedactedStr(str, &scratch_);
  return w_->InternString(scratch_);
}

StringId Emitter::KeyRepr(PyObject* key) {
  if (uint32_t* id = key_ids_.Find(key)) return StringId(*id);
  scratch_.clear();
  AppendKeyRepr(key, values_, 0, &scratch_);
  StringId id = w_->InternString(scratch_);
  key_ids_.Insert(key, id.value());
  return id;
}

void Emitter::Resolve(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                      uint64_t* value) {
  const RawLabel& label = labels[i];
  *kind = label.kind;
  switch (label.value_kind) {
    case LabelValue::kPlain:
      *value = label.value;
      return;
    case LabelValue::kLiteral:
      *value = Literal(reinterpret_cast<const char*>(static_cast<uintptr_t>(label.value))).value();
      return;
    case LabelValue::kName:
      *value = LabelName(reinterpret_cast<PyObject*>(static_cast<uintptr_t>(label.value))).value();
      return;
    case LabelValue::kKeyStr:
      if (matcher_.KeyReference(labels, n_labels, i, kind, value)) return;
      // A key without its pair (or seen alone): write its repr.
      *value = KeyRepr(reinterpret_cast<PyObject*>(static_cast<uintptr_t>(label.value))).value();
      return;
    case LabelValue::kKey:
    case LabelValue::kKeyNext: {
      auto* key = reinterpret_cast<PyObject*>(static_cast<uintptr_t>(label.value));
      const bool keyed =
          label.kind == LabelKind::kDictKey || label.kind == LabelKind::kDictKeyObject;
      if (keyed && key_refs_ && PyUnicode_Check(key)) {
        if (label.value_kind == LabelValue::kKeyNext) {
          // The value's edge refers to the key's, the next one (LabelKind::kDictKeyRef).
          *kind =
              label.kind == LabelKind::kDictKey ? LabelKind::kDictKeyRef : LabelKind::kDictKeySelf;
          *value = label.kind == LabelKind::kDictKey ? ZigZagEncode(1) : 0;
          return;
        }
        if (matcher_.KeyReference(labels, n_labels, i, kind, value)) return;
      }
      long long v = 0;
      if (values_ && keyed && PyLong_CheckExact(key) && hs_long_value(key, &v)) {
        *kind = label.kind == LabelKind::kDictKey ? LabelKind::kDictKeyInt
                                                  : LabelKind::kDictKeyIntObject;
        *value = ZigZagEncode(v);
        return;
      }
      if (!values_ && label.kind == LabelKind::kDictKey && PyUnicode_Check(key) &&
          label.target != nullptr && PyModule_Check(label.target) && !IsProgramName(key)) {
        // A module's name (sys.modules['__main__'] is not interned): structure, not data.
        scratch_.clear();
        AppendKeyRepr(key, /*values=*/true, 0, &scratch_);
        *value = w_->InternString(scratch_).value();
        return;
      }
      *value = KeyRepr(key).value();
      return;
    }
  }
  *value = label.value;
}

void Emitter::EmitEdges(const RawLabel* labels, size_t n_labels, PyObject* const* traversed,
                        size_t n_traversed, bool uncounted) {
  for (size_t k = 0; k < n_traversed; ++k) {
    EdgeRecord e;
    const uint32_t label = matcher_.label_of(k);
    // Without the references (kInOrder) every one is labelled.
    PyObject* target = traversed != nullptr ? traversed[k] : labels[label].target;
    e.target = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(target));
    e.kind = uncounted ? EdgeKind::kBorrowed : EdgeKind::kTraverse;
    if (label != LabelMatcher::kNone) {
      Resolve(labels, n_labels, label, &e.label_kind, &e.label_value);
    } else {
      e.label_kind = LabelKind::kTraverseIndex;
      e.label_value = k;
    }
    w_->AddEdge(e);
  }
  for (size_t i = 0; i < n_labels; ++i) {
    if (matcher_.matched(i)) continue;
    const RawLabel& l = labels[i];
    EdgeRecord e;
    e.target = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(l.target));
    e.kind = uncounted && l.kind_if_not_traversed == EdgeKind::kStrong ? EdgeKind::kBorrowed
                                                                       : l.kind_if_not_traversed;
    Resolve(labels, n_labels, i, &e.label_kind, &e.label_value);
    w_->AddEdge(e);
  }
}

}  // namespace heapsnap::capture

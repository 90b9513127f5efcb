#include "emitter.h"

#include <cstring>
#include <utility>

#include "edge_placement.h"
#include "object_address.h"
#include "value_text.h"

namespace heapsnap::capture {

Emitter::Emitter(SnapshotWriter* writer, bool values, bool key_refs, bool threaded)
    : writer_(writer), values_(values), key_refs_(key_refs), threaded_(threaded) {
  batches_.push_back(std::make_unique<Batch>());
  current_ = batches_.back().get();
  if (threaded) thread_ = std::thread([this] { Loop(); });
}

Emitter::~Emitter() {
  if (thread_.joinable()) {
    queue_.Close();  // the thread writes what is queued, then leaves
    thread_.join();
  }
}

void Emitter::SubmitBatch() {
  if (!threaded_) {
    Process(*current_);
    current_->Clear();
    return;
  }
  queue_.Push(current_, /*heavy=*/current_->large);
  std::lock_guard<std::mutex> lock(free_mutex_);
  if (free_.empty()) {
    batches_.push_back(std::make_unique<Batch>());
    current_ = batches_.back().get();
  } else {
    current_ = free_.back();
    free_.pop_back();
  }
}

void Emitter::Loop() {
  while (std::optional<Batch*> batch = queue_.Pop()) {
    Process(**batch);
    (*batch)->Clear();
    {
      std::lock_guard<std::mutex> lock(free_mutex_);
      free_.push_back(*batch);
    }
    queue_.Done();  // after the batch is free: the walk, woken, finds it
  }
}

Status Emitter::Finish() {
  if (!current_->objects.empty() || !current_->types.empty()) SubmitBatch();
  if (thread_.joinable()) {
    queue_.Close();
    thread_.join();  // the thread leaves only once the queue is empty
  }
  return writer_->status();
}

void Emitter::WriteValue(const Batch& batch, const RawValue& v, uint32_t* text_begin) {
  switch (v.kind) {
    case RawValue::kText:
      writer_->value_buffer()->append(batch.text, *text_begin, v.end - *text_begin);
      writer_->CommitValue(v.payload);
      *text_begin = v.end;
      break;
    case RawValue::kInt:
      writer_->CommitValue(
          AppendIntPreview(static_cast<long long>(v.payload), writer_->value_buffer()));
      break;
    case RawValue::kFloat: {
      double d;
      std::memcpy(&d, &v.payload, sizeof(d));
      writer_->CommitValue(AppendFloatPreview(d, writer_->value_buffer()));
      break;
    }
  }
}

void Emitter::Process(const Batch& batch) {
  for (const PendingType& t : batch.types) {
    TypeRecord record = t.record;
    record.name = writer_->InternString(t.name);
    record.qualname = writer_->InternString(t.qualname);
    writer_->AddType(record);
  }
  size_t value = 0;
  uint32_t text_begin = 0;
  const RawLabel* labels = batch.labels.data();
  const void* const* traversed = batch.traversed.data();
  size_t name = 0;
  for (size_t i = 0; i < batch.objects.size(); ++i) {
    const RawObject& o = batch.objects[i];
    if (o.mode != RawObject::kContinued) writer_->BeginObject(o.record);
    if (value < batch.values.size() && batch.values[value].object == i) {
      WriteValue(batch, batch.values[value++], &text_begin);
    }
    for (; name < batch.names.size() && batch.names[name].object == i; ++name) {
      const PendingName& n = batch.names[name];
      writer_->SetName(n.name != nullptr ? Name(n.name) : writer_->InternString(n.text),
                       n.file != nullptr ? Name(n.file) : StringId(), n.line);
    }
    if (o.mode == RawObject::kMatch || o.mode == RawObject::kInOrder) {
      if (o.labels != 0 || o.traversed != 0) {
        const bool uncounted = IsUncounted(o.record.flags, PY_VERSION_HEX);
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
        e.target = AddressOf(labels[j].target);
        e.kind = labels[j].kind_if_not_traversed;
        Resolve(labels + j, 1, 0, &e.label_kind, &e.label_value);
        writer_->AddEdge(e);
      }
    }
    labels += o.labels;
    traversed += o.traversed;
  }
  if (!writer_->status().ok()) failed_.store(true, std::memory_order_relaxed);
}

StringId Emitter::Literal(const char* s) {
  CachedLiteral& cached = literal_cache_[(reinterpret_cast<uintptr_t>(s) >> 2) & 255];
  if (cached.text == s) return cached.id;
  StringId id;
  if (uint32_t* found = literal_ids_.Find(s)) {
    id = StringId(*found);
  } else {
    id = writer_->InternString(s);
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
    id = writer_->InternString(scratch_);
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
  return writer_->InternString(scratch_);
}

StringId Emitter::KeyRepr(PyObject* key) {
  if (uint32_t* id = key_ids_.Find(key)) return StringId(*id);
  scratch_.clear();
  AppendKeyRepr(key, values_, 0, &scratch_);
  StringId id = writer_->InternString(scratch_);
  key_ids_.Insert(key, id.value());
  return id;
}

void Emitter::Resolve(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                      uint64_t* value) {
  const RawLabel& label = labels[i];
  *kind = label.kind;
  switch (label.value_kind) {
    case LabelValueKind::kPlain:
      *value = label.value;
      return;
    case LabelValueKind::kLiteral:
      *value = Literal(PointerAt<const char>(label.value)).value();
      return;
    case LabelValueKind::kName:
      *value = LabelName(PointerAt<PyObject>(label.value)).value();
      return;
    case LabelValueKind::kKeyStr:
      if (matcher_.KeyReference(labels, n_labels, i, kind, value)) return;
      // A key without its pair (or seen alone): write its repr.
      *value = KeyRepr(PointerAt<PyObject>(label.value)).value();
      return;
    case LabelValueKind::kKey:
    case LabelValueKind::kKeyNext:
      ResolveKey(labels, n_labels, i, kind, value);
      return;
  }
  *value = label.value;
}

void Emitter::ResolveKey(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                         uint64_t* value) {
  const RawLabel& label = labels[i];
  auto* key = PointerAt<PyObject>(label.value);
  const bool keyed = label.kind == LabelKind::kDictKey || label.kind == LabelKind::kDictKeyObject;
  if (keyed && key_refs_ && PyUnicode_Check(key)) {
    if (label.value_kind == LabelValueKind::kKeyNext) {
      // A final edge whose key's edge is the next one (Walker::StreamDictEdges).
      if (label.kind == LabelKind::kDictKey) {
        ValueRefersToKey(/*value_edge=*/0, /*key_edge=*/1, kind, value);
      } else {
        KeyRefersToItself(kind, value);
      }
      return;
    }
    if (matcher_.KeyReference(labels, n_labels, i, kind, value)) return;
  }
  long long v = 0;
  if (values_ && keyed && PyLong_CheckExact(key) && hs_long_value(key, &v)) {
    *kind =
        label.kind == LabelKind::kDictKey ? LabelKind::kDictKeyInt : LabelKind::kDictKeyIntObject;
    *value = ZigZagEncode(v);
    return;
  }
  if (!values_ && label.kind == LabelKind::kDictKey && PyUnicode_Check(key) &&
      label.target != nullptr && PyModule_Check(PointerAt<PyObject>(label.target)) &&
      !IsProgramName(key)) {
    // A module's name (sys.modules['__main__'] is not interned): structure, not data.
    scratch_.clear();
    AppendKeyRepr(key, /*values=*/true, 0, &scratch_);
    *value = writer_->InternString(scratch_).value();
    return;
  }
  *value = KeyRepr(key).value();
}

void Emitter::EmitEdges(const RawLabel* labels, size_t n_labels, const void* const* traversed,
                        size_t n_traversed, bool uncounted) {
  PlaceEdges(matcher_, labels, n_labels, traversed, n_traversed, uncounted,
             [&](const void* target, EdgeKind kind, uint32_t label, size_t k) {
               EdgeRecord e;
               e.target = AddressOf(target);
               e.kind = kind;
               if (label != LabelMatcher::kNone) {
                 Resolve(labels, n_labels, label, &e.label_kind, &e.label_value);
               } else {
                 e.label_kind = LabelKind::kTraverseIndex;
                 e.label_value = k;
               }
               writer_->AddEdge(e);
             });
}

}  // namespace heapsnap::capture

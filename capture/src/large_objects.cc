// The walk's strategies for large objects (more than Walker::kLargeObject labels and
// references), kept out of the common path. A large object in traversal order goes to the
// emitter whole, in a batch of its own (Walker::EndObject). The others have their edges placed
// here, by the walk, so that they can be cut across batches of normal size:
//  - Prematch: a large object whose labels are not in traversal order (or any large object in
//    a single-threaded capture) is matched by the walk, with the edge placement rule
//    (edge_placement.h) the emitter uses for every other object;
//  - StreamLargeDict: a big dict is written while it is read, so that the emitter works on its
//    first entries while the walk reads the next; each edge is placed as its entry is read,
//    with the pieces of the same rule.
#include "edge_placement.h"
#include "object_address.h"
#include "walker.h"

namespace heapsnap::capture {
void Walker::Prematch() {
  TakeLargeObject();
  const size_t label_start = labels_.label_start();
  const size_t traversed_start = labels_.traversed_start();
  RawLabel* const labels = large_labels_.data() + label_start;
  const size_t n_labels = large_labels_.size() - label_start;
  const void* const* const traversed = large_traversed_.data() + traversed_start;
  const size_t n_traversed = large_traversed_.size() - traversed_start;
  if (key_refs_) MarkStrKeys(labels, n_labels);
  large_matcher_.Match(labels, n_labels, traversed, n_traversed);

  RawObject& o = batch_->objects.back();
  o.mode = RawObject::kPrematched;
  o.labels = 0;
  o.traversed = 0;
  const ObjectRecord record = o.record;
  PlaceEdges(large_matcher_, labels, n_labels, traversed, n_traversed,
             IsUncounted(record.flags, PY_VERSION_HEX),
             [&](const void* target, EdgeKind kind, uint32_t label, size_t k) {
               RawLabel edge = label != LabelMatcher::kNone
                                   ? labels[label]
                                   : RawLabel{target, k, LabelKind::kTraverseIndex,
                                              LabelValueKind::kPlain, EdgeKind::kTraverse};
               edge.target = target;
               edge.kind_if_not_traversed = kind;  // a final edge: its kind
               LabelKind key_kind;
               uint64_t key_value;
               if (label != LabelMatcher::kNone &&
                   labels[label].value_kind == LabelValueKind::kKeyStr &&
                   large_matcher_.KeyReference(labels, n_labels, label, &key_kind, &key_value)) {
                 edge.kind = key_kind;
                 edge.value = key_value;
                 edge.value_kind = LabelValueKind::kPlain;
               }
               EmitFinal(edge, record);
             });
}

void Walker::TakeLargeObject() {
  // The object's labels and references become large_*_ (the arrays change hands, nothing is
  // copied but what earlier objects of the batch put before them).
  Batch& b = *batch_;
  const size_t label_start = labels_.label_start();
  const size_t traversed_start = labels_.traversed_start();
  large_labels_.clear();
  large_labels_.swap(b.labels);
  b.labels.reserve_more(label_start);
  for (size_t i = 0; i < label_start; ++i) b.labels.push_back(large_labels_[i]);
  large_traversed_.clear();
  large_traversed_.swap(b.traversed);
  b.traversed.reserve_more(traversed_start);
  for (size_t i = 0; i < traversed_start; ++i) b.traversed.push_back(large_traversed_[i]);
}

void Walker::MarkStrKeys(RawLabel* labels, size_t n_labels) {
  // The pairing of a str key with its value needs edge positions, which only this matching
  // knows: tell str keys apart here. Each key read is a cache miss: fetch them well ahead.
  constexpr size_t kAhead = 16;
  for (size_t i = 0; i < n_labels; ++i) {
    if (i + kAhead < n_labels && labels[i + kAhead].value_kind == LabelValueKind::kKey) {
      __builtin_prefetch(PointerAt<const void>(labels[i + kAhead].value));
    }
    RawLabel& l = labels[i];
    if (l.value_kind == LabelValueKind::kKey && PyUnicode_Check(PointerAt<PyObject>(l.value))) {
      l.value_kind = LabelValueKind::kKeyStr;
    }
  }
}

bool Walker::StreamLargeDict(PyObject* op) {
  // The edges go to the emitter batch by batch (labelling 200k entries first and handing them
  // over whole leaves the emitter idle meanwhile). The order of the edges must be known before
  // the first is written: this returns false, having written nothing, for a dict whose
  // traversal is not in entry order, which then takes the ordinary way. The edges and labels
  // are those the ordinary way gives (kInOrder, FromMarks): a single-threaded capture takes
  // the ordinary way, and a test compares the two.
  const ObjectRecord record = batch_->objects.back().record;
  if (labels_.HasContainerNames(op)) return false;  // __kwdefaults__: names
  if (IsUncounted(record.flags, PY_VERSION_HEX)) return false;
  const bool str_keys = key_refs_ && hs_dict_has_str_keys(op);
  if (!TraversesInEntryOrder(op, str_keys)) return false;
  batch_->objects.back().mode = RawObject::kPrematched;
  for (size_t i = 0; i < stream_traversed_.size(); ++i) {
    Register(PointerAt<PyObject>(stream_traversed_[i]));
  }
  StreamDictEdges(op, record, str_keys);
  return true;
}

bool Walker::TraversesInEntryOrder(PyObject* op, bool str_keys) {
  // tp_traverse runs first, and must have reported every value, and keys either right after
  // their values (a general keys table) or not at all (str keys, known to be str).
  PodVector<const void*>& t = stream_traversed_;
  t.clear();
  Py_TYPE(op)->tp_traverse(op, AppendVisited, &t);
  const size_t n = t.size();
  stream_key_traversed_.clear();
  size_t k = 0;
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    if (k >= n || t[k] != value) return false;
    ++k;
    const bool key_traversed = k < n && t[k] == key;
    if (key_traversed) {
      ++k;
    } else if (!str_keys) {
      return false;  // a key whose edge is not next to its value's, and maybe not a str
    }
    stream_key_traversed_.push_back(key_traversed ? 1 : 0);
  }
  return k == n;
}

void Walker::StreamDictEdges(PyObject* op, const ObjectRecord& record, bool str_keys) {
  // Edge placement's rule (edge_placement.h), applied as the entries are read: PlaceEdges
  // would need every label first. First the traversed edges, in order: each value, and its key
  // when traversed.
  constexpr bool kUncounted = false;  // StreamLargeDict declines uncounted objects
  const EdgeKind traversed_kind = TraversedEdgeKind(kUncounted);
  const size_t n_traversed = stream_traversed_.size();
  size_t edge = 0;  // the index of the next edge
  size_t rank = 0;  // of the next key tp_traverse did not report, among those
  size_t entry = 0;
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    RawLabel v{value, AddressOf(key), LabelKind::kDictKey, LabelValueKind::kPlain, traversed_kind};
    if (stream_key_traversed_[entry++] != 0) {
      RawLabel k{key, AddressOf(key), LabelKind::kDictKeyObject, LabelValueKind::kPlain,
                 traversed_kind};
      if (str_keys) {
        ValueRefersToKey(edge, edge + 1, &v.kind, &v.value);
        KeyRefersToItself(&k.kind, &k.value);
      } else {
        // Maybe not a str: the emitter reads the key (LabelValueKind::kKeyNext).
        v.value_kind = LabelValueKind::kKeyNext;
        k.value_kind = LabelValueKind::kKeyNext;
      }
      EmitFinal(v, record);
      EmitFinal(k, record);
      edge += 2;
    } else {
      // A str key (TraversesInEntryOrder): its edge comes after every traversed one.
      ValueRefersToKey(edge, UntraversedEdgeIndex(n_traversed, rank++), &v.kind, &v.value);
      EmitFinal(v, record);
      edge += 1;
    }
  }
  // Then the keys tp_traverse did not report, in entry order (their labels' order).
  const EdgeKind key_kind = UntraversedEdgeKind(DictKeyEdgeKind(IsSplitTable(op)), kUncounted);
  entry = 0;
  pos = 0;
  while (PyDict_Next(op, &pos, &key, &value)) {
    if (stream_key_traversed_[entry++] != 0) continue;
    Register(key);
    RawLabel k{key, 0, LabelKind::kDictKeyObject, LabelValueKind::kPlain, key_kind};
    KeyRefersToItself(&k.kind, &k.value);
    EmitFinal(k, record);
  }
}

}  // namespace heapsnap::capture

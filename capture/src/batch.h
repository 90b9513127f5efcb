// What the walking thread hands to the emitter thread: objects as the walk found them, with
// their references still as pointers and their labels not yet turned into text.
//
// The capture runs as a two-stage pipeline. The walking thread (which holds the GIL) does
// what must happen in walk order, and everything that reads the objects themselves: it
// iterates the collector's lists, calls tp_traverse, reads the fields it labels, writes value
// previews, and decides which objects are new; it also pairs labels with what tp_traverse
// reported when they come in the same order (most objects: RawObject::kInOrder), and formats
// int and float previews while the emitter is behind. The emitter thread does the rest: it
// matches the other objects' labels with their references, turns label values into strings,
// interns them and feeds the SnapshotWriter (encoding, checksums and writes run on the
// writer's own thread). Keeping object reads on one thread matters: an
// object read on the other core is a second cache miss. The emitter still reads a few
// objects: names, and the keys of dicts whose keys table does not say they are all str (it
// tells int keys, str keys and others apart); the heap cannot change while the walking thread holds
// the GIL and runs no Python code, so it may, without the GIL, until the capture returns.
#ifndef HEAPSNAP_CAPTURE_BATCH_H_
#define HEAPSNAP_CAPTURE_BATCH_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
// clang-format on

#include "heapsnap/format/types.h"
#include "pytext.h"

namespace heapsnap::capture {

// Which labeller a type's instances get (decided once per type).
enum class Labeler : uint8_t {
  kNone,
  kDict,
  kList,
  kTuple,
  kSet,
  kDeque,
  kFunction,
  kCell,
  kMethod,
  kCFunction,
  kType,
  kModule,
  kCode,
  kFrame,
  kGenerator,
  kWeakref,
  kException,
  kTraceback,
  kStaticOrClassMethod,
  kProperty,
  kDescriptor,
};

// How a raw label's value is given; the emitter turns it into what the file stores.
enum class LabelValue : uint8_t {
  kPlain,    // an integer, stored as is
  kLiteral,  // a const char* with static lifetime: the label's text
  kName,     // a PyObject* str used as a name (attribute, variable, parameter)
  kKey,      // a PyObject* dict key: ['repr'], or [int] for an int key that fits
  kKeyStr,   // a PyObject* str dict key, written by reference to its key object's preview
  // A PyObject* dict key as kKey, in a final edge (RawObject::kPrematched) whose key edge is
  // the next edge: a str key is written by reference to it (Walker::StreamLargeDict).
  kKeyNext,
};

struct RawLabel {
  PyObject* target;
  uint64_t value;
  LabelKind kind;
  LabelValue value_kind;
  EdgeKind kind_if_not_traversed;
  // RawObject::kInOrder: this label names the next reference tp_traverse reported.
  bool traversed = false;
};

struct RawObject {
  enum Mode : uint8_t {
    kMatch,       // labels and traversed references, for the emitter to match
    kInOrder,     // labels only: tp_traverse reported the labels marked traversed, in order
    kPrematched,  // labels are the final edges, in order (matched by the walk: large objects)
    kContinued,   // more final edges of the previous batch's last object (no new object)
  };
  ObjectRecord record;
  uint32_t labels;     // how many of Batch::labels are this object's
  uint32_t traversed;  // how many of Batch::traversed are this object's
  Mode mode;
};

// The value preview of object `object` (index in the batch): Batch::text up to `end`, or a
// number the emitter formats (formatting is CPU work that needs no object: it can move).
struct RawValue {
  enum Kind : uint8_t { kText, kInt, kFloat };
  uint32_t object;
  uint32_t end;
  uint64_t payload;  // kText: the value's full length; kInt: the value; kFloat: its bits
  Kind kind;
};

// A type seen for the first time; its id is the next one (types are added in order).
struct PendingType {
  TypeRecord record;  // name and qualname are set by the emitter
  std::string name;
  std::string qualname;
};

// SetName for object `object` (index in the batch): name and file are str objects, or, when
// name is null, text is the name.
struct PendingName {
  uint32_t object;
  PyObject* name;
  PyObject* file;
  uint32_t line;
  std::string text;
};

// Storage for the walk's growable arrays. Small blocks come from malloc. Large ones are
// mapped: they are asked for transparent huge pages (a capture of a million objects fills tens of
// MB of fresh memory, and a 4 KiB page fault each costs more than the work done on the page),
// and they grow by mremap, which moves page tables instead of copying. Released to the system
// when freed: the capture keeps nothing in the program it measures.
class BlockMemory {
 public:
  static void* Allocate(size_t bytes, size_t* capacity_bytes);
  // Grows block (of old_bytes, from Allocate or Resize) to at least bytes, keeping its content.
  static void* Resize(void* block, size_t old_bytes, size_t bytes, size_t* capacity_bytes);
  static void Free(void* block, size_t bytes);
};

// A growable array of trivially copyable values for the walk's hot appends: no value
// initialization, and a push_back the compiler inlines (the growth path is kept out of line).
template <typename T>
class PodVector {
  static_assert(std::is_trivially_copyable_v<T>, "PodVector holds plain values");

 public:
  PodVector() = default;
  ~PodVector() {
    if (data_ != nullptr) BlockMemory::Free(data_, capacity_ * sizeof(T));
  }
  PodVector(const PodVector&) = delete;
  PodVector& operator=(const PodVector&) = delete;

  __attribute__((always_inline)) void push_back(const T& v) {
    if (size_ == capacity_) Grow(size_ + 1);
    data_[size_++] = v;
  }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T& back() { return data_[size_ - 1]; }
  void clear() { size_ = 0; }
  void truncate(size_t n) { size_ = n < size_ ? n : size_; }
  // Room for n more values without growing.
  void reserve_more(size_t n) {
    if (capacity_ - size_ < n) Grow(size_ + n);
  }
  // Exchanges contents with other (no copy).
  void swap(PodVector& other) {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  __attribute__((noinline)) void Grow(size_t at_least) {
    size_t wanted = capacity_ == 0 ? 1024 : capacity_ * 2;
    if (wanted < at_least) wanted = at_least;
    size_t bytes = 0;
    data_ = static_cast<T*>(data_ == nullptr ? BlockMemory::Allocate(wanted * sizeof(T), &bytes)
                                             : BlockMemory::Resize(data_, capacity_ * sizeof(T),
                                                                   wanted * sizeof(T), &bytes));
    capacity_ = bytes / sizeof(T);
  }
  T* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// Pairs each reference tp_traverse reported with a label of the same target, and places each
// label's edge: the traversed references first, in traversal order (so tp_traverse#k stays
// meaningful), then the labels of references tp_traverse does not report, in label order.
// The emitter runs it for objects whose labels are not in traversal order (FromMarks for the
// others); the walk runs it itself for very large objects out of order, so that their edges
// can be cut across batches (see Walker::Prematch), and for every large object in a
// single-threaded capture.
class LabelMatcher {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  void Match(const RawLabel* labels, size_t n_labels, PyObject* const* traversed,
             size_t n_traversed);
  // The same for labels already paired by the walk (RawLabel::traversed): the k-th marked
  // label is traversed reference k. Returns how many are marked.
  size_t FromMarks(const RawLabel* labels, size_t n_labels);
  uint32_t label_of(size_t k) const { return traversed_label_[k]; }  // kNone if unlabelled
  bool matched(size_t i) const { return matched_[i] != 0; }
  // The label values that refer to another edge (str dict keys) need the edges' positions.
  // Returns true and sets *kind and *value for label i when it is such a key: a kKeyStr
  // label, or a kKey label whose key the caller has checked is a str.
  bool KeyReference(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                    uint64_t* value) const;

 private:
  std::vector<uint8_t> matched_;
  std::vector<uint32_t> traversed_label_;
  std::vector<size_t> position_;  // per label: its edge's index (when keys_)
  void FindKeys(const RawLabel* labels, size_t n_labels, size_t n_traversed);
  std::vector<std::pair<PyObject*, uint32_t>> index_;
  bool keys_ = false;
};

struct Batch {
  std::vector<PendingType> types;
  PodVector<RawObject> objects;
  PodVector<RawLabel> labels;
  PodVector<PyObject*> traversed;
  PodVector<RawValue> values;
  std::string text;  // value previews, back to back
  std::vector<PendingName> names;
  // Ends with a large object (Walker::kLargeObject) for the emitter to pair and write: sent
  // on its own, and not counted among the batches in flight (Emitter::SubmitBatch).
  bool large = false;

  void Clear() {
    large = false;
    types.clear();
    objects.clear();
    labels.clear();
    traversed.clear();
    values.clear();
    text.clear();
    names.clear();
  }
  // Batches are cut between objects once one of these is reached.
  // (A single object may go past them: previews are at most max_preview_bytes <= 1 MiB, so
  // text stays far below the 4 GiB that RawValue::end can address.)
  bool Full() const {
    return objects.size() >= 8192 || labels.size() + traversed.size() >= 32768 ||
           text.size() >= (4u << 20);
  }
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_BATCH_H_

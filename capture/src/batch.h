// What the walk hands to the emitter: objects as the walk found them, with their references
// still as pointers and their labels not yet turned into text (capture/DESIGN.md describes the
// pipeline and the object modes).
#ifndef HEAPSNAP_CAPTURE_BATCH_H_
#define HEAPSNAP_CAPTURE_BATCH_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
// clang-format on

#include "heapsnap/format/types.h"
#include "pod_vector.h"
#include "raw_label.h"

namespace heapsnap::capture {

struct RawObject {
  // How the emitter turns the object's labels (and traversed references) into edges.
  enum Mode : uint8_t {
    kMatch,       // labels and traversed references, for the emitter to match
    kInOrder,     // labels only: tp_traverse reported the labels marked traversed, in order
    kPrematched,  // labels are the final edges, in order (placed by the walk: large objects)
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

// tp_traverse's visit function for the walk: appends each reference to the
// PodVector<const void*> at arg.
inline int AppendVisited(PyObject* target, void* arg) {
  static_cast<PodVector<const void*>*>(arg)->push_back(target);
  return 0;
}

struct Batch {
  std::vector<PendingType> types;
  PodVector<RawObject> objects;
  PodVector<RawLabel> labels;
  PodVector<const void*> traversed;  // what tp_traverse reported (PyObject*)
  PodVector<RawValue> values;
  std::string text;  // value previews, back to back
  std::vector<PendingName> names;
  // Ends with a large object for the emitter to pair and write: a long job, handed over as a
  // heavy item so that ordinary batches keep flowing past it.
  bool large = false;

  // Names the last object of the batch.
  void SetName(PyObject* name, PyObject* file, uint32_t line, std::string name_text = {}) {
    names.push_back(
        {static_cast<uint32_t>(objects.size() - 1), name, file, line, std::move(name_text)});
  }

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

// A label as the walk records it: which reference it names (by its target) and how, with its
// value not yet turned into text. The emitter turns the value into what the file stores.
#ifndef HEAPSNAP_CAPTURE_RAW_LABEL_H_
#define HEAPSNAP_CAPTURE_RAW_LABEL_H_

#include <cstdint>

#include "heapsnap/format/types.h"

namespace heapsnap::capture {

// How a raw label's value is given.
enum class LabelValueKind : uint8_t {
  kPlain,    // an integer, stored as is
  kLiteral,  // a const char* with static lifetime: the label's text
  kName,     // a PyObject* str used as a name (attribute, variable, parameter)
  kKey,      // a PyObject* dict key: ['repr'], or [int] for an int key that fits
  kKeyStr,   // a PyObject* str dict key, written by reference to its key object's preview
  // A PyObject* dict key as kKey, in an object's final edges (a large dict the walk streams)
  // where the key's edge is the next edge: a str key is written by reference to it.
  kKeyNext,
};

struct RawLabel {
  const void* target;  // the PyObject* the reference points at
  uint64_t value;
  LabelKind kind;
  LabelValueKind value_kind;
  // The edge's kind when tp_traverse does not report the reference; in an object's final
  // edges (already placed) the edge's kind.
  EdgeKind kind_if_not_traversed;
  // Set by the walk when the labels come in traversal order: this label names the next
  // reference tp_traverse reported.
  bool traversed = false;
};

inline bool IsKeyValue(LabelValueKind kind) {
  return kind == LabelValueKind::kKeyStr || kind == LabelValueKind::kKey;
}

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_RAW_LABEL_H_

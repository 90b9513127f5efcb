// Edge placement: the one rule for the order, kinds and labels of an object's edges
// (capture/DESIGN.md), in named pieces. PlaceEdges applies the whole rule to an object whose
// labels are all known: the emitter uses it for every object it pairs, and the walk for a large
// object it matches itself (Walker::Prematch). The walk's stream of a big dict
// (Walker::StreamDictEdges) places each edge as it reads the entry, before the later labels
// exist, with the same pieces (the emitter labels those whose key it must read first:
// LabelValueKind::kKeyNext). The rule:
//  1. The references tp_traverse reported come first, in its order, each with the label that
//     names it (LabelMatcher), or as tp_traverse#k when none does. Their kind is kTraverse: the
//     collector subtracts exactly these (TraversedEdgeKind).
//  2. Then the labels that name nothing tp_traverse reported, in label order
//     (UntraversedEdgeIndex), with the kind the labeller gave them: kStrong, kBorrowed, kWeak
//     (UntraversedEdgeKind).
//  3. 3.11's static objects never counted their references (IsUncounted): their edges are
//     kBorrowed instead of kTraverse or kStrong.
//  4. A str dict key's value refers to its key's edge by their distance (ValueRefersToKey), and
//     the key's edge to itself (KeyRefersToItself): the key object's preview carries the text.
//     The matcher knows each edge's index (LabelMatcher::KeyReference).
#ifndef HEAPSNAP_CAPTURE_EDGE_PLACEMENT_H_
#define HEAPSNAP_CAPTURE_EDGE_PLACEMENT_H_

#include <cstddef>
#include <cstdint>

#include "heapsnap/format/types.h"
#include "label_matcher.h"
#include "raw_label.h"

namespace heapsnap::capture {

// Whether an object's references are uncounted: CPython 3.11's deep-frozen code objects and
// constants are static and immortal in all but name, and never took references to what they
// hold. From 3.12 on, immortal objects count their references like any other.
inline bool IsUncounted(uint32_t flags, uint32_t python_hexversion) {
  return python_hexversion < 0x030C0000 && (flags & object_flags::kImmortal) != 0;
}

// The kind of the edge from a dict to a key that tp_traverse does not report. A split
// (key-sharing) table's keys belong to the class's shared keys object, which holds one
// reference to each; the dict holds none.
inline EdgeKind DictKeyEdgeKind(bool split_table) {
  return split_table ? EdgeKind::kBorrowed : EdgeKind::kStrong;
}

// Rules 1 and 3: the kind of the edge of a reference tp_traverse reported.
inline EdgeKind TraversedEdgeKind(bool uncounted) {
  return uncounted ? EdgeKind::kBorrowed : EdgeKind::kTraverse;
}

// Rules 2 and 3: the kind of the edge of a label that names nothing tp_traverse reported.
inline EdgeKind UntraversedEdgeKind(EdgeKind labelled, bool uncounted) {
  return uncounted && labelled == EdgeKind::kStrong ? EdgeKind::kBorrowed : labelled;
}

// Rules 1 and 2: the index among an object's edges of the rank-th label (in label order) that
// names nothing tp_traverse reported. Traversed reference k is edge k.
inline size_t UntraversedEdgeIndex(size_t n_traversed, size_t rank) { return n_traversed + rank; }

// Rule 4: the label of the edge to a str key's value: the key's edge index minus the value's
// (LabelKind::kDictKeyRef).
inline void ValueRefersToKey(size_t value_edge, size_t key_edge, LabelKind* kind, uint64_t* value) {
  *kind = LabelKind::kDictKeyRef;
  *value = EncodeDictKeyRef(static_cast<int64_t>(key_edge) - static_cast<int64_t>(value_edge));
}

// Rule 4: the label of the edge to a str key itself (LabelKind::kDictKeySelf).
inline void KeyRefersToItself(LabelKind* kind, uint64_t* value) {
  *kind = LabelKind::kDictKeySelf;
  *value = 0;
}

// Rules 1-3: calls place(target, kind, label, k) for each edge of an object, in the final
// order: label is the index of the label that names the edge, or LabelMatcher::kNone for a
// traversed reference no label names; k is the edge's index among the traversed references
// (meaningful for those only). matcher has paired labels with traversed (Match), or read the
// walk's marks (FromMarks; traversed is then null and every traversed reference has its label).
template <typename Place>
inline void PlaceEdges(const LabelMatcher& matcher, const RawLabel* labels, size_t n_labels,
                       const void* const* traversed, size_t n_traversed, bool uncounted,
                       Place&& place) {
  const EdgeKind traversed_kind = TraversedEdgeKind(uncounted);
  for (size_t k = 0; k < n_traversed; ++k) {
    const uint32_t label = matcher.label_of(k);
    place(traversed != nullptr ? traversed[k] : labels[label].target, traversed_kind, label, k);
  }
  for (size_t i = 0; i < n_labels; ++i) {
    if (matcher.matched(i)) continue;
    const RawLabel& l = labels[i];
    place(l.target, UntraversedEdgeKind(l.kind_if_not_traversed, uncounted),
          static_cast<uint32_t>(i), size_t{0});
  }
}

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_EDGE_PLACEMENT_H_

// LabelMatcher: pairs each reference tp_traverse reported with a label of the same target, so
// that edge placement (edge_placement.h) can write the traversed references first, each with
// its label, and then the labels nothing traversed. It also knows where each edge lands, which
// a str dict key needs: the value's edge refers to the key's edge by their distance.
//
//   LabelMatcher m;
//   m.Match(labels, n_labels, traversed, n_traversed);  // or m.FromMarks(labels, n_labels)
//   m.label_of(k);  // the label naming traversed reference k, or kNone
#ifndef HEAPSNAP_CAPTURE_LABEL_MATCHER_H_
#define HEAPSNAP_CAPTURE_LABEL_MATCHER_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "raw_label.h"

namespace heapsnap::capture {

class LabelMatcher {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  // Pairs by target: labels usually come in traversal order, some never traversed in between.
  void Match(const RawLabel* labels, size_t n_labels, const void* const* traversed,
             size_t n_traversed);
  // The same for labels already paired by the walk (RawLabel::traversed): the k-th marked
  // label is traversed reference k. Returns how many are marked.
  size_t FromMarks(const RawLabel* labels, size_t n_labels);
  uint32_t label_of(size_t k) const { return traversed_label_[k]; }  // kNone if unlabelled
  bool matched(size_t i) const { return matched_[i] != 0; }
  // Returns true and sets *kind and *value when label i's value refers to another edge: the
  // value of a str key (kDictKeyRef to its key's edge), or the key itself (kDictKeySelf).
  // Label i is a kKeyStr label, or a kKey label whose key the caller has checked is a str.
  bool KeyReference(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                    uint64_t* value) const;

 private:
  // Finds each label's edge index (position_), when some label is a key.
  void FindKeys(const RawLabel* labels, size_t n_labels, size_t n_traversed);
  uint32_t FindByTarget(const RawLabel* labels, size_t n_labels, const void* target, size_t* cursor,
                        bool* indexed);

  // Scratch arrays only ever grow: most objects have a handful of edges.
  std::vector<uint8_t> matched_;
  std::vector<uint32_t> traversed_label_;
  std::vector<size_t> position_;                         // per label: its edge's index (when keys_)
  std::vector<std::pair<const void*, uint32_t>> index_;  // labels by target, for a search
  bool keys_ = false;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_LABEL_MATCHER_H_

#include "label_matcher.h"

#include <algorithm>
#include <cstring>

#include "edge_placement.h"

namespace heapsnap::capture {

uint32_t LabelMatcher::FindByTarget(const RawLabel* labels, size_t n_labels, const void* target,
                                    size_t* cursor, bool* indexed) {
  // Labels usually come in tp_traverse order, with some never traversed (str dict keys) in
  // between: look a little ahead of the cursor first.
  for (size_t look = *cursor; look < n_labels && look < *cursor + 8; ++look) {
    if (!matched_[look] && labels[look].target == target) {
      *cursor = look + 1;
      return static_cast<uint32_t>(look);
    }
  }
  if (n_labels == 0) return kNone;
  if (!*indexed) {
    index_.clear();
    for (size_t i = 0; i < n_labels; ++i) {
      index_.emplace_back(labels[i].target, static_cast<uint32_t>(i));
    }
    std::sort(index_.begin(), index_.end());
    *indexed = true;
  }
  auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(target, uint32_t{0}));
  for (; it != index_.end() && it->first == target; ++it) {
    if (!matched_[it->second]) return it->second;
  }
  return kNone;
}

void LabelMatcher::Match(const RawLabel* labels, size_t n_labels, const void* const* traversed,
                         size_t n_traversed) {
  if (matched_.size() < n_labels) matched_.resize(n_labels);
  std::memset(matched_.data(), 0, n_labels);
  if (traversed_label_.size() < n_traversed) traversed_label_.resize(n_traversed);
  keys_ = false;
  // Most often the labels name what tp_traverse reported, in its order, up to some point:
  // those pair one to one without a search.
  size_t same = 0;
  const size_t common = std::min(n_labels, n_traversed);
  while (same < common && labels[same].target == traversed[same]) {
    matched_[same] = 1;
    traversed_label_[same] = static_cast<uint32_t>(same);
    ++same;
  }
  size_t cursor = same;
  bool indexed = false;
  for (size_t k = same; k < n_traversed; ++k) {
    const uint32_t found = FindByTarget(labels, n_labels, traversed[k], &cursor, &indexed);
    if (found != kNone) matched_[found] = 1;
    traversed_label_[k] = found;
  }
  FindKeys(labels, n_labels, n_traversed);
}

size_t LabelMatcher::FromMarks(const RawLabel* labels, size_t n_labels) {
  if (matched_.size() < n_labels) matched_.resize(n_labels);
  if (traversed_label_.size() < n_labels) traversed_label_.resize(n_labels);
  size_t n_traversed = 0;
  bool keys = false;  // FindKeys's first pass, done here on the way
  for (size_t i = 0; i < n_labels; ++i) {
    const RawLabel& l = labels[i];
    matched_[i] = l.traversed ? 1 : 0;
    if (l.traversed) traversed_label_[n_traversed++] = static_cast<uint32_t>(i);
    keys |= IsKeyValue(l.value_kind);
  }
  keys_ = false;
  if (keys) FindKeys(labels, n_labels, n_traversed);
  return n_traversed;
}

void LabelMatcher::FindKeys(const RawLabel* labels, size_t n_labels, size_t n_traversed) {
  for (size_t i = 0; i < n_labels && !keys_; ++i) keys_ = IsKeyValue(labels[i].value_kind);
  if (!keys_) return;
  // Edge placement's order: the traversed references, then the labels nothing traversed.
  if (position_.size() < n_labels) position_.resize(n_labels);
  for (size_t k = 0; k < n_traversed; ++k) {
    if (traversed_label_[k] != kNone) position_[traversed_label_[k]] = k;
  }
  size_t rank = 0;
  for (size_t i = 0; i < n_labels; ++i) {
    if (!matched_[i]) position_[i] = UntraversedEdgeIndex(n_traversed, rank++);
  }
}

bool LabelMatcher::KeyReference(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                                uint64_t* value) const {
  const RawLabel& label = labels[i];
  // kKey labels get here only for keys the caller found to be str.
  if (!keys_ || !IsKeyValue(label.value_kind)) return false;
  // The key object carries its text as a value preview: refer to it (LabelKind docs).
  if (label.kind == LabelKind::kDictKeyObject) {
    KeyRefersToItself(kind, value);
    return true;
  }
  if (label.kind != LabelKind::kDictKey) return false;
  // The key's label follows the value's (dicts) or precedes it (lru_cache entries, labelled
  // in traversal order).
  for (size_t j : {i + 1, i - 1}) {
    if (j < n_labels && labels[j].value_kind == label.value_kind &&
        labels[j].kind == LabelKind::kDictKeyObject && labels[j].value == label.value) {
      ValueRefersToKey(position_[i], position_[j], kind, value);
      return true;
    }
  }
  return false;
}

}  // namespace heapsnap::capture

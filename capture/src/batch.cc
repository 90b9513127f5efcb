#include "batch.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace heapsnap::capture {

namespace {
// Blocks from this size on are mapped; they are multiples of the huge page size.
constexpr size_t kMappedBytes = size_t{1} << 20;
constexpr size_t kHugePage = size_t{2} << 20;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

void* Map(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)madvise(p, bytes, MADV_HUGEPAGE);  // a hint: fine where transparent huge pages are off
#endif
  return p;
}
}  // namespace

void* BlockMemory::Allocate(size_t bytes, size_t* capacity_bytes) {
  if (bytes < kMappedBytes) {
    void* p = std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    *capacity_bytes = bytes;
    return p;
  }
  *capacity_bytes = RoundUp(bytes, kHugePage);
  return Map(*capacity_bytes);
}

void* BlockMemory::Resize(void* block, size_t old_bytes, size_t bytes, size_t* capacity_bytes) {
  if (old_bytes < kMappedBytes) {
    void* p = Allocate(bytes, capacity_bytes);
    std::memcpy(p, block, old_bytes);
    std::free(block);
    return p;
  }
  *capacity_bytes = RoundUp(bytes, kHugePage);
  void* p = mremap(block, old_bytes, *capacity_bytes, MREMAP_MAYMOVE);
  if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  (void)madvise(p, *capacity_bytes, MADV_HUGEPAGE);
#endif
  return p;
}

void BlockMemory::Free(void* block, size_t bytes) {
  if (bytes < kMappedBytes) {
    std::free(block);
  } else {
    munmap(block, bytes);
  }
}

void LabelMatcher::Match(const RawLabel* labels, size_t n_labels, PyObject* const* traversed,
                         size_t n_traversed) {
  // Scratch arrays only ever grow: most objects have a handful of edges.
  if (matched_.size() < n_labels) matched_.resize(n_labels);
  std::memset(matched_.data(), 0, n_labels);
  if (traversed_label_.size() < n_traversed) traversed_label_.resize(n_traversed);
  size_t cursor = 0;
  bool indexed = false;
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
  cursor = same;
  for (size_t k = same; k < n_traversed; ++k) {
    PyObject* t = traversed[k];
    uint32_t found = kNone;
    // Labels usually come in tp_traverse order, with some never traversed (str dict keys)
    // in between: look a little ahead of the cursor first.
    for (size_t look = cursor; look < n_labels && look < cursor + 8; ++look) {
      if (!matched_[look] && labels[look].target == t) {
        found = static_cast<uint32_t>(look);
        cursor = look + 1;
        break;
      }
    }
    if (found == kNone && n_labels > 0) {
      if (!indexed) {
        index_.clear();
        for (size_t i = 0; i < n_labels; ++i) {
          index_.emplace_back(labels[i].target, static_cast<uint32_t>(i));
        }
        std::sort(index_.begin(), index_.end());
        indexed = true;
      }
      auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(t, uint32_t{0}));
      for (; it != index_.end() && it->first == t; ++it) {
        if (!matched_[it->second]) {
          found = it->second;
          break;
        }
      }
    }
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
    keys |= l.value_kind == LabelValue::kKeyStr || l.value_kind == LabelValue::kKey;
  }
  keys_ = false;
  if (keys) FindKeys(labels, n_labels, n_traversed);
  return n_traversed;
}

void LabelMatcher::FindKeys(const RawLabel* labels, size_t n_labels, size_t n_traversed) {
  for (size_t i = 0; i < n_labels && !keys_; ++i) {
    keys_ = labels[i].value_kind == LabelValue::kKeyStr || labels[i].value_kind == LabelValue::kKey;
  }
  if (!keys_) return;
  if (position_.size() < n_labels) position_.resize(n_labels);
  for (size_t k = 0; k < n_traversed; ++k) {
    if (traversed_label_[k] != kNone) position_[traversed_label_[k]] = k;
  }
  size_t next = n_traversed;
  for (size_t i = 0; i < n_labels; ++i) {
    if (!matched_[i]) position_[i] = next++;
  }
}

bool LabelMatcher::KeyReference(const RawLabel* labels, size_t n_labels, size_t i, LabelKind* kind,
                                uint64_t* value) const {
  const RawLabel& label = labels[i];
  // kKey labels get here only for keys the caller found to be str.
  if (!keys_ || (label.value_kind != LabelValue::kKeyStr && label.value_kind != LabelValue::kKey)) {
    return false;
  }
  // The key object carries its text as a value preview: refer to it (LabelKind docs).
  if (label.kind == LabelKind::kDictKeyObject) {
    *kind = LabelKind::kDictKeySelf;
    *value = 0;
    return true;
  }
  if (label.kind != LabelKind::kDictKey) return false;
  // The key's label follows the value's (dicts) or precedes it (lru_cache entries, labelled
  // in traversal order).
  for (size_t j : {i + 1, i - 1}) {
    if (j < n_labels && labels[j].value_kind == label.value_kind &&
        labels[j].kind == LabelKind::kDictKeyObject && labels[j].value == label.value) {
      *kind = LabelKind::kDictKeyRef;
      *value =
          ZigZagEncode(static_cast<int64_t>(position_[j]) - static_cast<int64_t>(position_[i]));
      return true;
    }
  }
  return false;
}

}  // namespace heapsnap::capture

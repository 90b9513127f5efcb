// Not part of the API. The object chunk a SnapshotWriter is filling, as columns varint-encoded
// while values arrive on the caller's thread. writer.h includes it only so that AddEdge, called
// once per edge of a heap walk, inlines into the capture.
#ifndef HEAPSNAP_FORMAT_INTERNAL_OBJECT_COLUMNS_H_
#define HEAPSNAP_FORMAT_INTERNAL_OBJECT_COLUMNS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/base/wire.h"
#include "heapsnap/format/types.h"

namespace heapsnap::writer_internal {

// A packed repeated varint field: the bytes that go on the wire, encoded as values arrive.
class VarintColumn {
 public:
  __attribute__((always_inline)) void Put(uint64_t v) {
    if (capacity_ - size_ < kMaxVarintBytes) Grow();
    auto* begin = reinterpret_cast<unsigned char*>(data_.get());
    size_ = static_cast<size_t>(EncodeVarint(v, begin + size_) - begin);
  }
  __attribute__((always_inline)) void PutSmall(uint8_t v) {  // v < 128: one byte
    if (capacity_ == size_) Grow();
    data_[size_++] = static_cast<char>(v);
  }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  void Grow();
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// One object chunk as parallel columns (ObjectChunk in heapsnap.proto).
struct ObjectColumns {
  uint64_t first_index = 0;
  uint32_t continued_edges = 0;  // edges added before the chunk's first object
  bool last_continues = false;
  uint32_t objects = 0;
  uint64_t edges = 0;
  uint64_t last_address = 0;   // of the object begun last; addresses are deltas from it
  VarintColumn address_delta;  // zig-zag
  VarintColumn type_id;
  VarintColumn size;
  VarintColumn refcount;
  VarintColumn flags;
  VarintColumn generation;
  std::vector<uint32_t> edge_count;  // grows while edges arrive: encoded at the end
  VarintColumn edge_target_delta;    // zig-zag
  VarintColumn edge_kind;
  VarintColumn edge_label_kind;
  VarintColumn edge_label_value;
  VarintColumn value_object;
  VarintColumn value_length;
  VarintColumn value_end;
  std::string value_text;
  struct Name {
    uint32_t object, name, file, line;
  };
  std::vector<Name> names;

  // `index` is the object's global index (the chunk's first_index when it is the first).
  void BeginObject(const ObjectRecord& object, uint64_t index);
  __attribute__((always_inline)) void AddEdge(const EdgeRecord& edge, uint64_t source_address) {
    // Relative to the source: objects allocated together reference each other.
    edge_target_delta.Put(ZigZagEncode(static_cast<int64_t>(edge.target - source_address)));
    edge_kind.PutSmall(static_cast<uint8_t>(edge.kind));
    edge_label_kind.PutSmall(static_cast<uint8_t>(edge.label_kind));
    edge_label_value.Put(edge.label_value);
    if (edge_count.empty()) {
      ++continued_edges;
    } else {
      ++edge_count.back();
    }
    ++edges;
  }
  // Of the object begun last. CommitValue takes text already appended to value_text.
  void SetValue(std::string_view text, uint64_t full_length);
  void CommitValue(uint64_t full_length);
  void SetName(uint32_t name, uint32_t file, uint32_t line);
  bool empty() const { return objects == 0 && edges == 0; }
  void Clear();
};

}  // namespace heapsnap::writer_internal

#endif  // HEAPSNAP_FORMAT_INTERNAL_OBJECT_COLUMNS_H_

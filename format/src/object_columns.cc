#include "heapsnap/format/internal/object_columns.h"

#include <algorithm>
#include <cstring>

namespace heapsnap::writer_internal {

void VarintColumn::Grow() {
  const size_t capacity = std::max<size_t>(4096, capacity_ * 2);
  std::unique_ptr<char[]> data(new char[capacity]);  // not zero-filled
  if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  capacity_ = capacity;
}

void ObjectColumns::BeginObject(const ObjectRecord& o, uint64_t index) {
  if (empty()) {
    first_index = index;
    last_address = 0;
  }
  address_delta.Put(ZigZagEncode(static_cast<int64_t>(o.address - last_address)));
  last_address = o.address;
  type_id.Put(o.type.value());
  size.Put(o.size);
  refcount.Put(o.refcount);
  flags.Put(o.flags);
  generation.Put(o.generation);
  edge_count.push_back(0);
  ++objects;
}

void ObjectColumns::SetValue(std::string_view text, uint64_t full_length) {
  value_text.append(text.data(), text.size());
  CommitValue(full_length);
}

void ObjectColumns::CommitValue(uint64_t full_length) {
  value_object.Put(objects - 1);
  value_length.Put(full_length);
  value_end.Put(value_text.size());
}

void ObjectColumns::SetName(uint32_t name, uint32_t file, uint32_t line) {
  names.push_back({objects - 1, name, file, line});
}

void ObjectColumns::Clear() {
  first_index = 0;
  continued_edges = 0;
  last_continues = false;
  objects = 0;
  edges = 0;
  last_address = 0;
  address_delta.clear();
  type_id.clear();
  size.clear();
  refcount.clear();
  flags.clear();
  generation.clear();
  edge_count.clear();
  edge_target_delta.clear();
  edge_kind.clear();
  edge_label_kind.clear();
  edge_label_value.clear();
  value_object.clear();
  value_length.clear();
  value_end.clear();
  value_text.clear();
  names.clear();
}

}  // namespace heapsnap::writer_internal

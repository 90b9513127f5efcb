#include "chunk_encoder.h"

#include <cstring>

#include "heapsnap.pb.h"
#include "heapsnap/base/wire.h"

namespace heapsnap::writer_internal {
namespace {

using proto::ObjectChunk;
using proto::ObjectName;

constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireLen = 2;

void PutTag(std::string* out, uint32_t field, uint32_t wire) {
  PutVarint(out, (field << 3) | wire);
}

void PutVarintField(std::string* out, uint32_t field, uint64_t value) {
  PutTag(out, field, kWireVarint);
  PutVarint(out, value);
}

void PutBytesField(std::string* out, uint32_t field, std::string_view bytes) {
  PutTag(out, field, kWireLen);
  PutVarint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

// A packed field whose values are already varints.
void PutColumn(std::string* out, uint32_t field, const VarintColumn& v) {
  if (v.size() != 0) PutBytesField(out, field, std::string_view(v.data(), v.size()));
}

// A packed field from plain integers, encoded through *scratch.
void PutPacked(std::string* out, std::string* scratch, uint32_t field,
               const std::vector<uint32_t>& v) {
  if (v.empty()) return;
  // Only ever grown: resizing zero-fills what it adds.
  if (scratch->size() < v.size() * kMaxVarintBytes) scratch->resize(v.size() * kMaxVarintBytes);
  auto* begin = reinterpret_cast<unsigned char*>(scratch->data());
  unsigned char* p = begin;
  for (uint32_t x : v) p = EncodeVarint(x, p);
  PutBytesField(out, field, std::string_view(scratch->data(), static_cast<size_t>(p - begin)));
}

void PutNames(std::string* out, const std::vector<ObjectColumns::Name>& names) {
  std::string encoded;
  for (const auto& n : names) {
    encoded.clear();
    PutVarintField(&encoded, ObjectName::kObjectFieldNumber, n.object);
    PutVarintField(&encoded, ObjectName::kNameFieldNumber, n.name);
    PutVarintField(&encoded, ObjectName::kFileFieldNumber, n.file);
    PutVarintField(&encoded, ObjectName::kLineFieldNumber, n.line);
    PutBytesField(out, ObjectChunk::kNamesFieldNumber, encoded);
  }
}

}  // namespace

std::string EncodeHeader(const HeaderInfo& h) {
  proto::Record record;
  proto::Header* p = record.mutable_header();
  p->set_format_version(kFormatVersion);
  p->set_python_version(h.python_version);
  p->set_python_implementation(h.python_implementation);
  p->set_python_hexversion(h.python_hexversion);
  p->set_pid(h.pid);
  p->set_time_unix_ns(h.time_unix_ns);
  p->set_executable(h.executable);
  p->mutable_options()->set_values(h.values);
  p->mutable_options()->set_max_preview_bytes(h.max_preview_bytes);
  p->mutable_gc()->set_enabled(h.gc_enabled);
  for (int64_t t : h.gc_thresholds) p->mutable_gc()->add_thresholds(t);
  for (int64_t c : h.gc_counts) p->mutable_gc()->add_counts(c);
  p->mutable_gc()->set_garbage_length(h.gc_garbage_length);
  p->set_pointer_size(h.pointer_size);
  p->set_reason(h.reason);
  p->set_capture_version(h.capture_version);
  return record.SerializeAsString();
}

std::string EncodeStringChunk(const StringTable& strings, uint32_t* written) {
  std::string chunk;
  while (*written < strings.size() && chunk.size() < kMaxRecordBytes / 4) {
    PutBytesField(&chunk, proto::StringChunk::kValuesFieldNumber, strings.Get(++*written));
  }
  std::string payload;
  PutBytesField(&payload, proto::Record::kStringsFieldNumber, chunk);
  return payload;
}

std::string EncodeTypeChunk(const std::vector<TypeRecord>& types) {
  proto::Record record;
  auto* chunk = record.mutable_types();
  for (const auto& t : types) {
    auto* p = chunk->add_types();
    p->set_name(t.name.value());
    p->set_qualname(t.qualname.value());
    p->set_address(t.address);
    p->set_flags(t.flags);
    p->set_basicsize(t.basicsize);
    p->set_itemsize(t.itemsize);
  }
  return record.SerializeAsString();
}

std::string EncodeRootChunk(const std::vector<RootRecord>& roots) {
  proto::Record record;
  auto* chunk = record.mutable_roots();
  for (const auto& r : roots) {
    auto* p = chunk->add_roots();
    p->set_kind(static_cast<proto::RootKind>(r.kind));
    p->set_address(r.address);
    p->set_label(r.label.value());
    p->set_thread_id(r.thread_id);
    p->set_depth(r.depth);
  }
  return record.SerializeAsString();
}

std::string EncodeSizeFixupChunk(const std::vector<SizeFixup>& fixups) {
  proto::Record record;
  auto* chunk = record.mutable_size_fixups();
  for (const auto& f : fixups) {
    chunk->add_object_index(f.object_index);
    chunk->add_size(f.size);
  }
  return record.SerializeAsString();
}

std::string EncodeTrailer(const TrailerInfo& totals) {
  proto::Record record;
  auto* t = record.mutable_trailer();
  t->set_objects(totals.objects);
  t->set_edges(totals.edges);
  t->set_strings(totals.strings);
  t->set_types(totals.types);
  t->set_roots(totals.roots);
  t->set_records(totals.records);
  t->set_size_fixups(totals.size_fixups);
  return record.SerializeAsString();
}

// Fields in field-number order, as the generated serializer writes them (so format tests can
// compare); the columns are already varints, so this only frames and concatenates them.
std::string_view EncodeObjectChunk(const ObjectColumns& c, std::string* buffer,
                                   std::string* scratch) {
  constexpr size_t kGap = 16;  // Record tag + chunk length, at most 1 + 10 bytes
  std::string& out = *buffer;
  out.assign(kGap, '\0');
  if (c.first_index != 0) PutVarintField(&out, ObjectChunk::kFirstIndexFieldNumber, c.first_index);
  PutColumn(&out, ObjectChunk::kAddressDeltaFieldNumber, c.address_delta);
  PutColumn(&out, ObjectChunk::kTypeIdFieldNumber, c.type_id);
  PutColumn(&out, ObjectChunk::kSizeFieldNumber, c.size);
  PutColumn(&out, ObjectChunk::kRefcountFieldNumber, c.refcount);
  PutColumn(&out, ObjectChunk::kFlagsFieldNumber, c.flags);
  PutColumn(&out, ObjectChunk::kGenerationFieldNumber, c.generation);
  PutPacked(&out, scratch, ObjectChunk::kEdgeCountFieldNumber, c.edge_count);
  PutColumn(&out, ObjectChunk::kEdgeTargetDeltaFieldNumber, c.edge_target_delta);
  PutColumn(&out, ObjectChunk::kEdgeKindFieldNumber, c.edge_kind);
  PutColumn(&out, ObjectChunk::kEdgeLabelKindFieldNumber, c.edge_label_kind);
  PutColumn(&out, ObjectChunk::kEdgeLabelValueFieldNumber, c.edge_label_value);
  PutColumn(&out, ObjectChunk::kValueObjectFieldNumber, c.value_object);
  PutNames(&out, c.names);
  if (c.continued_edges != 0) {
    PutVarintField(&out, ObjectChunk::kContinuedEdgesFieldNumber, c.continued_edges);
  }
  if (c.last_continues) PutVarintField(&out, ObjectChunk::kLastContinuesFieldNumber, 1);
  PutColumn(&out, ObjectChunk::kValueLengthFieldNumber, c.value_length);
  PutColumn(&out, ObjectChunk::kValueEndFieldNumber, c.value_end);
  if (!c.value_text.empty()) PutBytesField(&out, ObjectChunk::kValueTextFieldNumber, c.value_text);
  std::string header;
  PutTag(&header, proto::Record::kObjectsFieldNumber, kWireLen);
  PutVarint(&header, out.size() - kGap);
  const size_t start = kGap - header.size();
  std::memcpy(&out[start], header.data(), header.size());
  return std::string_view(out).substr(start);
}

}  // namespace heapsnap::writer_internal

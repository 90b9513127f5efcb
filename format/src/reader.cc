#include "heapsnap/format/reader.h"

#include <cstring>

#include "heapsnap.pb.h"
#include "heapsnap/base/wire.h"
#include "heapsnap/format/crc32c.h"

namespace heapsnap {
namespace {

// The footer after the trailer record: the trailer's file offset, then the footer magic.
// False when the magic is wrong.
bool DecodeFooter(const unsigned char (&footer)[kFooterSize], uint64_t* trailer_offset) {
  *trailer_offset =
      ReadFixed32LE(footer) | (static_cast<uint64_t>(ReadFixed32LE(footer + 4)) << 32);
  return std::memcmp(footer + 8, kFooterMagic, sizeof(kFooterMagic)) == 0;
}

TrailerInfo TrailerFrom(const proto::Trailer& t) {
  return {t.objects(), t.edges(), t.strings(), t.types(), t.roots(), t.records(), t.size_fixups()};
}

HeaderInfo HeaderFrom(const proto::Header& h) {
  HeaderInfo info;
  info.format_version = h.format_version();
  info.python_version = h.python_version();
  info.python_implementation = h.python_implementation();
  info.python_hexversion = h.python_hexversion();
  info.pid = h.pid();
  info.time_unix_ns = h.time_unix_ns();
  info.executable = h.executable();
  info.values = h.options().values();
  info.max_preview_bytes = h.options().max_preview_bytes();
  info.gc_enabled = h.gc().enabled();
  info.gc_thresholds.assign(h.gc().thresholds().begin(), h.gc().thresholds().end());
  info.gc_counts.assign(h.gc().counts().begin(), h.gc().counts().end());
  info.gc_garbage_length = h.gc().garbage_length();
  info.pointer_size = h.pointer_size();
  info.reason = h.reason();
  info.capture_version = h.capture_version();
  return info;
}

}  // namespace

// ---- opening: preamble, header, footer ------------------------------------------------------

StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(const std::string& path) {
  HEAPSNAP_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source, OpenFileSource(path));
  return Open(std::move(source));
}

StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(std::unique_ptr<ByteSource> source) {
  std::unique_ptr<SnapshotReader> r(new SnapshotReader(std::move(source)));
  HEAPSNAP_RETURN_IF_ERROR(r->ReadHeader());
  return r;
}

SnapshotReader::SnapshotReader(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}

SnapshotReader::~SnapshotReader() = default;

Status SnapshotReader::Error(const std::string& what) const {
  return DataLoss(path() + ": " + what);
}

Status SnapshotReader::RecordError(const std::string& what) const {
  return Error("record " + std::to_string(record_index_) + ": " + what);
}

Status SnapshotReader::ReadRecord(std::string* payload, bool* eof) {
  record_offset_ = offset_;
  unsigned char frame[8];
  HEAPSNAP_ASSIGN_OR_RETURN(size_t got, source_->Read(frame, sizeof(frame)));
  *eof = got == 0;
  if (*eof) return Status::Ok();
  if (got < sizeof(frame)) {
    return Error("truncated: record " + std::to_string(records_) + " at offset " +
                 std::to_string(offset_) + " is cut off in its length prefix");
  }
  const uint32_t length = ReadFixed32LE(frame);
  const uint32_t crc = ReadFixed32LE(frame + 4);
  if (length > kMaxRecordBytes) {
    return Error("corrupt: record " + std::to_string(records_) + " at offset " +
                 std::to_string(offset_) + " claims " + std::to_string(length) +
                 " bytes, more than the format allows");
  }
  payload->resize(length);
  HEAPSNAP_ASSIGN_OR_RETURN(got, source_->Read(payload->data(), length));
  if (got < length) {
    return Error("truncated: record " + std::to_string(records_) + " at offset " +
                 std::to_string(offset_) + " needs " + std::to_string(length) +
                 " bytes, the file has " + std::to_string(got));
  }
  if (Crc32c(payload->data(), payload->size()) != crc) {
    return Error("corrupt: checksum mismatch in record " + std::to_string(records_) +
                 " at offset " + std::to_string(offset_));
  }
  offset_ += sizeof(frame) + length;
  ++records_;
  return Status::Ok();
}

Status SnapshotReader::ReadHeader() {
  unsigned char preamble[kPreambleSize];
  HEAPSNAP_ASSIGN_OR_RETURN(size_t got, source_->Read(preamble, sizeof(preamble)));
  if (got == 0) return Error("empty file, not a heapsnap snapshot");
  if (got < sizeof(kMagic) || std::memcmp(preamble, kMagic, sizeof(kMagic)) != 0) {
    return Error("not a heapsnap snapshot (bad magic)");
  }
  if (got < sizeof(preamble)) return Error("truncated: file ends inside the preamble");
  const uint32_t version = ReadFixed32LE(preamble + sizeof(kMagic));
  if (version != kFormatVersion) {
    return Error("format version " + std::to_string(version) +
                 " is not supported (this heapsnap reads version " +
                 std::to_string(kFormatVersion) + ")");
  }
  offset_ = sizeof(preamble);
  bool eof = false;
  HEAPSNAP_RETURN_IF_ERROR(ReadRecord(&payload_, &eof));
  if (eof) return Error("truncated: no header record");
  proto::Record record;
  if (!record.ParseFromString(payload_) || !record.has_header()) {
    return Error("corrupt: the first record is not a header");
  }
  if (record.header().format_version() != kFormatVersion) {
    return Error("header says format version " + std::to_string(record.header().format_version()) +
                 ", preamble says " + std::to_string(kFormatVersion));
  }
  header_ = HeaderFrom(record.header());
  return Status::Ok();
}

StatusOr<TrailerInfo> SnapshotReader::PeekTrailer(const std::string& path) {
  HEAPSNAP_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader, Open(path));
  return reader->PeekTrailer();
}

StatusOr<TrailerInfo> SnapshotReader::PeekTrailer() {
  const uint64_t size = source_->size();
  unsigned char footer[kFooterSize];
  uint64_t trailer_offset = 0;
  bool found = size >= kFooterSize && source_->Seek(size - kFooterSize).ok();
  if (found) {
    StatusOr<size_t> got = source_->Read(footer, sizeof(footer));
    found = got.ok() && *got == sizeof(footer) && DecodeFooter(footer, &trailer_offset);
  }
  if (!found) return Error("truncated: no footer");
  if (!source_->Seek(trailer_offset).ok()) {
    return Error("corrupt: the footer points outside the file");
  }
  // Read the trailer as a record, then put everything back where Next() expects it.
  const uint64_t offset = offset_, record_offset = record_offset_, records = records_;
  bool eof = false;
  offset_ = trailer_offset;
  Status read = ReadRecord(&payload_, &eof);
  offset_ = offset, record_offset_ = record_offset, records_ = records;
  proto::Record record;
  const bool is_trailer =
      read.ok() && !eof && record.ParseFromString(payload_) && record.has_trailer();
  HEAPSNAP_RETURN_IF_ERROR(source_->Seek(offset_));
  HEAPSNAP_RETURN_IF_ERROR(read);
  if (!is_trailer) return Error("corrupt: the footer does not point at the trailer");
  return TrailerFrom(record.trailer());
}

// ---- the record stream ----------------------------------------------------------------------

StatusOr<SnapshotReader::Item> SnapshotReader::Next() {
  if (done_) return Item::kEnd;
  for (;;) {
    bool eof = false;
    record_index_ = records_;
    HEAPSNAP_RETURN_IF_ERROR(ReadRecord(&payload_, &eof));
    if (eof) {
      return Error("truncated: the file ends after " + std::to_string(records_) +
                   " records without a trailer (the capture did not finish)");
    }
    proto::Record record;
    if (!record.ParseFromString(payload_)) return RecordError("does not parse");
    switch (record.body_case()) {
      case proto::Record::kHeader:
        return RecordError("a second header");
      case proto::Record::kStrings:
        ReadStrings(record.strings());
        continue;
      case proto::Record::kTypes:
        HEAPSNAP_RETURN_IF_ERROR(ReadTypes(record.types()));
        continue;
      case proto::Record::kObjects:
        HEAPSNAP_RETURN_IF_ERROR(ReadObjectChunk(record.objects()));
        return Item::kObjects;
      case proto::Record::kRoots:
        HEAPSNAP_RETURN_IF_ERROR(ReadRoots(record.roots()));
        return Item::kRoots;
      case proto::Record::kSizeFixups:
        HEAPSNAP_RETURN_IF_ERROR(ReadSizeFixups(record.size_fixups()));
        return Item::kSizeFixups;
      case proto::Record::kTrailer:
        HEAPSNAP_RETURN_IF_ERROR(ReadTrailer(record.trailer()));
        return Item::kEnd;
      case proto::Record::BODY_NOT_SET:
        return RecordError("empty or unknown record");
    }
    return RecordError("unknown record type");
  }
}

void SnapshotReader::ReadStrings(const proto::StringChunk& chunk) {
  for (const auto& s : chunk.values()) strings_.push_back(s);
}

Status SnapshotReader::ReadTypes(const proto::TypeChunk& chunk) {
  for (const auto& t : chunk.types()) {
    if (t.name() >= strings_.size() || t.qualname() >= strings_.size()) {
      return RecordError("type " + std::to_string(types_.size()) + " uses an undefined string id");
    }
    if ((t.flags() & ~type_flags::kAll) != 0) {
      return RecordError("type " + std::to_string(types_.size()) + " has unknown flags");
    }
    TypeRecord tr;
    tr.name = StringId(t.name());
    tr.qualname = StringId(t.qualname());
    tr.address = t.address();
    tr.flags = t.flags();
    tr.basicsize = t.basicsize();
    tr.itemsize = t.itemsize();
    types_.push_back(tr);
  }
  return Status::Ok();
}

Status SnapshotReader::ReadRoots(const proto::RootChunk& chunk) {
  roots_.clear();
  for (const auto& r : chunk.roots()) {
    if (r.kind() == 0 || static_cast<uint32_t>(r.kind()) > kMaxRootKind) {
      return RecordError("root with invalid kind " + std::to_string(r.kind()));
    }
    if (r.label() >= strings_.size()) return RecordError("root uses an undefined string");
    roots_.push_back({static_cast<RootKind>(r.kind()), r.address(), StringId(r.label()),
                      r.thread_id(), r.depth()});
  }
  roots_read_ += roots_.size();
  return Status::Ok();
}

Status SnapshotReader::ReadSizeFixups(const proto::SizeFixupChunk& chunk) {
  if (chunk.object_index_size() != chunk.size_size()) {
    return RecordError("size fixup arrays have different lengths");
  }
  fixups_.clear();
  for (int i = 0; i < chunk.object_index_size(); ++i) {
    if (chunk.object_index(i) >= objects_read_) {
      return RecordError("size fixup for object " + std::to_string(chunk.object_index(i)) +
                         " that has not been defined");
    }
    fixups_.push_back({chunk.object_index(i), chunk.size(i)});
  }
  fixups_read_ += fixups_.size();
  return Status::Ok();
}

// The trailer's totals must match what was read, the footer must point at the trailer, and
// nothing may follow.
Status SnapshotReader::ReadTrailer(const proto::Trailer& t) {
  if (expect_continuation_) {
    return Error("truncated: the last object's edges continue past the trailer");
  }
  auto mismatch = [&](const char* what, uint64_t claimed, uint64_t seen) {
    return Error("corrupt: trailer counts " + std::to_string(claimed) + " " + what +
                 ", the file holds " + std::to_string(seen));
  };
  if (t.objects() != objects_read_) return mismatch("objects", t.objects(), objects_read_);
  if (t.edges() != edges_read_) return mismatch("edges", t.edges(), edges_read_);
  if (t.strings() != strings_.size() - 1) {
    return mismatch("strings", t.strings(), strings_.size() - 1);
  }
  if (t.types() != types_.size() - 1) return mismatch("types", t.types(), types_.size() - 1);
  if (t.roots() != roots_read_) return mismatch("roots", t.roots(), roots_read_);
  if (t.size_fixups() != fixups_read_) {
    return mismatch("size fixups", t.size_fixups(), fixups_read_);
  }
  if (t.records() != record_index_) return mismatch("records", t.records(), record_index_);
  unsigned char footer[kFooterSize];
  HEAPSNAP_ASSIGN_OR_RETURN(size_t got, source_->Read(footer, sizeof(footer)));
  if (got != sizeof(footer)) return Error("truncated: the footer after the trailer is missing");
  uint64_t trailer_offset = 0;
  if (!DecodeFooter(footer, &trailer_offset) || trailer_offset != record_offset_) {
    return Error("corrupt: the footer does not point at the trailer");
  }
  unsigned char extra;
  HEAPSNAP_ASSIGN_OR_RETURN(got, source_->Read(&extra, 1));
  if (got != 0) return Error("corrupt: data after the trailer");
  trailer_ = TrailerFrom(t);
  done_ = true;
  return Status::Ok();
}

// ---- object chunks --------------------------------------------------------------------------

Status SnapshotReader::ReadObjectChunk(const proto::ObjectChunk& chunk) {
  HEAPSNAP_RETURN_IF_ERROR(ValidateColumns(chunk));
  ObjectBatch& b = objects_;
  b.first_index = chunk.first_index();
  b.continued_edges = chunk.continued_edges();
  b.last_continues = chunk.last_continues();
  HEAPSNAP_RETURN_IF_ERROR(DecodeObjects(chunk));
  HEAPSNAP_RETURN_IF_ERROR(DecodeEdges(chunk));
  HEAPSNAP_RETURN_IF_ERROR(DecodeValues(chunk));
  HEAPSNAP_RETURN_IF_ERROR(DecodeNames(chunk));
  const size_t n = b.objects.size();
  if (n > 0) last_object_address_ = b.objects[n - 1].address;
  objects_read_ += n;
  edges_read_ += b.edges.size();
  expect_continuation_ = chunk.last_continues();
  return Status::Ok();
}

// The parallel arrays agree in length, and the chunk carries on from the one before.
Status SnapshotReader::ValidateColumns(const proto::ObjectChunk& c) {
  const auto n = static_cast<size_t>(c.type_id_size());
  if (c.first_index() != objects_read_) {
    return RecordError("object chunk starts at index " + std::to_string(c.first_index()) +
                       ", expected " + std::to_string(objects_read_));
  }
  if (static_cast<size_t>(c.address_delta_size()) != n || static_cast<size_t>(c.size_size()) != n ||
      static_cast<size_t>(c.refcount_size()) != n || static_cast<size_t>(c.flags_size()) != n ||
      static_cast<size_t>(c.generation_size()) != n ||
      static_cast<size_t>(c.edge_count_size()) != n) {
    return RecordError("object arrays have different lengths");
  }
  const auto m = static_cast<size_t>(c.edge_target_delta_size());
  if (static_cast<size_t>(c.edge_kind_size()) != m ||
      static_cast<size_t>(c.edge_label_kind_size()) != m ||
      static_cast<size_t>(c.edge_label_value_size()) != m) {
    return RecordError("edge arrays have different lengths");
  }
  if (c.continued_edges() > 0 && !expect_continuation_) {
    return RecordError("continues the edges of an object that ended");
  }
  if (c.last_continues() && n == 0 && c.continued_edges() == 0) {
    return RecordError("continues an object it does not hold");
  }
  // A chunk holds objects, or edges of the object before it, or both.
  if (n == 0 && c.continued_edges() == 0) return RecordError("empty object chunk");
  if (c.continued_edges() > m) return RecordError("more continued edges than edges");
  return Status::Ok();
}

// Objects, with edge_begin from their edge counts, which must add up to the edges.
Status SnapshotReader::DecodeObjects(const proto::ObjectChunk& c) {
  ObjectBatch& b = objects_;
  const auto n = static_cast<size_t>(c.type_id_size());
  const auto m = static_cast<size_t>(c.edge_target_delta_size());
  b.objects.resize(n);
  b.edge_begin.resize(n + 1);
  uint64_t address = 0;
  uint64_t edge_total = c.continued_edges();
  for (size_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(i);
    ObjectRecord& o = b.objects[i];
    address += static_cast<uint64_t>(c.address_delta(k));
    o.address = address;
    const uint32_t type = c.type_id(k);
    if (type == 0 || type >= types_.size()) {
      return RecordError("object " + std::to_string(objects_read_ + i) + " has undefined type id " +
                         std::to_string(type));
    }
    o.type = TypeId(type);
    o.size = c.size(k);
    o.refcount = c.refcount(k);
    o.flags = c.flags(k);
    if ((o.flags & ~object_flags::kAll) != 0) {
      return RecordError("object " + std::to_string(objects_read_ + i) + " has unknown flags");
    }
    o.generation = c.generation(k);
    if (o.generation > kGenerationPermanent) {
      return RecordError("object " + std::to_string(objects_read_ + i) +
                         " has invalid generation " + std::to_string(o.generation));
    }
    b.edge_begin[i] = static_cast<uint32_t>(edge_total);
    edge_total += c.edge_count(k);
    if (edge_total > m) return RecordError("edge counts exceed the edges in the chunk");
  }
  if (edge_total != m) return RecordError("edge counts do not add up to the edges");
  b.edge_begin[n] = static_cast<uint32_t>(m);
  return Status::Ok();
}

// Edge targets are relative to their source object; continued edges to the last object of the
// chunk before.
Status SnapshotReader::DecodeEdges(const proto::ObjectChunk& c) {
  ObjectBatch& b = objects_;
  const size_t n = b.objects.size();
  const auto m = static_cast<size_t>(c.edge_target_delta_size());
  b.edges.resize(m);
  size_t source = 0;
  for (size_t e = 0; e < m; ++e) {
    const int ie = static_cast<int>(e);
    EdgeRecord& r = b.edges[e];
    while (source < n && b.edge_begin[source + 1] <= e) ++source;
    const uint64_t source_address =
        e < b.continued_edges ? last_object_address_ : b.objects[source].address;
    r.target = source_address + static_cast<uint64_t>(c.edge_target_delta(ie));
    const uint32_t kind = c.edge_kind(ie);
    const uint32_t label_kind = c.edge_label_kind(ie);
    if (kind == 0 || kind > static_cast<uint32_t>(EdgeKind::kWeak)) {
      return RecordError("edge " + std::to_string(edges_read_ + e) + " has invalid kind " +
                         std::to_string(kind));
    }
    if (label_kind > kMaxLabelKind) {
      return RecordError("edge " + std::to_string(edges_read_ + e) + " has invalid label kind " +
                         std::to_string(label_kind));
    }
    r.kind = static_cast<EdgeKind>(kind);
    r.label_kind = static_cast<LabelKind>(label_kind);
    r.label_value = c.edge_label_value(ie);
    if (LabelHasString(r.label_kind) && (r.label_value == 0 || r.label_value >= strings_.size())) {
      return RecordError("edge " + std::to_string(edges_read_ + e) +
                         " uses an undefined string id");
    }
  }
  return Status::Ok();
}

// Preview k is the text value_text[value_end[k-1], value_end[k]).
Status SnapshotReader::DecodeValues(const proto::ObjectChunk& c) {
  ObjectBatch& b = objects_;
  b.values.clear();
  if (c.value_length_size() != c.value_object_size() ||
      c.value_end_size() != c.value_object_size()) {
    return RecordError("value arrays have different lengths");
  }
  uint32_t text_begin = 0;
  for (int k = 0; k < c.value_object_size(); ++k) {
    const uint32_t end = c.value_end(k);
    if (c.value_object(k) >= b.objects.size()) {
      return RecordError("value preview for an object not in chunk");
    }
    if (end < text_begin || end > c.value_text().size()) {
      return RecordError("value preview text out of bounds");
    }
    b.values.push_back({objects_read_ + c.value_object(k),
                        c.value_text().substr(text_begin, end - text_begin), c.value_length(k)});
    text_begin = end;
  }
  return Status::Ok();
}

Status SnapshotReader::DecodeNames(const proto::ObjectChunk& c) {
  ObjectBatch& b = objects_;
  b.names.clear();
  for (const auto& nm : c.names()) {
    if (nm.object() >= b.objects.size()) return RecordError("name for an object not in chunk");
    if (nm.name() >= strings_.size() || nm.file() >= strings_.size()) {
      return RecordError("name uses an undefined string id");
    }
    b.names.push_back(
        {objects_read_ + nm.object(), StringId(nm.name()), StringId(nm.file()), nm.line()});
  }
  return Status::Ok();
}

}  // namespace heapsnap

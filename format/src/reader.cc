#include "heapsnap/format/reader.h"

#include <cerrno>
#include <climits>
#include <cstring>

#include "heapsnap.pb.h"
#include "heapsnap/format/crc32c.h"

namespace heapsnap {
namespace {

uint32_t GetU32(const unsigned char* b) {
  return static_cast<uint32_t>(b[0]) | (static_cast<uint32_t>(b[1]) << 8) |
         (static_cast<uint32_t>(b[2]) << 16) | (static_cast<uint32_t>(b[3]) << 24);
}

}  // namespace

StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    if (err == ENOENT) return NotFound(path + ": no such file");
    return IoError(path + ": cannot open: " + std::strerror(err));
  }
  std::unique_ptr<SnapshotReader> r(new SnapshotReader(path, f));
  HEAPSNAP_RETURN_IF_ERROR(r->ReadHeader());
  return r;
}

SnapshotReader::SnapshotReader(std::string path, FILE* file) : path_(std::move(path)), file_(file) {
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
}

SnapshotReader::~SnapshotReader() {
  if (file_ != nullptr) std::fclose(file_);
}

Status SnapshotReader::Error(const std::string& what) const {
  return DataLoss(path_ + ": " + what);
}

Status SnapshotReader::ReadRecord(std::string* payload, bool* eof) {
  record_offset_ = offset_;
  unsigned char frame[8];
  size_t got = std::fread(frame, 1, sizeof(frame), file_);
  if (got == 0 && std::feof(file_)) {
    *eof = true;
    return Status::Ok();
  }
  *eof = false;
  if (std::ferror(file_)) return IoError(path_ + ": read failed: " + std::strerror(errno));
  if (got < sizeof(frame)) {
    return Error("truncated: record " + std::to_string(records_) + " at offset " +
                 std::to_string(offset_) + " is cut off in its length prefix");
  }
  uint32_t length = GetU32(frame);
  uint32_t crc = GetU32(frame + 4);
  if (length > kMaxRecordBytes) {
    return Error("corrupt: record " + std::to_string(records_) + " at offset " +
                 std::to_string(offset_) + " claims " + std::to_string(length) +
                 " bytes, more than the format allows");
  }
  payload->resize(length);
  got = length == 0 ? 0 : std::fread(payload->data(), 1, length, file_);
  if (got < length) {
    if (std::ferror(file_)) return IoError(path_ + ": read failed: " + std::strerror(errno));
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
  size_t got = std::fread(preamble, 1, sizeof(preamble), file_);
  if (got == 0) return Error("empty file, not a heapsnap snapshot");
  if (got < sizeof(kMagic) || std::memcmp(preamble, kMagic, sizeof(kMagic)) != 0) {
    return Error("not a heapsnap snapshot (bad magic)");
  }
  if (got < sizeof(preamble)) return Error("truncated: file ends inside the preamble");
  uint32_t version = GetU32(preamble + sizeof(kMagic));
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
  const proto::Header& h = record.header();
  if (h.format_version() != kFormatVersion) {
    return Error("header says format version " + std::to_string(h.format_version()) +
                 ", preamble says " + std::to_string(kFormatVersion));
  }
  header_.format_version = h.format_version();
  header_.python_version = h.python_version();
  header_.python_implementation = h.python_implementation();
  header_.python_hexversion = h.python_hexversion();
  header_.pid = h.pid();
  header_.time_unix_ns = h.time_unix_ns();
  header_.executable = h.executable();
  header_.values = h.options().values();
  header_.max_preview_bytes = h.options().max_preview_bytes();
  header_.gc_enabled = h.gc().enabled();
  header_.gc_thresholds.assign(h.gc().thresholds().begin(), h.gc().thresholds().end());
  header_.gc_counts.assign(h.gc().counts().begin(), h.gc().counts().end());
  header_.gc_garbage_length = h.gc().garbage_length();
  header_.pointer_size = h.pointer_size();
  header_.reason = h.reason();
  header_.capture_version = h.capture_version();
  return Status::Ok();
}

StatusOr<TrailerInfo> SnapshotReader::PeekTrailer(const std::string& path) {
  auto opened = Open(path);
  if (!opened.ok()) return opened.status();
  SnapshotReader& r = **opened;
  if (std::fseek(r.file_, -static_cast<long>(kFooterSize), SEEK_END) != 0) {
    return r.Error("truncated: no footer");
  }
  unsigned char footer[kFooterSize];
  if (std::fread(footer, 1, sizeof(footer), r.file_) != sizeof(footer) ||
      std::memcmp(footer + 8, kFooterMagic, sizeof(kFooterMagic)) != 0) {
    return r.Error("truncated: no footer");
  }
  const uint64_t offset = GetU32(footer) | (static_cast<uint64_t>(GetU32(footer + 4)) << 32);
  if (offset > static_cast<uint64_t>(LONG_MAX) ||
      std::fseek(r.file_, static_cast<long>(offset), SEEK_SET) != 0) {
    return r.Error("corrupt: the footer points outside the file");
  }
  r.offset_ = offset;
  bool eof = false;
  HEAPSNAP_RETURN_IF_ERROR(r.ReadRecord(&r.payload_, &eof));
  proto::Record record;
  if (eof || !record.ParseFromString(r.payload_) || !record.has_trailer()) {
    return r.Error("corrupt: the footer does not point at the trailer");
  }
  const proto::Trailer& t = record.trailer();
  return TrailerInfo{t.objects(), t.edges(),   t.strings(),    t.types(),
                     t.roots(),   t.records(), t.size_fixups()};
}

StatusOr<SnapshotReader::Item> SnapshotReader::Next() {
  if (done_) return Item::kEnd;
  for (;;) {
    bool eof = false;
    uint64_t record_index = records_;
    HEAPSNAP_RETURN_IF_ERROR(ReadRecord(&payload_, &eof));
    if (eof) {
      return Error("truncated: the file ends after " + std::to_string(records_) +
                   " records without a trailer (the capture did not finish)");
    }
    proto::Record record;
    if (!record.ParseFromString(payload_)) {
      return Error("corrupt: record " + std::to_string(record_index) + " does not parse");
    }
    const std::string where = "record " + std::to_string(record_index) + ": ";
    switch (record.body_case()) {
      case proto::Record::kHeader:
        return Error(where + "a second header");
      case proto::Record::kStrings:
        for (const auto& s : record.strings().values()) strings_.push_back(s);
        continue;
      case proto::Record::kTypes:
        for (const auto& t : record.types().types()) {
          if (t.name() >= strings_.size() || t.qualname() >= strings_.size()) {
            return Error(where + "type " + std::to_string(types_.size()) +
                         " uses an undefined string id");
          }
          if ((t.flags() & ~type_flags::kAll) != 0) {
            return Error(where + "type " + std::to_string(types_.size()) + " has unknown flags");
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
        continue;
      case proto::Record::kObjects: {
        const proto::ObjectChunk& c = record.objects();
        const size_t n = static_cast<size_t>(c.type_id_size());
        if (c.first_index() != objects_read_) {
          return Error(where + "object chunk starts at index " + std::to_string(c.first_index()) +
                       ", expected " + std::to_string(objects_read_));
        }
        if (static_cast<size_t>(c.address_delta_size()) != n ||
            static_cast<size_t>(c.size_size()) != n ||
            static_cast<size_t>(c.refcount_size()) != n ||
            static_cast<size_t>(c.flags_size()) != n ||
            static_cast<size_t>(c.generation_size()) != n ||
            static_cast<size_t>(c.edge_count_size()) != n) {
          return Error(where + "object arrays have different lengths");
        }
        const size_t m = static_cast<size_t>(c.edge_target_delta_size());
        if (static_cast<size_t>(c.edge_kind_size()) != m ||
            static_cast<size_t>(c.edge_label_kind_size()) != m ||
            static_cast<size_t>(c.edge_label_value_size()) != m) {
          return Error(where + "edge arrays have different lengths");
        }
        if (c.continued_edges() > 0 && !expect_continuation_) {
          return Error(where + "continues the edges of an object that ended");
        }
        if (c.last_continues() && n == 0 && c.continued_edges() == 0) {
          return Error(where + "continues an object it does not hold");
        }
        if (expect_continuation_ && c.continued_edges() == 0 && n == 0) {
          return Error(where + "empty object chunk");
        }
        if (c.continued_edges() > m) return Error(where + "more continued edges than edges");
        ObjectBatch& b = objects_;
        b.first_index = c.first_index();
        b.continued_edges = c.continued_edges();
        b.last_continues = c.last_continues();
        b.objects.resize(n);
        b.edge_begin.resize(n + 1);
        b.edges.resize(m);
        b.values.clear();
        b.names.clear();
        uint64_t address = 0;
        uint64_t edge_total = c.continued_edges();
        for (size_t i = 0; i < n; ++i) {
          ObjectRecord& o = b.objects[i];
          address += static_cast<uint64_t>(c.address_delta(static_cast<int>(i)));
          o.address = address;
          uint32_t type = c.type_id(static_cast<int>(i));
          if (type == 0 || type >= types_.size()) {
            return Error(where + "object " + std::to_string(objects_read_ + i) +
                         " has undefined type id " + std::to_string(type));
          }
          o.type = TypeId(type);
          o.size = c.size(static_cast<int>(i));
          o.refcount = c.refcount(static_cast<int>(i));
          o.flags = c.flags(static_cast<int>(i));
          if ((o.flags & ~object_flags::kAll) != 0) {
            return Error(where + "object " + std::to_string(objects_read_ + i) +
                         " has unknown flags");
          }
          o.generation = c.generation(static_cast<int>(i));
          if (o.generation > kGenerationPermanent) {
            return Error(where + "object " + std::to_string(objects_read_ + i) +
                         " has invalid generation " + std::to_string(o.generation));
          }
          b.edge_begin[i] = static_cast<uint32_t>(edge_total);
          edge_total += c.edge_count(static_cast<int>(i));
          if (edge_total > m) {
            return Error(where + "edge counts exceed the edges in the chunk");
          }
        }
        if (edge_total != m) return Error(where + "edge counts do not add up to the edges");
        if (n == 0 && !b.last_continues && expect_continuation_ == false && m == 0) {
          return Error(where + "empty object chunk");
        }
        b.edge_begin[n] = static_cast<uint32_t>(m);
        // Edge targets are relative to their source object.
        size_t source = 0;
        for (size_t e = 0; e < m; ++e) {
          const int ie = static_cast<int>(e);
          EdgeRecord& r = b.edges[e];
          while (source < n && b.edge_begin[source + 1] <= e) ++source;
          const uint64_t source_address =
              e < b.continued_edges ? last_object_address_ : b.objects[source].address;
          r.target = source_address + static_cast<uint64_t>(c.edge_target_delta(ie));
          uint32_t kind = c.edge_kind(ie);
          uint32_t label_kind = c.edge_label_kind(ie);
          if (kind == 0 || kind > static_cast<uint32_t>(EdgeKind::kWeak)) {
            return Error(where + "edge " + std::to_string(edges_read_ + e) + " has invalid kind " +
                         std::to_string(kind));
          }
          if (label_kind > kMaxLabelKind) {
            return Error(where + "edge " + std::to_string(edges_read_ + e) +
                         " has invalid label kind " + std::to_string(label_kind));
          }
          r.kind = static_cast<EdgeKind>(kind);
          r.label_kind = static_cast<LabelKind>(label_kind);
          r.label_value = c.edge_label_value(ie);
          if (LabelHasString(r.label_kind) &&
              (r.label_value == 0 || r.label_value >= strings_.size())) {
            return Error(where + "edge " + std::to_string(edges_read_ + e) +
                         " uses an undefined string id");
          }
        }
        if (c.value_length_size() != c.value_object_size() ||
            c.value_end_size() != c.value_object_size()) {
          return Error(where + "value arrays have different lengths");
        }
        uint32_t text_begin = 0;
        for (int k = 0; k < c.value_object_size(); ++k) {
          const uint32_t end = c.value_end(k);
          if (c.value_object(k) >= n)
            return Error(where + "value preview for an object not in chunk");
          if (end < text_begin || end > c.value_text().size()) {
            return Error(where + "value preview text out of bounds");
          }
          b.values.push_back({objects_read_ + c.value_object(k),
                              c.value_text().substr(text_begin, end - text_begin),
                              c.value_length(k)});
          text_begin = end;
        }
        for (const auto& nm : c.names()) {
          if (nm.object() >= n) return Error(where + "name for an object not in chunk");
          if (nm.name() >= strings_.size() || nm.file() >= strings_.size()) {
            return Error(where + "name uses an undefined string id");
          }
          b.names.push_back(
              {objects_read_ + nm.object(), StringId(nm.name()), StringId(nm.file()), nm.line()});
        }
        if (n > 0) last_object_address_ = b.objects[n - 1].address;
        objects_read_ += n;
        edges_read_ += m;
        expect_continuation_ = c.last_continues();
        return Item::kObjects;
      }
      case proto::Record::kRoots: {
        roots_.clear();
        for (const auto& r : record.roots().roots()) {
          if (r.kind() == 0 || static_cast<uint32_t>(r.kind()) > kMaxRootKind) {
            return Error(where + "root with invalid kind " + std::to_string(r.kind()));
          }
          if (r.label() >= strings_.size()) return Error(where + "root uses an undefined string");
          roots_.push_back({static_cast<RootKind>(r.kind()), r.address(), StringId(r.label()),
                            r.thread_id(), r.depth()});
        }
        roots_read_ += roots_.size();
        return Item::kRoots;
      }
      case proto::Record::kSizeFixups: {
        const auto& c = record.size_fixups();
        if (c.object_index_size() != c.size_size()) {
          return Error(where + "size fixup arrays have different lengths");
        }
        fixups_.clear();
        for (int i = 0; i < c.object_index_size(); ++i) {
          if (c.object_index(i) >= objects_read_) {
            return Error(where + "size fixup for object " + std::to_string(c.object_index(i)) +
                         " that has not been defined");
          }
          fixups_.push_back({c.object_index(i), c.size(i)});
        }
        fixups_read_ += fixups_.size();
        return Item::kSizeFixups;
      }
      case proto::Record::kTrailer: {
        const proto::Trailer& t = record.trailer();
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
        if (t.records() != record_index) return mismatch("records", t.records(), record_index);
        unsigned char footer[kFooterSize];
        if (std::fread(footer, 1, sizeof(footer), file_) != sizeof(footer)) {
          return Error("truncated: the footer after the trailer is missing");
        }
        const uint64_t trailer_offset =
            GetU32(footer) | (static_cast<uint64_t>(GetU32(footer + 4)) << 32);
        if (trailer_offset != record_offset_ ||
            std::memcmp(footer + 8, kFooterMagic, sizeof(kFooterMagic)) != 0) {
          return Error("corrupt: the footer does not point at the trailer");
        }
        int extra = std::fgetc(file_);
        if (extra != EOF) return Error("corrupt: data after the trailer");
        trailer_ = {t.objects(), t.edges(),   t.strings(),    t.types(),
                    t.roots(),   t.records(), t.size_fixups()};
        done_ = true;
        return Item::kEnd;
      }
      case proto::Record::BODY_NOT_SET:
        return Error(where + "empty or unknown record");
    }
    return Error(where + "unknown record type");
  }
}

}  // namespace heapsnap

#include "heapsnap/format/writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "heapsnap.pb.h"
#include "heapsnap/format/crc32c.h"

namespace heapsnap {
namespace {

void PutU32(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
               static_cast<char>(v >> 24)};
  out->append(b, 4);
}

template <typename Field, typename Vec>
void AssignPacked(Field* field, const Vec& v) {
  field->Reserve(static_cast<int>(v.size()));
  for (const auto& x : v) field->AddAlreadyReserved(x);
}

}  // namespace

StatusOr<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(const std::string& path,
                                                                  const HeaderInfo& header) {
  return Create(path, header, Options());
}

StatusOr<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(const std::string& path,
                                                                  const HeaderInfo& header,
                                                                  Options options) {
  if (path.empty()) return InvalidArgument("snapshot path is empty");
  std::string tmp = path + ".tmp-" + std::to_string(getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return IoError(path + ": cannot create: " + std::strerror(errno));
  }
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(path, tmp, f, options));
  HEAPSNAP_RETURN_IF_ERROR(w->WriteHeader(header));
  return w;
}

SnapshotWriter::SnapshotWriter(std::string path, std::string tmp_path, FILE* file,
                               Options options)
    : path_(std::move(path)), tmp_path_(std::move(tmp_path)), file_(file), options_(options) {
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  if (options_.objects_per_chunk == 0) options_.objects_per_chunk = 1;
  if (options_.edges_per_chunk == 0) options_.edges_per_chunk = 1;
  max_edges_per_chunk_ = static_cast<size_t>(options_.edges_per_chunk) * 4;
}

SnapshotWriter::~SnapshotWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) std::remove(tmp_path_.c_str());
}

Status SnapshotWriter::WriteRecord(const std::string& payload) {
  if (!status_.ok()) return status_;
  if (payload.size() > kMaxRecordBytes) {
    status_ = Internal(path_ + ": record of " + std::to_string(payload.size()) +
                       " bytes exceeds the format's limit");
    return status_;
  }
  std::string frame;
  PutU32(&frame, static_cast<uint32_t>(payload.size()));
  PutU32(&frame, Crc32c(payload.data(), payload.size()));
  if (std::fwrite(frame.data(), 1, frame.size(), file_) != frame.size() ||
      std::fwrite(payload.data(), 1, payload.size(), file_) != payload.size()) {
    status_ = IoError(path_ + ": write failed: " + std::strerror(errno));
    return status_;
  }
  ++records_;
  return Status::Ok();
}

Status SnapshotWriter::WriteHeader(const HeaderInfo& h) {
  std::string preamble(reinterpret_cast<const char*>(kMagic), sizeof(kMagic));
  PutU32(&preamble, kFormatVersion);
  if (std::fwrite(preamble.data(), 1, preamble.size(), file_) != preamble.size()) {
    return status_ = IoError(path_ + ": write failed: " + std::strerror(errno));
  }
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
  record.SerializeToString(&buffer_);
  return WriteRecord(buffer_);
}

StringId SnapshotWriter::InternString(std::string_view s) {
  auto [it, inserted] = string_ids_.try_emplace(std::string(s), next_string_id_);
  if (inserted) {
    pending_strings_.emplace_back(s);
    ++next_string_id_;
  }
  return StringId(it->second);
}

TypeId SnapshotWriter::AddType(const TypeRecord& type) {
  pending_types_.push_back(type);
  return TypeId(next_type_id_++);
}

uint64_t SnapshotWriter::BeginObject(const ObjectRecord& o) {
  MaybeFlushObjects();
  if (type_id_.empty() && edge_kind_.empty()) {
    chunk_first_index_ = total_objects_;
    last_address_ = 0;
    last_target_ = 0;
  }
  address_delta_.push_back(static_cast<int64_t>(o.address - last_address_));
  last_address_ = o.address;
  type_id_.push_back(o.type.value());
  size_.push_back(o.size);
  refcount_.push_back(o.refcount);
  flags_.push_back(o.flags);
  generation_.push_back(o.generation);
  edge_count_.push_back(0);
  return total_objects_++;
}

void SnapshotWriter::SetValue(std::string_view text, uint64_t full_length) {
  values_.push_back({static_cast<uint32_t>(type_id_.size() - 1), std::string(text), full_length});
}

void SnapshotWriter::SetName(StringId name, StringId file, uint32_t line) {
  names_.push_back({static_cast<uint32_t>(type_id_.size() - 1), name.value(), file.value(), line});
}

void SnapshotWriter::MaybeFlushObjects() {
  if (type_id_.size() >= options_.objects_per_chunk ||
      edge_kind_.size() >= options_.edges_per_chunk) {
    (void)FlushObjects();  // an error is kept in status_ and reported by Finish()
  }
}

Status SnapshotWriter::FlushTables() {
  if (!pending_strings_.empty()) {
    proto::Record record;
    auto* chunk = record.mutable_strings();
    size_t bytes = 0;
    for (auto& s : pending_strings_) {
      // Keep string records well under the record limit.
      if (bytes + s.size() > (kMaxRecordBytes / 2) && chunk->values_size() > 0) {
        record.SerializeToString(&buffer_);
        HEAPSNAP_RETURN_IF_ERROR(WriteRecord(buffer_));
        chunk->clear_values();
        bytes = 0;
      }
      bytes += s.size();
      chunk->add_values(std::move(s));
    }
    record.SerializeToString(&buffer_);
    HEAPSNAP_RETURN_IF_ERROR(WriteRecord(buffer_));
    pending_strings_.clear();
  }
  if (!pending_types_.empty()) {
    proto::Record record;
    auto* chunk = record.mutable_types();
    for (const auto& t : pending_types_) {
      auto* p = chunk->add_types();
      p->set_name(t.name.value());
      p->set_qualname(t.qualname.value());
      p->set_address(t.address);
      p->set_flags(t.flags);
      p->set_basicsize(t.basicsize);
      p->set_itemsize(t.itemsize);
    }
    record.SerializeToString(&buffer_);
    HEAPSNAP_RETURN_IF_ERROR(WriteRecord(buffer_));
    pending_types_.clear();
  }
  return Status::Ok();
}

void SnapshotWriter::SplitObjectEdges() {
  (void)FlushObjects(/*last_continues=*/true);  // an error is kept in status_
  chunk_first_index_ = total_objects_;
  last_address_ = 0;
  last_target_ = 0;
}

Status SnapshotWriter::FlushObjects(bool last_continues) {
  if (type_id_.empty() && edge_kind_.empty()) return status_;
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  proto::Record record;
  auto* c = record.mutable_objects();
  c->set_first_index(chunk_first_index_);
  c->set_continued_edges(continued_edges_);
  c->set_last_continues(last_continues);
  continued_edges_ = 0;
  AssignPacked(c->mutable_address_delta(), address_delta_);
  AssignPacked(c->mutable_type_id(), type_id_);
  AssignPacked(c->mutable_size(), size_);
  AssignPacked(c->mutable_refcount(), refcount_);
  AssignPacked(c->mutable_flags(), flags_);
  AssignPacked(c->mutable_generation(), generation_);
  AssignPacked(c->mutable_edge_count(), edge_count_);
  AssignPacked(c->mutable_edge_target_delta(), edge_target_delta_);
  AssignPacked(c->mutable_edge_kind(), edge_kind_);
  AssignPacked(c->mutable_edge_label_kind(), edge_label_kind_);
  AssignPacked(c->mutable_edge_label_value(), edge_label_value_);
  for (auto& v : values_) {
    auto* p = c->add_values();
    p->set_object(v.object);
    p->set_text(std::move(v.text));
    p->set_length(v.length);
  }
  for (const auto& n : names_) {
    auto* p = c->add_names();
    p->set_object(n.object);
    p->set_name(n.name);
    p->set_file(n.file);
    p->set_line(n.line);
  }
  record.SerializeToString(&buffer_);
  address_delta_.clear();
  type_id_.clear();
  size_.clear();
  refcount_.clear();
  flags_.clear();
  generation_.clear();
  edge_count_.clear();
  edge_target_delta_.clear();
  edge_kind_.clear();
  edge_label_kind_.clear();
  edge_label_value_.clear();
  values_.clear();
  names_.clear();
  return WriteRecord(buffer_);
}

Status SnapshotWriter::AddRoot(const RootRecord& root) {
  roots_.push_back(root);
  ++total_roots_;
  if (roots_.size() >= 65536) return FlushRoots();
  return status_;
}

Status SnapshotWriter::FlushRoots() {
  if (roots_.empty()) return status_;
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  proto::Record record;
  auto* c = record.mutable_roots();
  for (const auto& r : roots_) {
    auto* p = c->add_roots();
    p->set_kind(static_cast<proto::RootKind>(r.kind));
    p->set_address(r.address);
    p->set_label(r.label.value());
    p->set_thread_id(r.thread_id);
    p->set_depth(r.depth);
  }
  roots_.clear();
  record.SerializeToString(&buffer_);
  return WriteRecord(buffer_);
}

Status SnapshotWriter::AddSizeFixup(const SizeFixup& fixup) {
  fixups_.push_back(fixup);
  ++total_fixups_;
  if (fixups_.size() >= 262144) return FlushFixups();
  return status_;
}

Status SnapshotWriter::FlushFixups() {
  if (fixups_.empty()) return status_;
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  proto::Record record;
  auto* c = record.mutable_size_fixups();
  for (const auto& f : fixups_) {
    c->add_object_index(f.object_index);
    c->add_size(f.size);
  }
  fixups_.clear();
  record.SerializeToString(&buffer_);
  return WriteRecord(buffer_);
}

Status SnapshotWriter::Finish() {
  if (finished_) return Internal(path_ + ": Finish() called twice");
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  HEAPSNAP_RETURN_IF_ERROR(FlushRoots());
  HEAPSNAP_RETURN_IF_ERROR(FlushFixups());
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  proto::Record record;
  auto* t = record.mutable_trailer();
  t->set_objects(total_objects_);
  t->set_edges(total_edges_);
  t->set_strings(next_string_id_ - 1);
  t->set_types(next_type_id_ - 1);
  t->set_roots(total_roots_);
  t->set_records(records_);
  t->set_size_fixups(total_fixups_);
  record.SerializeToString(&buffer_);
  HEAPSNAP_RETURN_IF_ERROR(WriteRecord(buffer_));
  FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) {
    return status_ = IoError(path_ + ": write failed: " + std::strerror(errno));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return status_ = IoError(path_ + ": cannot rename " + tmp_path_ + " into place: " +
                             std::strerror(errno));
  }
  finished_ = true;
  return Status::Ok();
}

}  // namespace heapsnap

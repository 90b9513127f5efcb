#include "heapsnap/format/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "heapsnap.pb.h"
#include "heapsnap/base/wire.h"
#include "heapsnap/format/crc32c.h"

namespace heapsnap {
namespace {

// The object chunk is most of a snapshot and is written while the program is paused, so it is
// encoded here directly in protobuf wire format (one pass per array, no intermediate message).
// format_test checks that the generated parser reads it back field for field.
constexpr uint32_t kWireVarint = 0;
constexpr uint32_t kWireLen = 2;

void PutTag(std::string* out, uint32_t field, uint32_t wire) {
  PutVarint(out, (field << 3) | wire);
}

template <typename Vec, typename Fn>
void PutPacked(std::string* out, std::string* scratch, uint32_t field, const Vec& v, Fn&& fn) {
  if (v.empty()) return;
  // The longest varint is 10 bytes. Only ever grown: resizing zero-fills what it adds.
  if (scratch->size() < v.size() * kMaxVarintBytes) scratch->resize(v.size() * kMaxVarintBytes);
  auto* p = reinterpret_cast<unsigned char*>(scratch->data());
  unsigned char* const begin = p;
  for (const auto& x : v) p = EncodeVarint(fn(x), p);
  const auto n = static_cast<size_t>(p - begin);
  PutTag(out, field, kWireLen);
  PutVarint(out, n);
  out->append(scratch->data(), n);
}

auto AsIs = [](auto x) { return static_cast<uint64_t>(x); };

}  // namespace

StatusOr<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(const std::string& path,
                                                                 const HeaderInfo& header) {
  return Create(path, header, Options());
}

StatusOr<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(const std::string& path,
                                                                 const HeaderInfo& header,
                                                                 Options options) {
  if (path.empty()) return InvalidArgument("snapshot path is empty");
  HEAPSNAP_RETURN_IF_ERROR(CheckTarget(path));
  // A heap holds secrets: the file is the owner's only (whatever the umask, and also when it
  // replaces an older snapshot, since the rename puts this new inode in its place). The
  // temporary name is random and created exclusively (O_EXCL never follows a symlink), in the
  // target's directory so that the rename is atomic.
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return IoError(path + ": cannot create: " + std::strerror(errno));
  if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return IoError(path + ": cannot make it private (chmod 0600): " + std::strerror(error));
  }
  FILE* f = ::fdopen(fd, "wb");
  if (f == nullptr) {
    const int error = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return IoError(path + ": cannot create: " + std::strerror(error));
  }
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(path, tmp, f, options));
  HEAPSNAP_RETURN_IF_ERROR(w->WriteHeader(header));
  if (options.background) w->worker_ = std::thread([raw = w.get()] { raw->WorkerLoop(); });
  return w;
}

Status SnapshotWriter::CheckTarget(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return IoError(path + ": " + std::strerror(errno));
  }
  if (S_ISREG(st.st_mode)) return Status::Ok();
  const char* what = S_ISLNK(st.st_mode)    ? "a symbolic link"
                     : S_ISDIR(st.st_mode)  ? "a directory"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISFIFO(st.st_mode) ? "a fifo"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  return IoError(path + ": exists and is " + what +
                 "; a snapshot replaces only a regular file (choose another path)");
}

SnapshotWriter::SnapshotWriter(std::string path, std::string tmp_path, FILE* file, Options options)
    : path_(std::move(path)), tmp_path_(std::move(tmp_path)), file_(file), options_(options) {
  std::setvbuf(file_, nullptr, _IOFBF, 1 << 20);
  if (options_.objects_per_chunk == 0) options_.objects_per_chunk = 1;
  if (options_.edges_per_chunk == 0) options_.edges_per_chunk = 1;
  max_edges_per_chunk_ = static_cast<size_t>(options_.edges_per_chunk) * 4;
  cols_ = std::make_unique<ObjectColumns>();
}

SnapshotWriter::~SnapshotWriter() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  if (file_ != nullptr) std::fclose(file_);
  if (!finished_) std::remove(tmp_path_.c_str());
}

void SnapshotWriter::VarintColumn::Grow() {
  const size_t capacity = std::max<size_t>(4096, capacity_ * 2);
  std::unique_ptr<char[]> data(new char[capacity]);  // not zero-filled
  if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  capacity_ = capacity;
}

void SnapshotWriter::ObjectColumns::Clear() {
  first_index = 0;
  continued_edges = 0;
  last_continues = false;
  objects = 0;
  edges = 0;
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

// ---- the record pipeline ------------------------------------------------------------------

void SnapshotWriter::WorkerLoop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stop_ and nothing left
      job = std::move(jobs_.front());
      jobs_.pop_front();
      busy_ = true;
    }
    job();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
    }
    cv_.notify_all();
  }
}

void SnapshotWriter::Submit(std::function<void()> job) {
  if (!worker_.joinable()) {
    job();
    return;
  }
  {
    // At most a few chunks in flight: the walk waits rather than buffer the whole heap.
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [this] { return jobs_.size() < 4; });
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void SnapshotWriter::Drain() {
  if (!worker_.joinable()) return;
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

void SnapshotWriter::SubmitRecord(std::string payload) {
  Submit([this, payload = std::move(payload)] { (void)WriteRecord(payload); });
}

std::unique_ptr<SnapshotWriter::ObjectColumns> SnapshotWriter::TakeColumns() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_columns_.empty()) return std::make_unique<ObjectColumns>();
  auto c = std::move(free_columns_.back());
  free_columns_.pop_back();
  return c;
}

// Runs on the worker (or inline): the only place records reach the file.
Status SnapshotWriter::WriteRecord(std::string_view payload) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!status_.ok()) return status_;
  }
  Status error;
  if (payload.size() > kMaxRecordBytes) {
    error = Internal(path_ + ": record of " + std::to_string(payload.size()) +
                     " bytes exceeds the format's limit");
  } else {
    char frame[8];
    const auto length = static_cast<uint32_t>(payload.size());
    const uint32_t crc = Crc32c(payload.data(), payload.size());
    for (int i = 0; i < 4; ++i) {
      frame[i] = static_cast<char>(length >> (8 * i));
      frame[4 + i] = static_cast<char>(crc >> (8 * i));
    }
    if (std::fwrite(frame, 1, sizeof(frame), file_) != sizeof(frame) ||
        std::fwrite(payload.data(), 1, payload.size(), file_) != payload.size()) {
      error = IoError(path_ + ": write failed: " + std::strerror(errno));
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (!error.ok()) {
    status_ = error;
    return error;
  }
  ++records_;
  bytes_written_ += 8 + payload.size();
  return Status::Ok();
}

Status SnapshotWriter::WriteHeader(const HeaderInfo& h) {
  std::string preamble(reinterpret_cast<const char*>(kMagic), sizeof(kMagic));
  PutFixed32LE(&preamble, kFormatVersion);
  if (std::fwrite(preamble.data(), 1, preamble.size(), file_) != preamble.size()) {
    return status_ = IoError(path_ + ": write failed: " + std::strerror(errno));
  }
  bytes_written_ = preamble.size();
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
  std::string payload;
  record.SerializeToString(&payload);
  return WriteRecord(payload);
}

// ---- tables -------------------------------------------------------------------------------

StringId SnapshotWriter::InternString(std::string_view s) {
  const size_t h = std::hash<std::string_view>()(s);
  const uint64_t h32 = h;
  size_t mask = string_slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    uint32_t id = string_slots_[i];
    if (id == 0) {
      id = next_string_id_++;
      string_arena_.append(s.data(), s.size());
      string_offset_.push_back(string_arena_.size());
      string_hash_.push_back(h32);
      string_slots_[i] = id;
      if (static_cast<size_t>(next_string_id_) * 2 > string_slots_.size()) GrowStringIndex();
      return StringId(id);
    }
    if (string_hash_[id] == h32 && StringById(id) == s) return StringId(id);
  }
}

void SnapshotWriter::GrowStringIndex() {
  std::vector<uint32_t> slots(string_slots_.size() * 2, 0);
  const size_t mask = slots.size() - 1;
  for (uint32_t id = 1; id < next_string_id_; ++id) {
    size_t i = string_hash_[id] & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = id;
  }
  string_slots_ = std::move(slots);
}

TypeId SnapshotWriter::AddType(const TypeRecord& type) {
  pending_types_.push_back(type);
  return TypeId(next_type_id_++);
}

Status SnapshotWriter::FlushTables() {
  // StringChunk { repeated bytes values = 1 } in Record field 2, kept well under the limit.
  // Encoded here: the arena keeps growing on this thread.
  while (flushed_strings_ + 1 < next_string_id_) {
    std::string chunk;
    while (flushed_strings_ + 1 < next_string_id_ && chunk.size() < kMaxRecordBytes / 4) {
      std::string_view v = StringById(++flushed_strings_);
      PutTag(&chunk, 1, kWireLen);
      PutVarint(&chunk, v.size());
      chunk.append(v.data(), v.size());
    }
    std::string payload;
    PutTag(&payload, 2, kWireLen);
    PutVarint(&payload, chunk.size());
    payload.append(chunk);
    SubmitRecord(std::move(payload));
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
    pending_types_.clear();
    SubmitRecord(record.SerializeAsString());
  }
  return status();
}

// ---- objects ------------------------------------------------------------------------------

uint64_t SnapshotWriter::BeginObject(const ObjectRecord& o) {
  MaybeFlushObjects();
  ObjectColumns& c = *cols_;
  if (c.objects == 0 && c.edges == 0) {
    c.first_index = total_objects_;
    last_address_ = 0;
  }
  c.address_delta.Put(ZigZagEncode(static_cast<int64_t>(o.address - last_address_)));
  last_address_ = o.address;
  source_address_ = o.address;
  c.type_id.Put(o.type.value());
  c.size.Put(o.size);
  c.refcount.Put(o.refcount);
  c.flags.Put(o.flags);
  c.generation.Put(o.generation);
  c.edge_count.push_back(0);
  ++c.objects;
  return total_objects_++;
}

void SnapshotWriter::SetValue(std::string_view text, uint64_t full_length) {
  ObjectColumns& c = *cols_;
  c.value_object.Put(c.objects - 1);
  c.value_length.Put(full_length);
  c.value_text.append(text.data(), text.size());
  c.value_end.Put(c.value_text.size());
}

void SnapshotWriter::CommitValue(uint64_t full_length) {
  ObjectColumns& c = *cols_;
  c.value_object.Put(c.objects - 1);
  c.value_length.Put(full_length);
  c.value_end.Put(c.value_text.size());
}

void SnapshotWriter::SetName(StringId name, StringId file, uint32_t line) {
  ObjectColumns& c = *cols_;
  c.names.push_back({c.objects - 1, name.value(), file.value(), line});
}

void SnapshotWriter::MaybeFlushObjects() {
  if (cols_->objects >= options_.objects_per_chunk || cols_->edges >= options_.edges_per_chunk) {
    (void)FlushObjects();  // an error is kept in status_ and reported by Finish()
  }
}

void SnapshotWriter::SplitObjectEdges() {
  (void)FlushObjects(/*last_continues=*/true);  // an error is kept in status_
  cols_->first_index = total_objects_;
  last_address_ = 0;
}

namespace {

// ObjectChunk in wire format, field numbers as in heapsnap.proto, inside Record field 4. The
// columns are already varint-encoded: this only frames and concatenates them. The record is
// built in *buffer after a gap for its own header; returns where it starts.
std::string_view EncodeObjectChunk(const SnapshotWriter::ObjectColumns& c, std::string* buffer,
                                   std::string* scratch) {
  constexpr size_t kGap = 16;  // Record tag + chunk length, at most 1 + 10 bytes
  std::string& out = *buffer;
  out.assign(kGap, '\0');
  auto column = [&out](uint32_t field, const SnapshotWriter::VarintColumn& v) {
    if (v.size() == 0) return;
    PutTag(&out, field, kWireLen);
    PutVarint(&out, v.size());
    out.append(v.data(), v.size());
  };
  if (c.first_index != 0) {
    PutTag(&out, 1, kWireVarint);
    PutVarint(&out, c.first_index);
  }
  column(2, c.address_delta);
  column(3, c.type_id);
  column(4, c.size);
  column(5, c.refcount);
  column(6, c.flags);
  column(7, c.generation);
  PutPacked(&out, scratch, 8, c.edge_count, AsIs);
  column(9, c.edge_target_delta);
  column(10, c.edge_kind);
  column(11, c.edge_label_kind);
  column(12, c.edge_label_value);
  column(13, c.value_object);
  for (const auto& n : c.names) {
    // ObjectName { object = 1, name = 2, file = 3, line = 4 }
    std::string encoded;
    PutTag(&encoded, 1, kWireVarint);
    PutVarint(&encoded, n.object);
    PutTag(&encoded, 2, kWireVarint);
    PutVarint(&encoded, n.name);
    PutTag(&encoded, 3, kWireVarint);
    PutVarint(&encoded, n.file);
    PutTag(&encoded, 4, kWireVarint);
    PutVarint(&encoded, n.line);
    PutTag(&out, 14, kWireLen);
    PutVarint(&out, encoded.size());
    out.append(encoded);
  }
  if (c.continued_edges != 0) {
    PutTag(&out, 15, kWireVarint);
    PutVarint(&out, c.continued_edges);
  }
  if (c.last_continues) {
    PutTag(&out, 16, kWireVarint);
    PutVarint(&out, 1);
  }
  column(17, c.value_length);
  column(18, c.value_end);
  if (!c.value_text.empty()) {
    PutTag(&out, 19, kWireLen);
    PutVarint(&out, c.value_text.size());
    out.append(c.value_text);
  }
  std::string header;
  PutTag(&header, 4, kWireLen);
  PutVarint(&header, out.size() - kGap);
  const size_t start = kGap - header.size();
  std::memcpy(&out[start], header.data(), header.size());
  return std::string_view(out).substr(start);
}

}  // namespace

Status SnapshotWriter::FlushObjects(bool last_continues) {
  if (cols_->objects == 0 && cols_->edges == 0) return status();
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  cols_->last_continues = last_continues;
  std::shared_ptr<ObjectColumns> full(cols_.release());
  cols_ = TakeColumns();
  Submit([this, full] {
    (void)WriteRecord(EncodeObjectChunk(*full, &encode_buffer_, &encode_scratch_));
    full->Clear();
    std::lock_guard<std::mutex> lock(mutex_);
    free_columns_.push_back(std::make_unique<ObjectColumns>(std::move(*full)));
  });
  return status();
}

// ---- roots, fixups, trailer ----------------------------------------------------------------

Status SnapshotWriter::AddRoot(const RootRecord& root) {
  roots_.push_back(root);
  ++total_roots_;
  if (roots_.size() >= 65536) return FlushRoots();
  return status();
}

Status SnapshotWriter::FlushRoots() {
  if (roots_.empty()) return status();
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
  SubmitRecord(record.SerializeAsString());
  return status();
}

Status SnapshotWriter::AddSizeFixup(const SizeFixup& fixup) {
  fixups_.push_back(fixup);
  ++total_fixups_;
  if (fixups_.size() >= 262144) return FlushFixups();
  return status();
}

Status SnapshotWriter::FlushFixups() {
  if (fixups_.empty()) return status();
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  proto::Record record;
  auto* c = record.mutable_size_fixups();
  for (const auto& f : fixups_) {
    c->add_object_index(f.object_index);
    c->add_size(f.size);
  }
  fixups_.clear();
  SubmitRecord(record.SerializeAsString());
  return status();
}

Status SnapshotWriter::Finish() {
  if (finished_) return Internal(path_ + ": Finish() called twice");
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  HEAPSNAP_RETURN_IF_ERROR(FlushRoots());
  HEAPSNAP_RETURN_IF_ERROR(FlushFixups());
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  Drain();
  HEAPSNAP_RETURN_IF_ERROR(status());
  proto::Record record;
  auto* t = record.mutable_trailer();
  t->set_objects(total_objects_);
  t->set_edges(total_edges_);
  t->set_strings(next_string_id_ - 1);
  t->set_types(next_type_id_ - 1);
  t->set_roots(total_roots_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    t->set_records(records_);
  }
  t->set_size_fixups(total_fixups_);
  const uint64_t trailer_offset = bytes_written_;
  HEAPSNAP_RETURN_IF_ERROR(WriteRecord(record.SerializeAsString()));
  std::string footer;
  PutFixed32LE(&footer, static_cast<uint32_t>(trailer_offset));
  PutFixed32LE(&footer, static_cast<uint32_t>(trailer_offset >> 32));
  footer.append(reinterpret_cast<const char*>(kFooterMagic), sizeof(kFooterMagic));
  if (std::fwrite(footer.data(), 1, footer.size(), file_) != footer.size()) {
    return IoError(path_ + ": write failed: " + std::strerror(errno));
  }
  FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) {
    return IoError(path_ + ": write failed: " + std::strerror(errno));
  }
  // Again just before the rename: the target may have changed while the heap was written.
  HEAPSNAP_RETURN_IF_ERROR(CheckTarget(path_));
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return IoError(path_ + ": cannot rename " + tmp_path_ + " into place: " + std::strerror(errno));
  }
  finished_ = true;
  return Status::Ok();
}

}  // namespace heapsnap

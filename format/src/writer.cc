#include "heapsnap/format/writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "chunk_encoder.h"
#include "record_sink.h"
#include "string_table.h"

namespace heapsnap {

using writer_internal::RecordSink;
using writer_internal::StringTable;

// ---- the file: created private, renamed into place ----------------------------------------

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
  auto sink = std::make_unique<RecordSink>(path, f, options.background);
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(path, tmp, options, std::move(sink)));
  HEAPSNAP_RETURN_IF_ERROR(w->sink_->WritePreamble());
  HEAPSNAP_RETURN_IF_ERROR(w->sink_->WriteRecord(writer_internal::EncodeHeader(header)));
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

SnapshotWriter::SnapshotWriter(std::string path, std::string tmp_path, Options options,
                               std::unique_ptr<RecordSink> sink)
    : path_(std::move(path)),
      tmp_path_(std::move(tmp_path)),
      options_(options),
      strings_(std::make_unique<StringTable>()),
      columns_(std::make_unique<ObjectColumns>()),
      sink_(std::move(sink)) {
  if (options_.objects_per_chunk == 0) options_.objects_per_chunk = 1;
  if (options_.edges_per_chunk == 0) options_.edges_per_chunk = 1;
  max_edges_per_chunk_ = static_cast<size_t>(options_.edges_per_chunk) * 4;
}

SnapshotWriter::~SnapshotWriter() {
  sink_.reset();  // runs what is queued and closes the file
  if (!finished_) std::remove(tmp_path_.c_str());
}

Status SnapshotWriter::status() const { return sink_->status(); }

Status SnapshotWriter::Finish() {
  if (finished_) return Internal(path_ + ": Finish() called twice");
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  HEAPSNAP_RETURN_IF_ERROR(FlushRoots());
  HEAPSNAP_RETURN_IF_ERROR(FlushFixups());
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  TrailerInfo totals;
  totals.objects = total_objects_;
  totals.edges = total_edges_;
  totals.strings = strings_->size();
  totals.types = next_type_id_ - 1;
  totals.roots = total_roots_;
  totals.size_fixups = total_fixups_;
  HEAPSNAP_RETURN_IF_ERROR(sink_->Finish(totals));
  // Again just before the rename: the target may have changed while the heap was written.
  HEAPSNAP_RETURN_IF_ERROR(CheckTarget(path_));
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    return IoError(path_ + ": cannot rename " + tmp_path_ + " into place: " + std::strerror(errno));
  }
  finished_ = true;
  return Status::Ok();
}

// ---- tables -------------------------------------------------------------------------------

StringId SnapshotWriter::InternString(std::string_view s) { return StringId(strings_->Intern(s)); }

TypeId SnapshotWriter::AddType(const TypeRecord& type) {
  pending_types_.push_back(type);
  return TypeId(next_type_id_++);
}

// Strings are encoded here, not on the sink's thread: the table keeps growing on this one.
Status SnapshotWriter::FlushTables() {
  while (written_strings_ < strings_->size()) {
    sink_->SubmitRecord(writer_internal::EncodeStringChunk(*strings_, &written_strings_));
  }
  if (!pending_types_.empty()) {
    sink_->SubmitRecord(writer_internal::EncodeTypeChunk(pending_types_));
    pending_types_.clear();
  }
  return status();
}

// ---- objects ------------------------------------------------------------------------------

uint64_t SnapshotWriter::BeginObject(const ObjectRecord& o) {
  MaybeFlushObjects();
  columns_->BeginObject(o, total_objects_);
  source_address_ = o.address;
  return total_objects_++;
}

void SnapshotWriter::SetValue(std::string_view text, uint64_t full_length) {
  columns_->SetValue(text, full_length);
}

void SnapshotWriter::CommitValue(uint64_t full_length) { columns_->CommitValue(full_length); }

void SnapshotWriter::SetName(StringId name, StringId file, uint32_t line) {
  columns_->SetName(name.value(), file.value(), line);
}

void SnapshotWriter::MaybeFlushObjects() {
  if (columns_->objects >= options_.objects_per_chunk ||
      columns_->edges >= options_.edges_per_chunk) {
    (void)FlushObjects();  // an error is kept by the sink and reported by Finish()
  }
}

void SnapshotWriter::SplitObjectEdges() {
  (void)FlushObjects(/*last_continues=*/true);  // an error is kept by the sink
  columns_->first_index = total_objects_;
}

Status SnapshotWriter::FlushObjects(bool last_continues) {
  if (columns_->empty()) return status();
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  columns_->last_continues = last_continues;
  // std::function wants a copyable job: the columns ride in a shared_ptr.
  std::shared_ptr<ObjectColumns> full(columns_.release());
  columns_ = TakeColumns();
  sink_->Submit([this, full] {
    (void)sink_->WriteRecord(
        writer_internal::EncodeObjectChunk(*full, &encode_buffer_, &encode_scratch_));
    full->Clear();
    ReturnColumns(std::make_unique<ObjectColumns>(std::move(*full)));
  });
  return status();
}

std::unique_ptr<writer_internal::ObjectColumns> SnapshotWriter::TakeColumns() {
  std::lock_guard<std::mutex> lock(free_columns_mutex_);
  if (free_columns_.empty()) return std::make_unique<ObjectColumns>();
  auto c = std::move(free_columns_.back());
  free_columns_.pop_back();
  return c;
}

void SnapshotWriter::ReturnColumns(std::unique_ptr<ObjectColumns> columns) {
  std::lock_guard<std::mutex> lock(free_columns_mutex_);
  free_columns_.push_back(std::move(columns));
}

// ---- roots and size fixups -----------------------------------------------------------------

Status SnapshotWriter::AddRoot(const RootRecord& root) {
  roots_.push_back(root);
  ++total_roots_;
  if (roots_.size() >= 65536) return FlushRoots();
  return status();
}

Status SnapshotWriter::AddSizeFixup(const SizeFixup& fixup) {
  fixups_.push_back(fixup);
  ++total_fixups_;
  if (fixups_.size() >= 262144) return FlushFixups();
  return status();
}

Status SnapshotWriter::FlushRoots() {
  if (roots_.empty()) return status();
  std::string payload = writer_internal::EncodeRootChunk(roots_);
  roots_.clear();
  return SubmitAfterObjects(std::move(payload));
}

Status SnapshotWriter::FlushFixups() {
  if (fixups_.empty()) return status();
  std::string payload = writer_internal::EncodeSizeFixupChunk(fixups_);
  fixups_.clear();
  return SubmitAfterObjects(std::move(payload));
}

Status SnapshotWriter::SubmitAfterObjects(std::string payload) {
  HEAPSNAP_RETURN_IF_ERROR(FlushObjects());
  HEAPSNAP_RETURN_IF_ERROR(FlushTables());
  sink_->SubmitRecord(std::move(payload));
  return status();
}

}  // namespace heapsnap

// SnapshotWriter: streams a snapshot to disk in bounded chunks.
//
//   auto writer = SnapshotWriter::Create("app.heapsnap", header);
//   if (!writer.ok()) ...
//   SnapshotWriter& w = **writer;
//   TypeId list = w.AddType({w.InternString("list"), w.InternString("builtins.list"), ...});
//   w.BeginObject({0x7f0010, list, /*size=*/72, /*refcount=*/1, flags, generation});
//   w.AddEdge({target, EdgeKind::kTraverse, LabelKind::kIndex, 0});
//   ...
//   Status s = w.Finish();   // trailer, fsync-free close, atomic rename into place
//
// Until Finish() succeeds the data lives in "<path>.tmp-XXXXXX", a random name created
// exclusively (never through a symlink) and readable by the owner only; a writer destroyed
// without Finish() removes it, so a failed capture never leaves a half-written snapshot at
// <path>. The snapshot is created 0600 whatever the umask, also when it replaces an older
// one. A <path> that exists and is not a regular file (a device, fifo, directory or symlink)
// is refused, by Create and again by Finish, before anything is put in its place.
// The writer never calls back into its caller and allocates only C++ memory, which is what
// lets the capture module use it in the middle of a heap walk. Values are varint-encoded as
// they arrive, on the caller's thread; framing finished chunks, checksums and file writes run
// on a background thread (Options::background), so they overlap with the walk on another
// core; at most a few chunks are in flight, bounding memory.
#ifndef HEAPSNAP_FORMAT_WRITER_H_
#define HEAPSNAP_FORMAT_WRITER_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/base/status.h"
#include "heapsnap/format/internal/object_columns.h"
#include "heapsnap/format/types.h"

namespace heapsnap {
namespace writer_internal {
class RecordSink;
class StringTable;
}  // namespace writer_internal

class SnapshotWriter {
 public:
  struct Options {
    uint32_t objects_per_chunk = 16384;
    uint32_t edges_per_chunk = 65536;  // a chunk is cut at whichever limit comes first
    bool background = true;            // frame and write on a second thread
  };

  static StatusOr<std::unique_ptr<SnapshotWriter>> Create(const std::string& path,
                                                          const HeaderInfo& header);
  static StatusOr<std::unique_ptr<SnapshotWriter>> Create(const std::string& path,
                                                          const HeaderInfo& header,
                                                          Options options);
  // Ok when path does not exist or is a regular file, the targets a snapshot may replace;
  // else an error that says what it is (`heapsnap capture` checks before it runs anything).
  [[nodiscard]] static Status CheckTarget(const std::string& path);
  ~SnapshotWriter();
  // The temporary file the snapshot is written to until Finish renames it into place (and
  // which the destructor removes if Finish never succeeded).
  const std::string& temporary_path() const { return tmp_path_; }
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Returns the id of `s`, adding it to the string table the first time it is seen.
  StringId InternString(std::string_view s);
  TypeId AddType(const TypeRecord& type);

  // Objects: BeginObject, then its edges, values and names. The next BeginObject (or a root,
  // fixup or Finish) closes it. Returns the object's global index.
  uint64_t BeginObject(const ObjectRecord& object);
  __attribute__((always_inline)) void AddEdge(const EdgeRecord& edge) {
    // Split only when another edge of the same object arrives, so a chunk marked
    // last_continues is always followed by that object's remaining edges.
    if (columns_->edges >= max_edges_per_chunk_) SplitObjectEdges();
    columns_->AddEdge(edge, source_address_);
    ++total_edges_;
  }
  // Value preview and name of the object begun last.
  void SetValue(std::string_view text, uint64_t full_length);
  // SetValue without a copy: append the text to *value_buffer(), then call CommitValue with
  // the value's full length (or leave the buffer as it was to record no value).
  std::string* value_buffer() { return &columns_->value_text; }
  void CommitValue(uint64_t full_length);
  void SetName(StringId name, StringId file, uint32_t line);

  Status AddRoot(const RootRecord& root);
  Status AddSizeFixup(const SizeFixup& fixup);
  // Flushes everything, writes the trailer and renames the file into place.
  Status Finish();

  uint64_t object_count() const { return total_objects_; }
  uint64_t edge_count() const { return total_edges_; }
  // Any write error so far (checked by Finish; lets long walks stop early).
  Status status() const;

 private:
  using ObjectColumns = writer_internal::ObjectColumns;
  SnapshotWriter(std::string path, std::string tmp_path, Options options,
                 std::unique_ptr<writer_internal::RecordSink> sink);
  void MaybeFlushObjects();
  void SplitObjectEdges();
  Status FlushObjects(bool last_continues = false);
  Status FlushTables();
  Status FlushRoots();
  Status FlushFixups();
  // Roots and size fixups name objects (roots also strings): their record follows the object
  // chunk and tables written so far.
  Status SubmitAfterObjects(std::string payload);
  // Filled columns go to the sink; emptied ones come back here for the next chunk.
  std::unique_ptr<ObjectColumns> TakeColumns();
  void ReturnColumns(std::unique_ptr<ObjectColumns> columns);

  std::string path_;
  std::string tmp_path_;
  Options options_;
  bool finished_ = false;

  std::unique_ptr<writer_internal::StringTable> strings_;
  uint32_t written_strings_ = 0;  // ids up to this one are in records
  std::vector<TypeRecord> pending_types_;
  uint32_t next_type_id_ = 1;

  std::unique_ptr<ObjectColumns> columns_;
  uint64_t source_address_ = 0;  // the object whose edges are being added
  size_t max_edges_per_chunk_ = 0;
  std::mutex free_columns_mutex_;
  std::vector<std::unique_ptr<ObjectColumns>> free_columns_;
  std::string encode_buffer_;  // the sink's thread encodes object chunks into these
  std::string encode_scratch_;

  std::vector<RootRecord> roots_;
  std::vector<SizeFixup> fixups_;

  uint64_t total_objects_ = 0;
  uint64_t total_edges_ = 0;
  uint64_t total_roots_ = 0;
  uint64_t total_fixups_ = 0;
  // Last, so that it is destroyed first: its worker may still run jobs that use the above.
  std::unique_ptr<writer_internal::RecordSink> sink_;
};

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_WRITER_H_

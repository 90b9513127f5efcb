// SnapshotWriter: streams a snapshot to disk in bounded chunks.
//
//   auto writer = SnapshotWriter::Create("app.heapsnap", header);
//   if (!writer.ok()) ...
//   TypeId t = (*writer)->AddType({(*writer)->InternString("list"), ...});
//   (*writer)->BeginObject({.address = 0x7f.., .type = t, ...});
//   (*writer)->AddEdge({target, EdgeKind::kTraverse, LabelKind::kIndex, 0});
//   ...
//   Status s = (*writer)->Finish();   // trailer, fsync-free close, atomic rename into place
//
// Until Finish() succeeds the data lives in "<path>.tmp-XXXXXX", a random name created
// exclusively (never through a symlink) and readable by the owner only; a writer destroyed
// without Finish() removes it, so a failed capture never leaves a half-written snapshot at
// <path>. The snapshot is created 0600 whatever the umask, also when it replaces an older
// one. A <path> that exists and is not a regular file (a device, fifo, directory or symlink)
// is refused, by Create and again by Finish, before anything is put in its place.
// The writer never calls back into its caller and allocates only C++ memory, which is what
// lets the capture module use it in the middle of a heap walk. Encoding, checksums and file
// writes of finished chunks run on a background thread (Options::background), so they overlap
// with the walk on another core; at most a few chunks are in flight, bounding memory.
#ifndef HEAPSNAP_FORMAT_WRITER_H_
#define HEAPSNAP_FORMAT_WRITER_H_

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "heapsnap/base/status.h"
#include "heapsnap/format/types.h"

namespace heapsnap {

class SnapshotWriter {
 public:
  struct Options {
    uint32_t objects_per_chunk = 16384;
    uint32_t edges_per_chunk = 65536;  // a chunk is cut at whichever limit comes first
    bool background = true;            // encode and write on a second thread
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
    if (cols_->edges >= max_edges_per_chunk_) SplitObjectEdges();
    ObjectColumns& c = *cols_;
    // Relative to the source: objects allocated together reference each other.
    c.edge_target_delta.Put(ZigZagEncode(static_cast<int64_t>(edge.target - source_address_)));
    c.edge_kind.PutSmall(static_cast<uint8_t>(edge.kind));
    c.edge_label_kind.PutSmall(static_cast<uint8_t>(edge.label_kind));
    c.edge_label_value.Put(edge.label_value);
    if (c.edge_count.empty()) {
      ++c.continued_edges;
    } else {
      ++c.edge_count.back();
    }
    ++c.edges;
    ++total_edges_;
  }
  // Value preview and name of the object begun last.
  void SetValue(std::string_view text, uint64_t full_length);
  // SetValue without a copy: append the text to *value_buffer(), then call CommitValue with
  // the value's full length (or leave the buffer as it was to record no value).
  std::string* value_buffer() { return &cols_->value_text; }
  void CommitValue(uint64_t full_length);
  void SetName(StringId name, StringId file, uint32_t line);

  Status AddRoot(const RootRecord& root);
  Status AddSizeFixup(const SizeFixup& fixup);
  // Flushes everything, writes the trailer and renames the file into place.
  Status Finish();

  uint64_t object_count() const { return total_objects_; }
  uint64_t edge_count() const { return total_edges_; }
  // Any write error so far (checked by Finish; lets long walks stop early).
  Status status() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return status_;
  }

 private:
  SnapshotWriter(std::string path, std::string tmp_path, FILE* file, Options options);
  Status WriteRecord(std::string_view payload);
  Status WriteHeader(const HeaderInfo& header);
  void MaybeFlushObjects();
  void SplitObjectEdges();
  Status FlushObjects(bool last_continues = false);
  Status FlushTables();
  Status FlushRoots();
  Status FlushFixups();

  std::string path_;
  std::string tmp_path_;
  FILE* file_ = nullptr;
  Options options_;
  Status status_;
  bool finished_ = false;

  // The string table: each string once in an arena, found through an open-addressing index
  // (no allocation per string: a heap can hold millions of distinct dict keys).
  std::string_view StringById(uint32_t id) const {
    return std::string_view(string_arena_)
        .substr(string_offset_[id], string_offset_[id + 1] - string_offset_[id]);
  }
  void GrowStringIndex();
  std::string string_arena_;
  std::vector<uint64_t> string_offset_{0, 0};  // start of string id; one past the last
  std::vector<uint64_t> string_hash_{0};       // per id: rejects mismatches, rehashes cheaply
  std::vector<uint32_t> string_slots_ = std::vector<uint32_t>(1024, 0);  // 0 empty, else id
  uint32_t next_string_id_ = 1;
  uint32_t flushed_strings_ = 0;  // ids up to this one are written
  std::vector<TypeRecord> pending_types_;
  uint32_t next_type_id_ = 1;

 public:
  // A packed repeated varint field, encoded as values arrive: the bytes that go on the wire.
  // (Encoding here, on the producing thread, leaves the writer thread only copies, checksums
  // and writes.)
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

  // One object chunk as parallel arrays (see ObjectChunk in heapsnap.proto).
  struct ObjectColumns {
    uint64_t first_index = 0;
    uint32_t continued_edges = 0;
    bool last_continues = false;
    uint32_t objects = 0;
    uint64_t edges = 0;
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
    void Clear();
  };

 private:
  // Runs record jobs in order, on a background thread or inline.
  void Submit(std::function<void()> job);
  void Drain();
  void WorkerLoop();
  void SubmitRecord(std::string payload);
  std::unique_ptr<ObjectColumns> TakeColumns();

  std::unique_ptr<ObjectColumns> cols_;
  uint64_t last_address_ = 0;
  uint64_t source_address_ = 0;  // the object whose edges are being added
  size_t max_edges_per_chunk_ = 0;

  mutable std::mutex mutex_;  // guards status_, jobs_, free_columns_, busy_
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::unique_ptr<ObjectColumns>> free_columns_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread worker_;
  // Worker-side buffers.
  std::string encode_buffer_;
  std::string encode_scratch_;

  std::vector<RootRecord> roots_;
  std::vector<SizeFixup> fixups_;

  uint64_t total_objects_ = 0;
  uint64_t total_edges_ = 0;
  uint64_t total_roots_ = 0;
  uint64_t total_fixups_ = 0;
  uint64_t records_ = 0;
  uint64_t bytes_written_ = 0;  // file offset of the next record
};

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_WRITER_H_

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
// Until Finish() succeeds the data lives in "<path>.tmp-<pid>"; a writer destroyed without
// Finish() removes it, so a failed capture never leaves a half-written snapshot at <path>.
// The writer never calls back into its caller and allocates only C++ memory, which is what
// lets the capture module use it in the middle of a heap walk.
#ifndef HEAPSNAP_FORMAT_WRITER_H_
#define HEAPSNAP_FORMAT_WRITER_H_

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "heapsnap/format/status.h"
#include "heapsnap/format/types.h"

namespace heapsnap {

class SnapshotWriter {
 public:
  struct Options {
    uint32_t objects_per_chunk = 16384;
    uint32_t edges_per_chunk = 65536;  // a chunk is cut at whichever limit comes first
  };

  static StatusOr<std::unique_ptr<SnapshotWriter>> Create(const std::string& path,
                                                          const HeaderInfo& header);
  static StatusOr<std::unique_ptr<SnapshotWriter>> Create(const std::string& path,
                                                          const HeaderInfo& header,
                                                          Options options);
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Returns the id of `s`, adding it to the string table the first time it is seen.
  StringId InternString(std::string_view s);
  TypeId AddType(const TypeRecord& type);

  // Objects: BeginObject, then its edges, values and names. The next BeginObject (or a root,
  // fixup or Finish) closes it. Returns the object's global index.
  uint64_t BeginObject(const ObjectRecord& object);
  void AddEdge(const EdgeRecord& edge) {
    // Split only when another edge of the same object arrives, so a chunk marked
    // last_continues is always followed by that object's remaining edges.
    if (edge_kind_.size() >= max_edges_per_chunk_) SplitObjectEdges();
    int64_t delta = static_cast<int64_t>(edge.target - last_target_);
    last_target_ = edge.target;
    edge_target_delta_.push_back(delta);
    edge_kind_.push_back(static_cast<uint32_t>(edge.kind));
    edge_label_kind_.push_back(static_cast<uint32_t>(edge.label_kind));
    edge_label_value_.push_back(edge.label_value);
    if (edge_count_.empty()) {
      ++continued_edges_;
    } else {
      ++edge_count_.back();
    }
    ++total_edges_;
  }
  // Value preview and name of the object begun last.
  void SetValue(std::string_view text, uint64_t full_length);
  void SetName(StringId name, StringId file, uint32_t line);

  Status AddRoot(const RootRecord& root);
  Status AddSizeFixup(const SizeFixup& fixup);
  // Flushes everything, writes the trailer and renames the file into place.
  Status Finish();

  uint64_t object_count() const { return total_objects_; }
  uint64_t edge_count() const { return total_edges_; }
  // Any write error so far (checked by Finish; lets long walks stop early).
  const Status& status() const { return status_; }

 private:
  SnapshotWriter(std::string path, std::string tmp_path, FILE* file, Options options);
  Status WriteRecord(const std::string& payload);
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
  std::string buffer_;

  std::unordered_map<std::string, uint32_t> string_ids_;
  std::vector<std::string> pending_strings_;
  uint32_t next_string_id_ = 1;
  std::vector<TypeRecord> pending_types_;
  uint32_t next_type_id_ = 1;

  // Current object chunk, as parallel arrays (see ObjectChunk in heapsnap.proto).
  uint64_t chunk_first_index_ = 0;
  uint64_t last_address_ = 0;
  uint64_t last_target_ = 0;
  size_t max_edges_per_chunk_ = 0;
  uint32_t continued_edges_ = 0;
  std::vector<int64_t> address_delta_;
  std::vector<uint32_t> type_id_;
  std::vector<uint64_t> size_;
  std::vector<uint64_t> refcount_;
  std::vector<uint32_t> flags_;
  std::vector<uint32_t> generation_;
  std::vector<uint32_t> edge_count_;
  std::vector<int64_t> edge_target_delta_;
  std::vector<uint32_t> edge_kind_;
  std::vector<uint32_t> edge_label_kind_;
  std::vector<uint64_t> edge_label_value_;
  struct PendingValue {
    uint32_t object;
    std::string text;
    uint64_t length;
  };
  std::vector<PendingValue> values_;
  struct PendingName {
    uint32_t object;
    uint32_t name, file, line;
  };
  std::vector<PendingName> names_;

  std::vector<RootRecord> roots_;
  std::vector<SizeFixup> fixups_;

  uint64_t total_objects_ = 0;
  uint64_t total_edges_ = 0;
  uint64_t total_roots_ = 0;
  uint64_t total_fixups_ = 0;
  uint64_t records_ = 0;
};

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_WRITER_H_

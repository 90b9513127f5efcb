// SnapshotReader: reads a snapshot record by record and validates everything before handing it
// out. Snapshots are untrusted input: a corrupt, truncated, empty or foreign file gives a
// Status naming the file and the problem, never a crash or an unchecked index. It reads from a
// ByteSource: a file, or memory (the fuzz target, tests).
//
//   auto reader = SnapshotReader::Open("app.heapsnap");
//   if (!reader.ok()) return reader.status();
//   for (;;) {
//     StatusOr<SnapshotReader::Item> item = (*reader)->Next();
//     if (!item.ok()) return item.status();
//     if (*item == SnapshotReader::Item::kEnd) break;
//     if (*item == SnapshotReader::Item::kObjects) Use((*reader)->objects());
//   }
//
// Guarantees once an item is returned: every type id and string id it holds is defined, every
// enum is in range, object indices are dense and in order. Edge targets are addresses and are
// not resolved here (that needs the whole file; see analyze/snapshot.h).
#ifndef HEAPSNAP_FORMAT_READER_H_
#define HEAPSNAP_FORMAT_READER_H_

#include <memory>
#include <string>
#include <vector>

#include "heapsnap/base/status.h"
#include "heapsnap/format/byte_source.h"
#include "heapsnap/format/types.h"

namespace heapsnap {
namespace proto {  // the generated classes, seen only by reader.cc
class ObjectChunk;
class Record;
class RootChunk;
class SizeFixupChunk;
class StringChunk;
class Trailer;
class TypeChunk;
}  // namespace proto

struct ObjectBatch {
  uint64_t first_index = 0;
  // The first `continued_edges` edges belong to object first_index - 1, whose edges began in an
  // earlier batch. Edges arrive in object order, so appending them in order rebuilds every list.
  uint32_t continued_edges = 0;
  bool last_continues = false;  // the last object's edges go on in the next batch
  std::vector<ObjectRecord> objects;
  std::vector<uint32_t> edge_begin;  // objects.size() + 1 offsets into `edges`
  std::vector<EdgeRecord> edges;
  std::vector<ValueRecord> values;  // object_index is global
  std::vector<NameRecord> names;    // object_index is global
};

class SnapshotReader {
 public:
  enum class Item { kObjects, kRoots, kSizeFixups, kEnd };

  // Checks the preamble and reads the header record.
  static StatusOr<std::unique_ptr<SnapshotReader>> Open(const std::string& path);
  static StatusOr<std::unique_ptr<SnapshotReader>> Open(std::unique_ptr<ByteSource> source);
  // The trailer's totals, read through the footer without reading the records (to size arrays
  // before loading). Checked on its own; the full read checks them again against the records.
  // The member form works on an open reader before the first Next() and leaves it where it was.
  static StatusOr<TrailerInfo> PeekTrailer(const std::string& path);
  StatusOr<TrailerInfo> PeekTrailer();
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const std::string& path() const { return source_->name(); }
  // The size of what is read, 0 when unknown (a pipe).
  uint64_t source_size() const { return source_->size(); }
  const HeaderInfo& header() const { return header_; }

  // Reads up to the next object, root or size-fixup record; string and type records are
  // absorbed into the tables on the way. kEnd comes after a valid trailer at end of file.
  StatusOr<Item> Next();

  const ObjectBatch& objects() const { return objects_; }
  // Moves the current batch out (for consumers on another thread); objects() is then empty.
  ObjectBatch TakeObjects() { return std::move(objects_); }
  const std::vector<RootRecord>& roots() const { return roots_; }
  std::vector<RootRecord> TakeRoots() { return std::move(roots_); }
  std::vector<SizeFixup> TakeSizeFixups() { return std::move(fixups_); }
  const std::vector<SizeFixup>& size_fixups() const { return fixups_; }
  const TrailerInfo& trailer() const { return trailer_; }

  // Tables so far. string(StringId()) is "".
  const std::string& string(StringId id) const { return strings_[id.value()]; }
  size_t string_count() const { return strings_.size() - 1; }
  const TypeRecord& type(TypeId id) const { return types_[id.value()]; }
  size_t type_count() const { return types_.size() - 1; }
  uint64_t objects_read() const { return objects_read_; }

  // Moves the tables out (used by loaders once the file has been read to the end).
  std::vector<std::string> TakeStrings() { return std::move(strings_); }
  std::vector<TypeRecord> TakeTypes() { return std::move(types_); }

 private:
  explicit SnapshotReader(std::unique_ptr<ByteSource> source);
  Status Error(const std::string& what) const;
  // Error in the record read last: "record N: what".
  Status RecordError(const std::string& what) const;
  Status ReadRecord(std::string* payload, bool* eof);
  Status ReadHeader();

  // One per record type; Next() dispatches.
  void ReadStrings(const proto::StringChunk& chunk);
  Status ReadTypes(const proto::TypeChunk& chunk);
  Status ReadObjectChunk(const proto::ObjectChunk& chunk);
  Status ReadRoots(const proto::RootChunk& chunk);
  Status ReadSizeFixups(const proto::SizeFixupChunk& chunk);
  Status ReadTrailer(const proto::Trailer& trailer);
  // The steps of ReadObjectChunk.
  Status ValidateColumns(const proto::ObjectChunk& chunk);
  Status DecodeObjects(const proto::ObjectChunk& chunk);
  Status DecodeEdges(const proto::ObjectChunk& chunk);
  Status DecodeValues(const proto::ObjectChunk& chunk);
  Status DecodeNames(const proto::ObjectChunk& chunk);

  std::unique_ptr<ByteSource> source_;
  uint64_t offset_ = 0;
  uint64_t record_offset_ = 0;  // where the record read last began
  uint64_t records_ = 0;
  uint64_t record_index_ = 0;  // index of the record read last
  bool done_ = false;
  HeaderInfo header_;
  std::vector<std::string> strings_{std::string()};
  std::vector<TypeRecord> types_{TypeRecord()};
  uint64_t objects_read_ = 0;
  bool expect_continuation_ = false;
  uint64_t last_object_address_ = 0;  // source of continued edges
  uint64_t edges_read_ = 0;
  uint64_t roots_read_ = 0;
  uint64_t fixups_read_ = 0;
  ObjectBatch objects_;
  std::vector<RootRecord> roots_;
  std::vector<SizeFixup> fixups_;
  TrailerInfo trailer_;
  std::string payload_;
};

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_READER_H_

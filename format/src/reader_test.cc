#include "heapsnap/format/reader.h"

#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap.pb.h"
#include "heapsnap/format/crc32c.h"
#include "test_util.h"

namespace heapsnap {
namespace {

using namespace format_test;  // NOLINT: the shared test helpers

TEST(Reader, RejectsMissingEmptyAndForeignFiles) {
  Contents c;
  Status missing = ReadAll(TempPath("does-not-exist"), &c);
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  std::string empty = TempPath("empty");
  WriteFile(empty, "");
  ExpectRejected(empty, "empty file");
  std::string text = TempPath("text");
  WriteFile(text, "import gc\nprint(gc.collect())\n");
  ExpectRejected(text, "bad magic");
  std::string elf = TempPath("short");
  WriteFile(elf,
            "\x7f"
            "ELF");
  ExpectRejected(elf, "bad magic");
}

TEST(Reader, RejectsOtherVersions) {
  std::string data = ReadFile(WriteSample("version"));
  data[8] = 2;
  std::string path = TempPath("version2");
  WriteFile(path, data);
  ExpectRejected(path, "format version 2 is not supported");
}

TEST(Reader, RejectsEveryTruncation) {
  std::string data = ReadFile(WriteSample("trunc"));
  std::string path = TempPath("truncated");
  for (size_t len = 1; len < data.size(); ++len) {
    WriteFile(path, data.substr(0, len));
    Contents c;
    Status s = ReadAll(path, &c);
    ASSERT_FALSE(s.ok()) << "accepted a file cut at " << len << " of " << data.size();
    EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  }
}

TEST(Reader, RejectsEverySingleByteCorruption) {
  std::string data = ReadFile(WriteSample("flip"));
  std::string path = TempPath("flipped");
  for (size_t i = 0; i < data.size(); ++i) {
    for (unsigned char mask : {0x01, 0x80, 0xff}) {
      std::string bad = data;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      WriteFile(path, bad);
      Contents c;
      Status s = ReadAll(path, &c);
      ASSERT_FALSE(s.ok()) << "accepted a flip of byte " << i << " mask " << int(mask);
    }
  }
}

TEST(Reader, PeekTrailerReadsTheTotalsFirst) {
  auto t = SnapshotReader::PeekTrailer(WriteSample("peek"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->objects, 4u);
  EXPECT_EQ(t->edges, 6u);
  std::string path = TempPath("peek_bad");
  std::string data = ReadFile(WriteSample("peek2"));
  WriteFile(path, data.substr(0, data.size() - 3));
  EXPECT_FALSE(SnapshotReader::PeekTrailer(path).ok());
}

TEST(Reader, ReadsFromMemoryAsFromAFile) {
  const std::string path = WriteSample("memory", {}, 20);
  const std::string bytes = ReadFile(path);
  Contents from_file, from_memory;
  ASSERT_TRUE(ReadAll(path, &from_file).ok());
  Status s = ReadAll(MemorySource(bytes, "<memory>"), &from_memory);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(from_memory.objects.size(), from_file.objects.size());
  for (size_t i = 0; i < from_file.objects.size(); ++i) {
    EXPECT_EQ(from_memory.objects[i].address, from_file.objects[i].address);
    EXPECT_EQ(from_memory.edges[i].size(), from_file.edges[i].size());
  }
  EXPECT_EQ(from_memory.strings, from_file.strings);
  EXPECT_EQ(from_memory.trailer.edges, from_file.trailer.edges);
  // Errors name the memory as they name a file.
  Status cut = ReadAll(MemorySource(std::string_view(bytes).substr(0, 40), "<cut>"), &from_memory);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.message().rfind("<cut>: truncated", 0), 0u) << cut.message();
}

TEST(Reader, PeekingAtTheTrailerLeavesTheReaderWhereItWas) {
  const std::string bytes = ReadFile(WriteSample("peek_open"));
  auto reader = SnapshotReader::Open(MemorySource(bytes, "<memory>"));
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  auto totals = (*reader)->PeekTrailer();
  ASSERT_TRUE(totals.ok()) << totals.status().message();
  EXPECT_EQ(totals->objects, 4u);
  EXPECT_EQ(totals->roots, 2u);
  uint64_t objects = 0;
  for (;;) {
    auto item = (*reader)->Next();
    ASSERT_TRUE(item.ok()) << item.status().message();
    if (*item == SnapshotReader::Item::kEnd) break;
    if (*item == SnapshotReader::Item::kObjects) objects += (*reader)->objects().objects.size();
  }
  EXPECT_EQ(objects, 4u);
  EXPECT_EQ((*reader)->trailer().records, totals->records);
  // Without a footer there is nothing to peek at, but the reader opens.
  auto cut = SnapshotReader::Open(
      MemorySource(std::string_view(bytes).substr(0, bytes.size() - 3), "<cut>"));
  ASSERT_TRUE(cut.ok());
  EXPECT_FALSE((*cut)->PeekTrailer().ok());
}

TEST(Reader, RejectsTrailingData) {
  std::string path = TempPath("trailing");
  WriteFile(path, ReadFile(WriteSample("trail")) + "x");
  ExpectRejected(path, "data after the trailer");
}

// Frames records by hand, with valid checksums, to test checks beyond the checksum.
class HandMadeFile {
 public:
  HandMadeFile() {
    data_.assign(reinterpret_cast<const char*>(kMagic), sizeof(kMagic));
    PutU32(kFormatVersion);
    proto::Record header;
    header.mutable_header()->set_format_version(kFormatVersion);
    Add(header);
  }
  void Add(const proto::Record& r) { AddRaw(r.SerializeAsString()); }
  void AddRaw(const std::string& payload) {
    PutU32(static_cast<uint32_t>(payload.size()));
    PutU32(Crc32c(payload.data(), payload.size()));
    data_ += payload;
    ++records_;
  }
  void AddTrailer(uint64_t objects, uint64_t edges, uint64_t strings, uint64_t types) {
    proto::Record r;
    auto* t = r.mutable_trailer();
    t->set_objects(objects);
    t->set_edges(edges);
    t->set_strings(strings);
    t->set_types(types);
    t->set_records(records_);
    const uint64_t offset = data_.size();
    Add(r);
    PutU32(static_cast<uint32_t>(offset));
    PutU32(static_cast<uint32_t>(offset >> 32));
    data_ += "HEND";
  }
  std::string Save(const std::string& name) {
    std::string path = TempPath(name);
    WriteFile(path, data_);
    return path;
  }
  void PutU32(uint32_t v) {
    for (int i = 0; i < 4; ++i) data_.push_back(static_cast<char>(v >> (8 * i)));
  }

 private:
  std::string data_;
  uint64_t records_ = 0;
};

proto::Record OneType() {
  proto::Record r;
  auto* t = r.mutable_types()->add_types();
  t->set_name(0);
  return r;
}

proto::Record OneObject(uint32_t type, uint32_t edge_kind, uint32_t label_kind,
                        uint64_t label_value) {
  proto::Record r;
  auto* c = r.mutable_objects();
  c->add_address_delta(0x1000);
  c->add_type_id(type);
  c->add_size(16);
  c->add_refcount(1);
  c->add_flags(0);
  c->add_generation(0);
  c->add_edge_count(1);
  c->add_edge_target_delta(0x1000);
  c->add_edge_kind(edge_kind);
  c->add_edge_label_kind(label_kind);
  c->add_edge_label_value(label_value);
  return r;
}

TEST(Reader, HandMadeValidFileIsAccepted) {
  HandMadeFile f;
  f.Add(OneType());
  f.Add(OneObject(1, 1, 7, 0));
  f.AddTrailer(1, 1, 0, 1);
  Contents c;
  Status s = ReadAll(f.Save("handmade_ok"), &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.objects.size(), 1u);
}

// OneObject(1, 1, 7, 0), changed by edit.
proto::Record ObjectWith(const std::function<void(proto::ObjectChunk*)>& edit) {
  proto::Record r = OneObject(1, 1, 7, 0);
  edit(r.mutable_objects());
  return r;
}

// A file that frames and checksums every record correctly but lies in one: built by `build`
// after the header, rejected with a message containing `fragment`.
struct Corruption {
  const char* name;
  std::function<void(HandMadeFile&)> build;
  const char* fragment;
};

// One type, then `objects`.
std::function<void(HandMadeFile&)> TypeAnd(const proto::Record& objects) {
  return [objects](HandMadeFile& f) {
    f.Add(OneType());
    f.Add(objects);
  };
}

const Corruption kCorruptions[] = {
    {"bad_type", TypeAnd(OneObject(2, 1, 7, 0)), "undefined type id 2"},
    {"bad_edge_kind", TypeAnd(OneObject(1, 9, 7, 0)), "invalid kind 9"},
    {"bad_label_kind", TypeAnd(OneObject(1, 1, 40, 0)), "invalid label kind 40"},
    {"bad_label_string", TypeAnd(OneObject(1, 1, static_cast<uint32_t>(LabelKind::kAttribute), 5)),
     "undefined string id"},
    {"ragged", TypeAnd(ObjectWith([](proto::ObjectChunk* c) { c->add_size(3); })),
     "different lengths"},
    {"edge_count", TypeAnd(ObjectWith([](proto::ObjectChunk* c) { c->set_edge_count(0, 5); })),
     "edge counts"},
    {"first_index", TypeAnd(ObjectWith([](proto::ObjectChunk* c) { c->set_first_index(3); })),
     "expected 0"},
    {"trailer_count",
     [](HandMadeFile& f) {
       TypeAnd(OneObject(1, 1, 7, 0))(f);
       f.AddTrailer(2, 1, 0, 1);
     },
     "trailer counts 2 objects"},
    {"no_trailer", TypeAnd(OneObject(1, 1, 7, 0)), "without a trailer"},
    {"two_headers",
     [](HandMadeFile& f) {
       proto::Record h;
       h.mutable_header()->set_format_version(kFormatVersion);
       f.Add(h);
     },
     "a second header"},
    {"garbage_record", [](HandMadeFile& f) { f.AddRaw("\xff\xff\xff"); }, "does not parse"},
    {"huge_record",
     [](HandMadeFile& f) {
       f.PutU32(kMaxRecordBytes + 1);
       f.PutU32(0);
     },
     "more than the format allows"},
    {"bad_root",
     [](HandMadeFile& f) {
       proto::Record r;
       r.mutable_roots()->add_roots()->set_kind(static_cast<proto::RootKind>(77));
       f.Add(r);
     },
     "invalid kind 77"},
    {"bad_fixup",
     [](HandMadeFile& f) {
       proto::Record r;
       r.mutable_size_fixups()->add_object_index(0);
       r.mutable_size_fixups()->add_size(1);
       f.Add(r);
     },
     "has not been defined"},
    {"value_bounds", TypeAnd(ObjectWith([](proto::ObjectChunk* c) {
       c->add_value_object(0);
       c->add_value_length(5);
       c->add_value_end(50);
       c->set_value_text("short");
     })),
     "value preview text out of bounds"},
    {"bad_continuation",
     TypeAnd(ObjectWith([](proto::ObjectChunk* c) { c->set_continued_edges(1); })),
     "object that ended"},
    {"dangling_continuation",
     [](HandMadeFile& f) {
       TypeAnd(ObjectWith([](proto::ObjectChunk* c) { c->set_last_continues(true); }))(f);
       f.AddTrailer(1, 1, 0, 1);
     },
     "continue past the trailer"},
    {"empty_chunk",
     [](HandMadeFile& f) {
       proto::Record r;
       r.mutable_objects();  // set, and empty
       f.Add(r);
     },
     "empty object chunk"},
    {"empty_continuation",
     [](HandMadeFile& f) {
       TypeAnd(ObjectWith([](proto::ObjectChunk* c) { c->set_last_continues(true); }))(f);
       proto::Record r;
       r.mutable_objects()->set_first_index(1);
       f.Add(r);
     },
     "empty object chunk"},
};

TEST(Reader, RejectsSemanticCorruption) {
  for (const Corruption& c : kCorruptions) {
    SCOPED_TRACE(c.name);
    HandMadeFile f;
    c.build(f);
    ExpectRejected(f.Save(c.name), c.fragment);
  }
}

}  // namespace
}  // namespace heapsnap

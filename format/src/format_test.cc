#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap.pb.h"
#include "heapsnap/format/crc32c.h"
#include "heapsnap/format/reader.h"
#include "heapsnap/format/writer.h"

namespace heapsnap {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/format_test_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The names in path's directory that start with path's last component.
std::vector<std::string> FilesStartingWith(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string prefix = slash == std::string::npos ? path : path.substr(slash + 1);
  std::vector<std::string> found;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (std::string(e->d_name).rfind(prefix, 0) == 0) found.push_back(e->d_name);
    }
    ::closedir(d);
  }
  return found;
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

HeaderInfo TestHeader() {
  HeaderInfo h;
  h.python_version = "3.12.1 (main)";
  h.python_implementation = "cpython";
  h.python_hexversion = 0x030c01f0;
  h.pid = 4242;
  h.time_unix_ns = 1234567890123;
  h.executable = "/usr/bin/python3";
  h.values = true;
  h.max_preview_bytes = 64;
  h.gc_enabled = true;
  h.gc_thresholds = {700, 10, 10};
  h.gc_counts = {5, 1, 0};
  h.gc_garbage_length = 3;
  h.reason = "dump";
  h.capture_version = "0.1.0";
  return h;
}

// Everything a reader hands out, gathered for comparison.
struct Contents {
  HeaderInfo header;
  std::vector<ObjectRecord> objects;
  std::vector<std::vector<EdgeRecord>> edges;
  std::vector<ValueRecord> values;
  std::vector<NameRecord> names;
  std::vector<RootRecord> roots;
  std::vector<SizeFixup> fixups;
  std::vector<std::string> strings;
  std::vector<TypeRecord> types;
  TrailerInfo trailer;
};

Status ReadAll(const std::string& path, Contents* out) {
  auto reader = SnapshotReader::Open(path);
  if (!reader.ok()) return reader.status();
  SnapshotReader& r = **reader;
  out->header = r.header();
  for (;;) {
    auto item = r.Next();
    if (!item.ok()) return item.status();
    if (*item == SnapshotReader::Item::kEnd) break;
    if (*item == SnapshotReader::Item::kObjects) {
      const ObjectBatch& b = r.objects();
      if (b.first_index != out->objects.size()) return Internal("bad first index");
      for (uint32_t e = 0; e < b.continued_edges; ++e) out->edges.back().push_back(b.edges[e]);
      for (size_t i = 0; i < b.objects.size(); ++i) {
        out->objects.push_back(b.objects[i]);
        out->edges.emplace_back(b.edges.begin() + b.edge_begin[i],
                                b.edges.begin() + b.edge_begin[i + 1]);
      }
      out->values.insert(out->values.end(), b.values.begin(), b.values.end());
      out->names.insert(out->names.end(), b.names.begin(), b.names.end());
    } else if (*item == SnapshotReader::Item::kRoots) {
      out->roots.insert(out->roots.end(), r.roots().begin(), r.roots().end());
    } else {
      out->fixups.insert(out->fixups.end(), r.size_fixups().begin(), r.size_fixups().end());
    }
  }
  out->trailer = r.trailer();
  out->strings = r.TakeStrings();
  out->types = r.TakeTypes();
  return Status::Ok();
}

// Writes a small snapshot with every kind of record; returns the path.
std::string WriteSample(const std::string& name, SnapshotWriter::Options options = {},
                        size_t list_items = 3) {
  std::string path = TempPath(name);
  auto w = SnapshotWriter::Create(path, TestHeader(), options);
  EXPECT_TRUE(w.ok()) << w.status().message();
  SnapshotWriter& wr = **w;
  TypeId list_t = wr.AddType(
      {wr.InternString("list"), wr.InternString("builtins.list"), 0x1000, type_flags::kGc, 40, 0});
  TypeId str_t =
      wr.AddType({wr.InternString("str"), wr.InternString("builtins.str"), 0x2000, 0, 48, 1});
  TypeId node_t =
      wr.AddType({wr.InternString("Node"), wr.InternString("app.Node"), 0x3000,
                  type_flags::kHeap | type_flags::kGc | type_flags::kHasFinalizer, 32, 0});
  // 0x7000: a list of `list_items` references to the string at 0x5000.
  wr.BeginObject({0x7000, list_t, 120, 1, object_flags::kGcTracked | object_flags::kGcType, 3});
  for (size_t i = 0; i < list_items; ++i) {
    wr.AddEdge({0x5000, EdgeKind::kTraverse, LabelKind::kIndex, i});
  }
  wr.BeginObject({0x5000, str_t, 53, list_items + 1, 0, 0});
  wr.SetValue("hello", 5);
  // Two nodes in a cycle, one with a weak edge and a closure-style label.
  wr.BeginObject({0x6000, node_t, 48, 1,
                  object_flags::kGcTracked | object_flags::kFinalized | object_flags::kGcType, 1});
  wr.AddEdge({0x6100, EdgeKind::kTraverse, LabelKind::kAttribute, wr.InternString("next").value()});
  wr.AddEdge({0x7000, EdgeKind::kWeak, LabelKind::kField, wr.InternString("referent").value()});
  wr.SetName(wr.InternString("app.Node.method"), wr.InternString("app.py"), 12);
  wr.BeginObject({0x6100, node_t, 48, 1, object_flags::kGcTracked | object_flags::kGcType, 1});
  wr.AddEdge({0x6000, EdgeKind::kTraverse, LabelKind::kDictKeyInt, ZigZagEncode(-7)});
  EXPECT_TRUE(wr.AddRoot({RootKind::kModules, 0x7000, wr.InternString("sys.modules"), 0, 0}).ok());
  EXPECT_TRUE(wr.AddRoot({RootKind::kThreadFrame, 0x6000,
                          wr.InternString("thread 'MainThread' main (app.py:3)"), 77, 1})
                  .ok());
  EXPECT_TRUE(wr.AddSizeFixup({1, 99}).ok());
  Status s = wr.Finish();
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

TEST(Crc32c, HardwareAndPortableAgree) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);  // the standard CRC-32C check value
  std::mt19937 rng(1);
  for (size_t n = 0; n < 300; ++n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(Crc32c(s.data(), s.size()), Crc32cPortable(s.data(), s.size())) << n;
  }
}

TEST(Format, RoundTripsEveryField) {
  std::string path = WriteSample("roundtrip");
  Contents c;
  Status s = ReadAll(path, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.header.python_version, "3.12.1 (main)");
  EXPECT_EQ(c.header.python_hexversion, 0x030c01f0u);
  EXPECT_EQ(c.header.pid, 4242);
  EXPECT_EQ(c.header.time_unix_ns, 1234567890123);
  EXPECT_EQ(c.header.gc_thresholds, (std::vector<int64_t>{700, 10, 10}));
  EXPECT_EQ(c.header.gc_counts, (std::vector<int64_t>{5, 1, 0}));
  EXPECT_EQ(c.header.gc_garbage_length, 3u);
  EXPECT_EQ(c.header.reason, "dump");
  EXPECT_TRUE(c.header.values);
  EXPECT_EQ(c.header.max_preview_bytes, 64u);
  ASSERT_EQ(c.objects.size(), 4u);
  EXPECT_EQ(c.objects[0].address, 0x7000u);
  EXPECT_EQ(c.objects[1].address, 0x5000u);
  EXPECT_EQ(c.objects[1].refcount, 4u);
  EXPECT_EQ(c.objects[2].flags,
            object_flags::kGcTracked | object_flags::kFinalized | object_flags::kGcType);
  EXPECT_EQ(c.objects[2].generation, 1u);
  EXPECT_EQ(c.objects[0].generation, 3u);
  ASSERT_EQ(c.edges[0].size(), 3u);
  EXPECT_EQ(c.edges[0][2].label_value, 2u);
  EXPECT_EQ(c.edges[0][2].target, 0x5000u);
  ASSERT_EQ(c.edges[2].size(), 2u);
  EXPECT_EQ(c.edges[2][1].kind, EdgeKind::kWeak);
  EXPECT_EQ(c.strings[c.edges[2][0].label_value], "next");
  EXPECT_EQ(ZigZagDecode(c.edges[3][0].label_value), -7);
  ASSERT_EQ(c.values.size(), 1u);
  EXPECT_EQ(c.values[0].object_index, 1u);
  EXPECT_EQ(c.values[0].text, "hello");
  ASSERT_EQ(c.names.size(), 1u);
  EXPECT_EQ(c.strings[c.names[0].name.value()], "app.Node.method");
  EXPECT_EQ(c.names[0].line, 12u);
  ASSERT_EQ(c.types.size(), 4u);  // slot 0 is the invalid id
  EXPECT_EQ(c.strings[c.types[3].qualname.value()], "app.Node");
  EXPECT_EQ(c.types[3].flags, type_flags::kHeap | type_flags::kGc | type_flags::kHasFinalizer);
  ASSERT_EQ(c.roots.size(), 2u);
  EXPECT_EQ(c.roots[1].kind, RootKind::kThreadFrame);
  EXPECT_EQ(c.roots[1].thread_id, 77u);
  EXPECT_EQ(c.roots[1].depth, 1u);
  ASSERT_EQ(c.fixups.size(), 1u);
  EXPECT_EQ(c.fixups[0].size, 99u);
  EXPECT_EQ(c.trailer.objects, 4u);
  EXPECT_EQ(c.trailer.edges, 6u);
}

TEST(Format, LargeObjectEdgesSpanChunks) {
  SnapshotWriter::Options small;
  small.objects_per_chunk = 2;
  small.edges_per_chunk = 3;  // a list of 50 items spans many chunks
  std::string path = WriteSample("span", small, 50);
  Contents c;
  Status s = ReadAll(path, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(c.edges[0].size(), 50u);
  for (size_t i = 0; i < 50; ++i) EXPECT_EQ(c.edges[0][i].label_value, i);
  EXPECT_EQ(c.objects[1].refcount, 51u);
  EXPECT_EQ(c.edges[3].size(), 1u);
}

TEST(Format, BackgroundAndInlineWritersProduceTheSameBytes) {
  SnapshotWriter::Options background;
  background.objects_per_chunk = 2;
  background.edges_per_chunk = 3;
  SnapshotWriter::Options inline_writer = background;
  inline_writer.background = false;
  std::string a = ReadFile(WriteSample("bg", background, 40));
  std::string b = ReadFile(WriteSample("inline", inline_writer, 40));
  ASSERT_FALSE(a.empty());
  // The header's timestamp is fixed by TestHeader, so the files must match byte for byte.
  EXPECT_EQ(a, b);
}

TEST(Format, ManyDistinctStringsRoundTrip) {
  std::string path = TempPath("strings");
  {
    auto w = SnapshotWriter::Create(path, TestHeader());
    ASSERT_TRUE(w.ok());
    SnapshotWriter& wr = **w;
    TypeId t = wr.AddType({wr.InternString("dict"), wr.InternString("dict"), 0, 0, 0, 0});
    wr.BeginObject({0x100, t, 1, 1, 0, 0});
    for (int i = 0; i < 50000; ++i) {
      StringId id = wr.InternString("key-" + std::to_string(i));
      EXPECT_EQ(wr.InternString("key-" + std::to_string(i)), id);  // interned once
      wr.AddEdge({0x100, EdgeKind::kTraverse, LabelKind::kDictKey, id.value()});
    }
    ASSERT_TRUE(wr.Finish().ok());
  }
  Contents c;
  Status s = ReadAll(path, &c);
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(c.edges[0].size(), 50000u);
  EXPECT_EQ(c.strings[c.edges[0][12345].label_value], "key-12345");
  EXPECT_EQ(c.edges[0][49999].target, 0x100u);
}

TEST(Format, WriterWithoutFinishLeavesNoFile) {
  std::string path = TempPath("unfinished");
  {
    auto w = SnapshotWriter::Create(path, TestHeader());
    ASSERT_TRUE(w.ok());
    SnapshotWriter& wr = **w;
    TypeId t = wr.AddType({wr.InternString("x"), wr.InternString("x"), 0, 0, 0, 0});
    wr.BeginObject({1, t, 1, 1, 0, 0});
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  EXPECT_EQ(FilesStartingWith(path), std::vector<std::string>{});
}

// A writer that writes one object and finishes.
Status WriteSmallSnapshot(const std::string& path) {
  auto w = SnapshotWriter::Create(path, TestHeader());
  if (!w.ok()) return w.status();
  SnapshotWriter& wr = **w;
  TypeId t = wr.AddType({wr.InternString("x"), wr.InternString("x"), 0, 0, 0, 0});
  wr.BeginObject({1, t, 1, 1, 0, 0});
  return wr.Finish();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(Format, SnapshotsAreOwnerOnlyWhateverTheUmask) {
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}, mode_t{0277}}) {
    std::string path = TempPath("mode-" + std::to_string(mask));
    const mode_t old = ::umask(mask);
    Status s = WriteSmallSnapshot(path);
    ::umask(old);
    ASSERT_TRUE(s.ok()) << s.message();
    EXPECT_EQ(ModeOf(path), 0600u) << "umask " << mask;
    std::remove(path.c_str());
  }
}

TEST(Format, ReplacingASnapshotKeepsItOwnerOnly) {
  std::string path = TempPath("replaced");
  WriteFile(path, "an older file");
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  const mode_t old = ::umask(0);
  Status s = WriteSmallSnapshot(path);
  ::umask(old);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ModeOf(path), 0600u);
  Contents c;
  EXPECT_TRUE(ReadAll(path, &c).ok());
  std::remove(path.c_str());
}

TEST(Format, TheTemporaryFileIsNeverOpenedThroughALink) {
  // The old writer opened "<path>.tmp-<pid>" following symlinks: a link planted there made
  // the dump overwrite the link's target.
  std::string path = TempPath("planted");
  std::string victim = TempPath("victim");
  WriteFile(victim, "precious");
  std::string planted = path + ".tmp-" + std::to_string(getpid());
  ASSERT_EQ(::symlink(victim.c_str(), planted.c_str()), 0);
  Status s = WriteSmallSnapshot(path);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(ReadFile(victim), "precious");
  char buf[4096];
  ssize_t n = ::readlink(planted.c_str(), buf, sizeof(buf));
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), victim);
  Contents c;
  EXPECT_TRUE(ReadAll(path, &c).ok());
  for (const std::string& p : {path, victim, planted}) std::remove(p.c_str());
}

TEST(Format, RefusesTargetsThatAreNotRegularFiles) {
  std::string dir = TempPath("a-directory");
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  std::string fifo = TempPath("a-fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string target = TempPath("link-target");
  WriteFile(target, "kept");
  std::string link = TempPath("a-link");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  struct Case {
    std::string path, what;
  };
  for (const Case& c : std::vector<Case>{{"/dev/null", "a character device"},
                                         {dir, "a directory"},
                                         {fifo, "a fifo"},
                                         {link, "a symbolic link"}}) {
    struct stat before {};
    ASSERT_EQ(::lstat(c.path.c_str(), &before), 0);
    auto w = SnapshotWriter::Create(c.path, TestHeader());
    ASSERT_FALSE(w.ok()) << c.path;
    EXPECT_NE(w.status().message().find(c.path + ": exists and is " + c.what), std::string::npos)
        << w.status().message();
    struct stat after {};
    ASSERT_EQ(::lstat(c.path.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << c.path;
    EXPECT_EQ(after.st_mode, before.st_mode) << c.path;
    if (c.path != "/dev/null") {
      EXPECT_EQ(FilesStartingWith(c.path + ".tmp-"), std::vector<std::string>{}) << c.path;
    }
  }
  EXPECT_EQ(ReadFile(target), "kept");
  for (const std::string& p : {fifo, target, link}) std::remove(p.c_str());
  ::rmdir(dir.c_str());
}

TEST(Format, FinishRefusesATargetReplacedMeanwhile) {
  std::string path = TempPath("swapped");
  auto w = SnapshotWriter::Create(path, TestHeader());
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  Status s = (*w)->Finish();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exists and is a fifo"), std::string::npos) << s.message();
  w->reset();  // the writer removes its temporary file
  struct stat st {};
  ASSERT_EQ(::lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(FilesStartingWith(path + ".tmp-"), std::vector<std::string>{});
  std::remove(path.c_str());
}

TEST(Format, CreateInMissingDirectoryFails) {
  auto w = SnapshotWriter::Create("/nonexistent-dir/x.heapsnap", TestHeader());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("/nonexistent-dir/x.heapsnap"), std::string::npos);
}

void ExpectRejected(const std::string& path, const std::string& fragment) {
  Contents c;
  Status s = ReadAll(path, &c);
  ASSERT_FALSE(s.ok()) << "accepted: " << fragment;
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

TEST(Format, RejectsMissingEmptyAndForeignFiles) {
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

TEST(Format, RejectsOtherVersions) {
  std::string data = ReadFile(WriteSample("version"));
  data[8] = 2;
  std::string path = TempPath("version2");
  WriteFile(path, data);
  ExpectRejected(path, "format version 2 is not supported");
}

TEST(Format, RejectsEveryTruncation) {
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

TEST(Format, RejectsEverySingleByteCorruption) {
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

TEST(Format, PeekTrailerReadsTheTotalsFirst) {
  auto t = SnapshotReader::PeekTrailer(WriteSample("peek"));
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->objects, 4u);
  EXPECT_EQ(t->edges, 6u);
  std::string path = TempPath("peek_bad");
  std::string data = ReadFile(WriteSample("peek2"));
  WriteFile(path, data.substr(0, data.size() - 3));
  EXPECT_FALSE(SnapshotReader::PeekTrailer(path).ok());
}

TEST(Format, RejectsTrailingData) {
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

TEST(Format, HandMadeValidFileIsAccepted) {
  HandMadeFile f;
  f.Add(OneType());
  f.Add(OneObject(1, 1, 7, 0));
  f.AddTrailer(1, 1, 0, 1);
  Contents c;
  Status s = ReadAll(f.Save("handmade_ok"), &c);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(c.objects.size(), 1u);
}

TEST(Format, RejectsSemanticCorruption) {
  {
    HandMadeFile f;
    f.Add(OneType());
    f.Add(OneObject(2, 1, 7, 0));
    ExpectRejected(f.Save("bad_type"), "undefined type id 2");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    f.Add(OneObject(1, 9, 7, 0));
    ExpectRejected(f.Save("bad_edge_kind"), "invalid kind 9");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    f.Add(OneObject(1, 1, 40, 0));
    ExpectRejected(f.Save("bad_label_kind"), "invalid label kind 40");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    f.Add(OneObject(1, 1, static_cast<uint32_t>(LabelKind::kAttribute), 5));
    ExpectRejected(f.Save("bad_label_string"), "undefined string id");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    proto::Record r = OneObject(1, 1, 7, 0);
    r.mutable_objects()->add_size(3);
    f.Add(r);
    ExpectRejected(f.Save("ragged"), "different lengths");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    proto::Record r = OneObject(1, 1, 7, 0);
    r.mutable_objects()->set_edge_count(0, 5);
    f.Add(r);
    ExpectRejected(f.Save("edge_count"), "edge counts");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    proto::Record r = OneObject(1, 1, 7, 0);
    r.mutable_objects()->set_first_index(3);
    f.Add(r);
    ExpectRejected(f.Save("first_index"), "expected 0");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    f.Add(OneObject(1, 1, 7, 0));
    f.AddTrailer(2, 1, 0, 1);
    ExpectRejected(f.Save("trailer_count"), "trailer counts 2 objects");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    f.Add(OneObject(1, 1, 7, 0));
    ExpectRejected(f.Save("no_trailer"), "without a trailer");
  }
  {
    HandMadeFile f;
    proto::Record h;
    h.mutable_header()->set_format_version(kFormatVersion);
    f.Add(h);
    ExpectRejected(f.Save("two_headers"), "a second header");
  }
  {
    HandMadeFile f;
    f.AddRaw("\xff\xff\xff");
    ExpectRejected(f.Save("garbage_record"), "does not parse");
  }
  {
    HandMadeFile f;
    f.PutU32(kMaxRecordBytes + 1);
    f.PutU32(0);
    ExpectRejected(f.Save("huge_record"), "more than the format allows");
  }
  {
    HandMadeFile f;
    proto::Record r;
    auto* root = r.mutable_roots()->add_roots();
    root->set_kind(static_cast<proto::RootKind>(77));
    f.Add(r);
    ExpectRejected(f.Save("bad_root"), "invalid kind 77");
  }
  {
    HandMadeFile f;
    proto::Record r;
    r.mutable_size_fixups()->add_object_index(0);
    r.mutable_size_fixups()->add_size(1);
    f.Add(r);
    ExpectRejected(f.Save("bad_fixup"), "has not been defined");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    proto::Record r = OneObject(1, 1, 7, 0);
    r.mutable_objects()->add_value_object(0);
    r.mutable_objects()->add_value_length(5);
    r.mutable_objects()->add_value_end(50);
    r.mutable_objects()->set_value_text("short");
    f.Add(r);
    ExpectRejected(f.Save("value_bounds"), "value preview text out of bounds");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    proto::Record r = OneObject(1, 1, 7, 0);
    r.mutable_objects()->set_continued_edges(1);
    f.Add(r);
    ExpectRejected(f.Save("bad_continuation"), "object that ended");
  }
  {
    HandMadeFile f;
    f.Add(OneType());
    proto::Record r = OneObject(1, 1, 7, 0);
    r.mutable_objects()->set_last_continues(true);
    f.Add(r);
    f.AddTrailer(1, 1, 0, 1);
    ExpectRejected(f.Save("dangling_continuation"), "continue past the trailer");
  }
}

TEST(Format, FormatsLabelsAsPeopleWriteThem) {
  std::vector<std::string> strings = {"", "cache", "'ada'", "limit"};
  auto s = [&](StringId id) -> const std::string& { return strings[id.value()]; };
  EXPECT_EQ(FormatLabel(LabelKind::kAttribute, 1, s), ".cache");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKey, 2, s), "['ada']");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeyInt, ZigZagEncode(-3), s), "[-3]");
  EXPECT_EQ(FormatLabel(LabelKind::kIndex, 7, s), "[7]");
  EXPECT_EQ(FormatLabel(LabelKind::kClosureVariable, 1, s), "<closure cache>");
  EXPECT_EQ(FormatLabel(LabelKind::kParameterDefault, 3, s), "<default limit=>");
  EXPECT_EQ(FormatLabel(LabelKind::kTraverseIndex, 4, s), "<tp_traverse#4>");
  const std::string key = "'ada'";
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeyRef, ZigZagEncode(3), s, &key), "['ada']");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeySelf, 0, s, &key), "<key 'ada'>");
  EXPECT_EQ(FormatLabel(LabelKind::kDictKeyRef, ZigZagEncode(3), s), "[?]");
}

TEST(Format, EscapesBytesAsPythonShowsThem) {
  EXPECT_EQ(EscapeBytes("abc 012"), "abc 012");
  EXPECT_EQ(EscapeBytes(std::string("\x80\xff'A\\\x00z\n", 8)), "\\x80\\xff'A\\\\\\x00z\\x0a");
  EXPECT_EQ(EscapeBytes(""), "");
}

TEST(Format, QuotesKeyPreviewsAsTheCaptureQuotesKeys) {
  EXPECT_EQ(QuoteKeyPreview("ada", 3), "'ada'");
  EXPECT_EQ(QuoteKeyPreview("", 0), "''");
  EXPECT_EQ(QuoteKeyPreview("it's", 4), "'it\\'s'");
  EXPECT_EQ(QuoteKeyPreview("a\\b", 3), "'a\\\\b'");
  EXPECT_EQ(QuoteKeyPreview("line\nbreak\x7f", 11), "'line\\x0abreak\x7f'");
  // At most 80 bytes, never half a character; "..." when cut here or by the preview.
  EXPECT_EQ(QuoteKeyPreview(std::string(80, 'x'), 80), "'" + std::string(80, 'x') + "'");
  EXPECT_EQ(QuoteKeyPreview(std::string(100, 'x'), 200), "'" + std::string(80, 'x') + "...'");
  EXPECT_EQ(QuoteKeyPreview(std::string(50, 'x'), 51), "'" + std::string(50, 'x') + "...'");
  std::string wide;
  for (int i = 0; i < 30; ++i) wide += "\xe4\xb8\xad";  // U+4E2D, 3 bytes
  EXPECT_EQ(QuoteKeyPreview(wide, 30), "'" + wide.substr(0, 78) + "...'");
  std::string accents;
  for (int i = 0; i < 50; ++i) accents += "\xc3\xa9";  // U+00E9, 2 bytes
  EXPECT_EQ(QuoteKeyPreview(accents, 50), "'" + accents.substr(0, 80) + "...'");
  EXPECT_EQ(QuoteKeyPreview(accents.substr(0, 20), 10), "'" + accents.substr(0, 20) + "'");
}

}  // namespace
}  // namespace heapsnap

#include "heapsnap/format/writer.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"

namespace heapsnap {
namespace {

using namespace format_test;  // NOLINT: the shared test helpers

TEST(WriterAndReader, RoundTripEveryField) {
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

TEST(WriterAndReader, LargeObjectEdgesSpanChunks) {
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

TEST(Writer, BackgroundAndInlineWritersProduceTheSameBytes) {
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

TEST(Writer, ManyDistinctStringsRoundTrip) {
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

TEST(Writer, WriterWithoutFinishLeavesNoFile) {
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

TEST(Writer, SnapshotsAreOwnerOnlyWhateverTheUmask) {
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

TEST(Writer, ReplacingASnapshotKeepsItOwnerOnly) {
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

TEST(Writer, TheTemporaryFileIsNeverOpenedThroughALink) {
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

TEST(Writer, RefusesTargetsThatAreNotRegularFiles) {
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

TEST(Writer, FinishRefusesATargetReplacedMeanwhile) {
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

TEST(Writer, CreateInMissingDirectoryFails) {
  auto w = SnapshotWriter::Create("/nonexistent-dir/x.heapsnap", TestHeader());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("/nonexistent-dir/x.heapsnap"), std::string::npos);
}

}  // namespace
}  // namespace heapsnap

#include "heapsnap/analyze/snapshot.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::TestObject;
using testing::WriteTestSnapshot;

TEST(LoadSnapshot, ResolvesEdgesAndRoots) {
  std::string path = WriteTestSnapshot(
      "resolve",
      {{0x300, "A", 10, 1, {{0x100, EdgeKind::kTraverse}, {0x200, EdgeKind::kWeak}}},
       {0x100, "B", 20, 2, {{0x100, EdgeKind::kTraverse}}},
       {0x200, "B", 30, 5, {}}},
      {{RootKind::kModules, 0x300, StringId(), 0, 0}}, {{2, 33}});
  auto s = LoadSnapshot(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->object_count(), 3u);
  ASSERT_EQ(s->edge_count(), 3u);
  EXPECT_EQ(s->edge_begin, (std::vector<uint64_t>{0, 2, 3, 3}));
  EXPECT_EQ(s->edge_target, (std::vector<uint32_t>{1, 2, 1}));
  EXPECT_EQ(s->edge_kind[1], EdgeKind::kWeak);
  EXPECT_EQ(s->size[2], 33u);  // the fixup replaced 30
  ASSERT_EQ(s->captured_roots, 1u);
  EXPECT_EQ(s->roots[0].node.value(), 0u);
  // Derived: 0x300 (refcount 1, nothing points at it) and 0x200 (refcount 5, one weak edge).
  ASSERT_EQ(s->roots.size(), 3u);
  EXPECT_EQ(s->roots[1].kind, RootKind::kExternal);
  EXPECT_EQ(s->roots[2].count, 5u);
  EXPECT_EQ(s->FindAddress(0x200)->value(), 2u);
  EXPECT_FALSE(s->FindAddress(0x999).has_value());
  EXPECT_EQ(s->TypeName(NodeIndex(1)), "B");
  EXPECT_EQ(s->TypeQualname(NodeIndex(1)), "app.B");
  EXPECT_EQ(s->EdgeLabel(0), "[0]");
}

TEST(LoadSnapshot, LoadsFromMemoryAsFromAFile) {
  const std::string path = WriteTestSnapshot(
      "memory",
      {{0x300, "A", 10, 1, {{0x100, EdgeKind::kTraverse}, {0x200, EdgeKind::kWeak}}},
       {0x100, "B", 20, 2, {{0x100, EdgeKind::kTraverse}}},
       {0x200, "B", 30, 5, {}}},
      {{RootKind::kModules, 0x300, StringId(), 0, 0}}, {{2, 33}});
  std::string bytes;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof(buffer), f)) > 0;) bytes.append(buffer, n);
    std::fclose(f);
  }
  auto from_file = LoadSnapshot(path);
  auto from_memory = LoadSnapshot(MemorySource(bytes, "<memory>"));
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  ASSERT_TRUE(from_memory.ok()) << from_memory.status().message();
  EXPECT_EQ(from_memory->path, "<memory>");
  EXPECT_EQ(from_memory->address, from_file->address);
  EXPECT_EQ(from_memory->size, from_file->size);
  EXPECT_EQ(from_memory->edge_begin, from_file->edge_begin);
  EXPECT_EQ(from_memory->edge_target, from_file->edge_target);
  EXPECT_EQ(from_memory->roots.size(), from_file->roots.size());
  EXPECT_EQ(from_memory->strings, from_file->strings);
  auto cut =
      LoadSnapshot(MemorySource(std::string_view(bytes).substr(0, bytes.size() / 2), "<cut>"));
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().message().rfind("<cut>: ", 0), 0u) << cut.status().message();
}

// Values every later sum depends on are checked once, at load: no total can wrap and the
// collector's replay cannot overflow (two objects of 2^63 bytes made summary print 1.3 MB).
TEST(LoadSnapshot, RejectsSizesAndRefcountsNoProcessHas) {
  const uint64_t huge = uint64_t{1} << 63;
  {
    const std::string path =
        WriteTestSnapshot("huge_sizes", {{0x1000, "A", huge, 1, {}}, {0x2000, "A", huge, 1, {}}});
    auto s = LoadSnapshot(path);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("sizes add up to more than 2^56 bytes"), std::string::npos)
        << s.status().message();
    EXPECT_NE(s.status().message().find(path), std::string::npos);
  }
  {
    const std::string path =
        WriteTestSnapshot("huge_refcount", {{0x1000, "A", 16, huge, {}}, {0x2000, "A", 16, 1, {}}});
    auto s = LoadSnapshot(path);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("more than a Py_ssize_t holds"), std::string::npos)
        << s.status().message();
  }
  {
    const uint64_t big = (uint64_t{1} << 55) - 1;  // large but possible: loads, sums exact
    const std::string path =
        WriteTestSnapshot("big_sizes", {{0x1000, "A", big, 1, {}}, {0x2000, "A", big, 1, {}}});
    EXPECT_TRUE(LoadSnapshot(path).ok());
  }
}

TEST(FindReferrers, ListsEachReferenceIntoTheNodesAskedAbout) {
  const std::string path = WriteTestSnapshot(
      "referrers",
      {{0x1000, "A", 16, 0, {{0x3000, EdgeKind::kTraverse}, {0x2000, EdgeKind::kWeak}}},
       {0x2000, "A", 16, 1, {{0x3000, EdgeKind::kStrong}}},
       {0x3000, "A", 16, 2, {}}});
  auto s = LoadSnapshot(path);
  ASSERT_TRUE(s.ok()) << s.status().message();
  const auto referrers = FindReferrers(*s, {2, 0});
  ASSERT_EQ(referrers.size(), 2u);
  const std::vector<Referrer>& into_c = referrers.at(2);
  ASSERT_EQ(into_c.size(), 2u);
  EXPECT_EQ(into_c[0].source.value(), 0u);  // file order: from A first, then from B
  EXPECT_EQ(into_c[1].source.value(), 1u);
  EXPECT_EQ(s->edge_target[into_c[1].edge], 2u);
  EXPECT_TRUE(referrers.at(0).empty());  // nothing refers to the first object
}

TEST(LoadSnapshot, RejectsEdgesToMissingObjects) {
  std::string path =
      WriteTestSnapshot("dangling", {{0x300, "A", 10, 1, {{0x400, EdgeKind::kTraverse}}}});
  auto s = LoadSnapshot(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path), std::string::npos);
  EXPECT_NE(s.status().message().find("0x400, which is not in the snapshot"), std::string::npos)
      << s.status().message();
}

// A dict {"it's": 'value'} whose value edge refers to its key edge by distance `delta`; the
// key edge is labelled `key_label`.
std::string WriteKeyRefSnapshot(const std::string& name, int64_t delta, LabelKind key_label) {
  std::string path = testing::TempSnapshotPath(name);
  auto w = testing::CreateTestWriter(path);
  SnapshotWriter& wr = *w;
  TypeRecord t;
  t.name = wr.InternString("dict");
  t.qualname = t.name;
  const TypeId dict = wr.AddType(t);
  t.name = wr.InternString("str");
  t.qualname = t.name;
  const TypeId str = wr.AddType(t);
  wr.BeginObject({0x100, dict, 64, 1, object_flags::kGcTracked | object_flags::kGcType, 1});
  wr.AddEdge({0x200, EdgeKind::kTraverse, LabelKind::kDictKeyRef, ZigZagEncode(delta)});
  wr.AddEdge({0x300, EdgeKind::kStrong, key_label, 0});
  wr.BeginObject({0x200, str, 50, 1, 0, 0});
  wr.SetValue("value", 5);
  wr.BeginObject({0x300, str, 50, 1, 0, 0});
  wr.SetValue("it's", 4);
  EXPECT_TRUE(wr.Finish().ok());
  return path;
}

TEST(LoadSnapshot, RendersKeysGivenByReference) {
  auto s = LoadSnapshot(WriteKeyRefSnapshot("keyref", 1, LabelKind::kDictKeySelf));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->EdgeLabel(0), "['it\\'s']");
  EXPECT_EQ(s->EdgeLabel(1), "<key 'it\\'s'>");
  EXPECT_EQ(s->DictKeyRepr(0), "'it\\'s'");
}

TEST(LoadSnapshot, RejectsKeyReferencesOutsideTheObject) {
  for (int64_t delta : {0, 2, -1, 1000}) {
    std::string path = WriteKeyRefSnapshot("keyref_bad", delta, LabelKind::kDictKeySelf);
    auto s = LoadSnapshot(path);
    ASSERT_FALSE(s.ok()) << delta;
    EXPECT_NE(s.status().message().find(path + ": corrupt: object #0 at 0x100 has a dict key"),
              std::string::npos)
        << s.status().message();
  }
  // In range, but not a key edge.
  auto s = LoadSnapshot(WriteKeyRefSnapshot("keyref_kind", 1, LabelKind::kIndex));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("which is not one of its key edges"), std::string::npos);
}

TEST(LoadSnapshot, RejectsDuplicateAddresses) {
  std::string path = WriteTestSnapshot("dup", {{0x300, "A", 10, 1, {}}, {0x300, "A", 10, 1, {}}});
  auto s = LoadSnapshot(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("have address 0x300"), std::string::npos);
}

TEST(LoadSnapshot, RejectsRootsToMissingObjects) {
  std::string path = WriteTestSnapshot("badroot", {{0x300, "A", 10, 1, {}}},
                                       {{RootKind::kModules, 0x500, StringId(), 0, 0}});
  auto s = LoadSnapshot(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("root 'root' names 0x500"), std::string::npos);
}

TEST(ExternalReferences, CountsWhatEdgesDoNotExplain) {
  std::string path = WriteTestSnapshot(
      "external", {{0x1, "A", 8, 1, {{0x2, EdgeKind::kTraverse}, {0x3, EdgeKind::kWeak}}},
                   {0x2, "A", 8, 3, {{0x3, EdgeKind::kStrong}, {0x3, EdgeKind::kBorrowed}}},
                   {0x3, "A", 8, 1, {}},
                   {0x4, "A", 8, 0, {{0x4, EdgeKind::kTraverse}}}});
  auto s = LoadSnapshot(path);
  ASSERT_TRUE(s.ok());
  ExternalReferences ext = ComputeExternalReferences(*s);
  EXPECT_EQ(ext.count, (std::vector<uint64_t>{1, 2, 0, 0}));
  EXPECT_EQ(ext.objects, 2u);
  EXPECT_EQ(ext.total, 3u);
  EXPECT_EQ(ext.overcounted, 1u);  // 0x4: one counted edge, refcount 0
  // The loader turns them into derived EXTERNAL roots with their counts.
  ASSERT_EQ(s->captured_roots, 0u);
  ASSERT_EQ(s->roots.size(), 2u);
  EXPECT_EQ(s->roots[0].kind, RootKind::kExternal);
  EXPECT_EQ(s->roots[0].node.value(), 0u);
  EXPECT_EQ(s->roots[1].count, 2u);
  EXPECT_EQ(RootDescription(*s, s->roots[1]),
            "held from outside the traversable graph (C code, extension state) x2");
}

}  // namespace
}  // namespace heapsnap

namespace heapsnap {
namespace {

// Snapshots are untrusted: random damage must give an error or a valid snapshot, never a crash,
// a hang or an out-of-range index (run under the sanitizers, this is a small fuzzer).
TEST(LoadSnapshot, SurvivesRandomDamage) {
  std::vector<testing::TestObject> objects;
  for (uint64_t i = 0; i < 300; ++i) {
    objects.push_back({0x1000 + 16 * i,
                       i % 3 ? "A" : "B",
                       8 + i,
                       2,
                       {{0x1000 + 16 * ((i * 7) % 300), EdgeKind::kTraverse},
                        {0x1000 + 16 * ((i + 1) % 300), EdgeKind::kStrong}}});
  }
  std::string path = testing::WriteTestSnapshot("fuzz_base", objects,
                                                {{RootKind::kModules, 0x1000, StringId(), 0, 0}});
  std::string good;
  {
    FILE* f = std::fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr);
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) good.append(buf, n);
    std::fclose(f);
  }
  std::mt19937 rng(42);
  std::string damaged_path = testing::TempSnapshotPath("fuzz");
  int accepted = 0;
  for (int round = 0; round < 600; ++round) {
    std::string bad = good;
    switch (round % 4) {
      case 0:  // a few random bytes
        for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
          bad[rng() % bad.size()] = static_cast<char>(rng());
        }
        break;
      case 1:  // cut
        bad.resize(rng() % bad.size());
        break;
      case 2:  // duplicate a slice
      {
        size_t from = rng() % bad.size();
        size_t len = rng() % 64;
        bad.insert(rng() % bad.size(), bad.substr(from, len));
        break;
      }
      default:  // zero a run
      {
        size_t from = rng() % bad.size();
        for (size_t k = from; k < std::min(bad.size(), from + rng() % 32); ++k) bad[k] = 0;
      }
    }
    FILE* f = std::fopen(damaged_path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(bad.data(), 1, bad.size(), f);
    std::fclose(f);
    auto s = LoadSnapshot(damaged_path);
    if (s.ok()) {
      ++accepted;  // only possible if the damage left the bytes unchanged
      EXPECT_EQ(bad, good);
    } else {
      EXPECT_NE(s.status().message().find(damaged_path), std::string::npos);
    }
  }
  EXPECT_LT(accepted, 600);
}

}  // namespace
}  // namespace heapsnap

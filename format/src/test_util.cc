#include "test_util.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace heapsnap::format_test {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/format_test_" + std::to_string(getpid()) + "_" + name;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

namespace {

Status ReadAll(StatusOr<std::unique_ptr<SnapshotReader>> reader, Contents* out) {
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

}  // namespace

Status ReadAll(const std::string& path, Contents* out) {
  return ReadAll(SnapshotReader::Open(path), out);
}

Status ReadAll(std::unique_ptr<ByteSource> source, Contents* out) {
  return ReadAll(SnapshotReader::Open(std::move(source)), out);
}

std::string WriteSample(const std::string& name, SnapshotWriter::Options options,
                        size_t list_items) {
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

void ExpectRejected(const std::string& path, const std::string& fragment) {
  Contents c;
  Status s = ReadAll(path, &c);
  ASSERT_FALSE(s.ok()) << "accepted: " << fragment;
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(fragment), std::string::npos) << s.message();
}

}  // namespace heapsnap::format_test

// Helpers for analyze tests: small snapshots written with the real writer.
#ifndef HEAPSNAP_ANALYZE_TEST_SNAPSHOTS_H_
#define HEAPSNAP_ANALYZE_TEST_SNAPSHOTS_H_

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap/format/writer.h"

namespace heapsnap::testing {

inline std::string TempSnapshotPath(const std::string& name) {
  return ::testing::TempDir() + "/analyze_test_" + std::to_string(getpid()) + "_" + name;
}

struct TestObject {
  uint64_t address;
  const char* type;
  uint64_t size;
  uint64_t refcount;
  std::vector<std::pair<uint64_t, EdgeKind>> edges;
  uint32_t flags = object_flags::kGcTracked | object_flags::kGcType;
};

// A writer for a 3.12 snapshot at path (the test fails if it cannot be created).
inline std::unique_ptr<SnapshotWriter> CreateTestWriter(const std::string& path) {
  HeaderInfo header;
  header.python_version = "3.12.1";
  header.python_implementation = "cpython";
  auto w = SnapshotWriter::Create(path, header);
  EXPECT_TRUE(w.ok()) << w.status().message();
  return w.ok() ? std::move(*w) : nullptr;
}

inline std::string WriteTestSnapshot(const std::string& name,
                                     const std::vector<TestObject>& objects,
                                     const std::vector<RootRecord>& roots = {},
                                     const std::vector<SizeFixup>& fixups = {}) {
  std::string path = TempSnapshotPath(name);
  auto w = CreateTestWriter(path);
  SnapshotWriter& wr = *w;
  std::vector<std::pair<std::string, TypeId>> types;
  for (const TestObject& o : objects) {
    TypeId id;
    for (const auto& [n, t] : types) {
      if (n == o.type) id = t;
    }
    if (!id.valid()) {
      TypeRecord t;
      t.name = wr.InternString(o.type);
      t.qualname = wr.InternString(std::string("app.") + o.type);
      id = wr.AddType(t);
      types.emplace_back(o.type, id);
    }
    wr.BeginObject({o.address, id, o.size, o.refcount, o.flags, 1});
    uint64_t k = 0;
    for (const auto& [target, kind] : o.edges) {
      wr.AddEdge({target, kind, LabelKind::kIndex, k++});
    }
  }
  for (RootRecord r : roots) {
    if (!r.label.valid()) r.label = wr.InternString("root");
    EXPECT_TRUE(wr.AddRoot(r).ok());
  }
  for (const SizeFixup& f : fixups) EXPECT_TRUE(wr.AddSizeFixup(f).ok());
  EXPECT_TRUE(wr.Finish().ok());
  return path;
}

}  // namespace heapsnap::testing

#endif  // HEAPSNAP_ANALYZE_TEST_SNAPSHOTS_H_

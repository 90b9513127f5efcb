// Helpers for analyze tests: small snapshots written with the real writer.
#ifndef HEAPSNAP_ANALYZE_TEST_SNAPSHOTS_H_
#define HEAPSNAP_ANALYZE_TEST_SNAPSHOTS_H_

#include <unistd.h>

#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap/analyze/snapshot.h"  // Retains
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

// The type id of a type name, added to the writer the first time it is seen: `name` and
// `qualname` as the snapshot shows them.
inline TypeId TestTypeId(SnapshotWriter& wr, std::vector<std::pair<std::string, TypeId>>* types,
                         const std::string& name, const std::string& qualname) {
  for (const auto& [n, t] : *types) {
    if (n == qualname) return t;
  }
  TypeRecord t;
  t.name = wr.InternString(name);
  t.qualname = wr.InternString(qualname);
  const TypeId id = wr.AddType(t);
  types->emplace_back(qualname, id);
  return id;
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
    const TypeId id = TestTypeId(wr, &types, o.type, std::string("app.") + o.type);
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

// A heap built object by object, for tests that need labelled edges, names, values and roots
// (the detectors'). Refcounts follow from the retaining edges, plus references from outside
// where a test says so. Objects are numbered from 0 in the order added; object i is at
// address Address(i).
class TestHeap {
 public:
  static constexpr uint32_t kTracked = object_flags::kGcTracked | object_flags::kGcType;
  static uint64_t Address(uint32_t i) { return 0x10000 + 64 * uint64_t{i}; }

  // `type` may be qualified: "app.Node" is type Node, qualname app.Node; "list" is list.
  uint32_t Add(const std::string& type, uint64_t size, uint32_t flags = kTracked) {
    Object o;
    o.type = type;
    o.size = size;
    o.flags = flags;
    objects_.push_back(std::move(o));
    return static_cast<uint32_t>(objects_.size() - 1);
  }
  // An edge labelled with a string (a field, attribute, dict key repr such as "'k'", closure
  // variable, parameter or local name).
  void Edge(uint32_t from, uint32_t to, LabelKind label, const std::string& text,
            EdgeKind kind = EdgeKind::kTraverse) {
    objects_[from].edges.push_back({to, kind, label, text, 0});
    if (Retains(kind)) ++objects_[to].refcount;
  }
  // An edge labelled with a number (a list index), or unlabelled (kNone, kTraverseIndex).
  void Edge(uint32_t from, uint32_t to, LabelKind label = LabelKind::kIndex, uint64_t number = 0,
            EdgeKind kind = EdgeKind::kTraverse) {
    objects_[from].edges.push_back({to, kind, label, "", number});
    if (Retains(kind)) ++objects_[to].refcount;
  }
  // Appends `to` to the list (or tuple, set...) `from` at the next index.
  void Append(uint32_t from, uint32_t to) {
    Edge(from, to, LabelKind::kIndex, objects_[from].next_index++);
  }
  // References from outside the recorded graph (C code, or a running frame's stack).
  void AddRefs(uint32_t i, uint64_t count) { objects_[i].refcount += count; }
  void SetFlags(uint32_t i, uint32_t flags) { objects_[i].flags = flags; }
  void Name(uint32_t i, const std::string& name, const std::string& file = "", uint32_t line = 0) {
    objects_[i].name = {name, file, line};
  }
  void Value(uint32_t i, const std::string& text) { objects_[i].value = text; }
  // A root of the capture's (kModules: sys.modules, kThreadFrame, ...); holds a reference.
  void Root(RootKind kind, uint32_t i, const std::string& label) {
    roots_.push_back({kind, i, label});
    ++objects_[i].refcount;
  }

  // sys.modules[module] is a module; returns its namespace dict (module.__dict__).
  uint32_t ModuleNamespace(const std::string& module) {
    const uint32_t modules = Add("dict", 100);
    Root(RootKind::kModules, modules, "sys.modules");
    const uint32_t m = Add("module", 50);
    Edge(modules, m, LabelKind::kDictKey, "'" + module + "'");
    const uint32_t ns = Add("dict", 100);
    Edge(m, ns, LabelKind::kField, "__dict__");
    return ns;
  }

  std::string Write(const std::string& name) const {
    std::string path = TempSnapshotPath(name);
    auto w = CreateTestWriter(path);
    SnapshotWriter& wr = *w;
    std::vector<std::pair<std::string, TypeId>> types;
    for (const Object& o : objects_) {
      const size_t dot = o.type.rfind('.');
      const TypeId id = TestTypeId(
          wr, &types, dot == std::string::npos ? o.type : o.type.substr(dot + 1), o.type);
      wr.BeginObject({Address(static_cast<uint32_t>(&o - objects_.data())), id, o.size, o.refcount,
                      o.flags, 1});
      for (const EdgeSpec& e : o.edges) {
        const uint64_t value = LabelHasString(e.label) ? wr.InternString(e.text).value() : e.number;
        wr.AddEdge({Address(e.to), e.kind, e.label, value});
      }
      if (!o.value.empty()) wr.SetValue(o.value, o.value.size());
      if (!std::get<0>(o.name).empty()) {
        const std::string& file = std::get<1>(o.name);
        wr.SetName(wr.InternString(std::get<0>(o.name)),
                   file.empty() ? StringId() : wr.InternString(file), std::get<2>(o.name));
      }
    }
    for (const RootSpec& r : roots_) {
      RootRecord record;
      record.kind = r.kind;
      record.address = Address(r.object);
      record.label = wr.InternString(r.label);
      EXPECT_TRUE(wr.AddRoot(record).ok());
    }
    EXPECT_TRUE(wr.Finish().ok());
    return path;
  }

 private:
  struct EdgeSpec {
    uint32_t to;
    EdgeKind kind;
    LabelKind label;
    std::string text;
    uint64_t number;
  };
  struct Object {
    std::string type;
    uint64_t size = 0;
    uint64_t refcount = 0;
    uint32_t flags = kTracked;
    std::vector<EdgeSpec> edges;
    uint64_t next_index = 0;
    std::string value;
    std::tuple<std::string, std::string, uint32_t> name;
  };
  struct RootSpec {
    RootKind kind;
    uint32_t object;
    std::string label;
  };
  std::vector<Object> objects_;
  std::vector<RootSpec> roots_;
};

}  // namespace heapsnap::testing

#endif  // HEAPSNAP_ANALYZE_TEST_SNAPSHOTS_H_

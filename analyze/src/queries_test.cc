#include "heapsnap/analyze/queries.h"

#include <gtest/gtest.h>

#include <memory>

#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::TestHeap;

// sys.modules -> module 'app' -> its __dict__ -> a list of three Nodes (one retaining a
// bytes), a Node of another module, and a dict of one key.
struct Heap {
  TestHeap heap;
  // Objects 0, 1 and 2 are sys.modules, the module and its namespace.
  uint32_t modules = 0, module = 1, globals, list, bytes, other_node, dict;
  std::vector<uint32_t> nodes;
  Heap() {
    globals = heap.ModuleNamespace("app");
    list = heap.Add("list", 64);
    heap.Edge(globals, list, LabelKind::kDictKey, "'NODES'");
    for (uint64_t size : {48, 56, 40}) {
      nodes.push_back(heap.Add("app.Node", size));
      heap.Append(list, nodes.back());
    }
    bytes = heap.Add("bytes", 5000, 0);
    heap.Edge(nodes[1], bytes, LabelKind::kAttribute, "payload");
    other_node = heap.Add("lib.Node", 48);
    heap.Edge(globals, other_node, LabelKind::kDictKey, "'OTHER'");
    dict = heap.Add("dict", 200);
    heap.Edge(globals, dict, LabelKind::kDictKey, "'CONFIG'");
  }
};

struct Analysed {
  std::unique_ptr<Snapshot> snapshot;
  std::unique_ptr<Analysis> analysis;
  NodeIndex Node(uint32_t i) const { return *snapshot->FindAddress(TestHeap::Address(i)); }
};

Analysed Load(const Heap& h, const std::string& name) {
  Analysed a;
  auto s = LoadSnapshot(h.heap.Write(name));
  EXPECT_TRUE(s.ok()) << s.status().message();
  a.snapshot = std::make_unique<Snapshot>(std::move(s).value());
  a.analysis = std::make_unique<Analysis>(Analyze(*a.snapshot));
  return a;
}

TEST(Queries, TypeNamesAreQualifiedOrBareWhenTheyNameOneClass) {
  Heap h;
  Analysed a = Load(h, "queries_types");
  const Snapshot& s = *a.snapshot;
  auto app_nodes = ObjectsOfType(s, "app.Node");
  ASSERT_TRUE(app_nodes.ok());
  EXPECT_EQ(app_nodes->size(), 3u);
  EXPECT_EQ((*app_nodes)[0], a.Node(h.nodes[0]));
  // A builtin by its name or as builtins.X; the limit keeps the first in snapshot order.
  auto dicts = ObjectsOfType(s, "builtins.dict", 2);
  ASSERT_TRUE(dicts.ok());
  EXPECT_EQ(dicts->size(), 2u);
  auto selection = SelectType(s, "dict", 1);
  ASSERT_TRUE(selection.ok());
  EXPECT_EQ(selection->objects.size(), 1u);
  EXPECT_EQ(selection->total, 3u);
  // A bare name of two classes is refused, naming both with their counts and the file.
  auto ambiguous = MatchTypes(s, "Node");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_EQ(ambiguous.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = ambiguous.status().message();
  EXPECT_NE(message.find(s.path), std::string::npos) << message;
  EXPECT_NE(message.find("app.Node (3 objects)"), std::string::npos) << message;
  EXPECT_NE(message.find("lib.Node (1 object)"), std::string::npos) << message;
  auto none = ObjectsOfType(s, "Missing");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

TEST(Queries, RootsModulesAndNamespacesAreStructural) {
  Heap h;
  Analysed a = Load(h, "queries_structural");
  const Analysis& an = *a.analysis;
  EXPECT_TRUE(IsStructural(an, a.Node(h.modules)));
  EXPECT_TRUE(IsStructural(an, a.Node(h.module)));
  EXPECT_TRUE(IsStructural(an, a.Node(h.globals)));
  EXPECT_FALSE(IsStructural(an, a.Node(h.list)));
  EXPECT_FALSE(IsStructural(an, a.Node(h.dict)));
  const std::vector<NodeIndex> rest = AllButStructural(an);
  EXPECT_EQ(rest.size(), a.snapshot->object_count() - 3);
}

TEST(Queries, LargestObjectsAndTypesByRetainedOrSelfSize) {
  Heap h;
  Analysed a = Load(h, "queries_largest");
  const Analysis& an = *a.analysis;
  // By retained size the list (which holds the bytes) comes first, then the node with the bytes.
  std::vector<NodeIndex> top = LargestObjects(an, AllButStructural(an), Measure::kRetained, 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0], a.Node(h.list));
  EXPECT_EQ(top[1], a.Node(h.nodes[1]));
  // By self size the bytes object does.
  top = LargestObjects(an, AllObjects(*a.snapshot), Measure::kSelf, 1);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0], a.Node(h.bytes));
  // Types: app.Node retains its instances and the bytes, each once.
  auto match = MatchTypes(*a.snapshot, "app.Node");
  ASSERT_TRUE(match.ok());
  const std::vector<const TypeRetained*> types = LargestTypes(an, *match, Measure::kRetained, 5);
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0]->count, 3u);
  EXPECT_EQ(types[0]->self_bytes, 48u + 56 + 40);
  EXPECT_EQ(types[0]->retained_bytes, 48u + 56 + 40 + 5000);
  const std::vector<const TypeRetained*> all = LargestTypes(an, {}, Measure::kSelf, 1);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(a.snapshot->String(a.snapshot->types[all[0]->type.value()].qualname), "bytes");
}

static_assert(Retains(EdgeKind::kTraverse) && Retains(EdgeKind::kStrong) &&
                  !Retains(EdgeKind::kWeak) && !Retains(EdgeKind::kBorrowed),
              "traverse and strong edges retain, weak and borrowed ones do not");
static_assert(RetainingKindMask() == ((1u << 1) | (1u << 2)), "the mask is the rule's");

}  // namespace
}  // namespace heapsnap

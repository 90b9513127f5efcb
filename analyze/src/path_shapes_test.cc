#include "heapsnap/analyze/path_shapes.h"

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "heapsnap/analyze/paths.h"
#include "test_snapshots.h"

namespace heapsnap {
namespace {

// A heap built edge by edge with real labels, written with the real writer. Object 0 is the
// root (sys.modules); every object's refcount is what its edges explain, so nothing is held
// from outside and nothing is tracked (no garbage).
class Heap {
 public:
  uint32_t Add(const std::string& type, uint64_t size = 32) {
    objects_.push_back({type, size, {}});
    return static_cast<uint32_t>(objects_.size() - 1);
  }
  void Field(uint32_t from, uint32_t to, const std::string& name) {
    objects_[from].edges.push_back({to, LabelKind::kField, name, 0});
  }
  void Key(uint32_t from, uint32_t to, const std::string& key) {
    KeyRepr(from, to, "'" + key + "'");
  }
  void KeyRepr(uint32_t from, uint32_t to, const std::string& repr) {
    objects_[from].edges.push_back({to, LabelKind::kDictKey, repr, 0});
  }
  void Traverse(uint32_t from, uint32_t to, uint64_t k) {
    objects_[from].edges.push_back({to, LabelKind::kTraverseIndex, "", k});
  }
  void Index(uint32_t from, uint32_t to, uint64_t i) {
    objects_[from].edges.push_back({to, LabelKind::kIndex, "", i});
  }
  std::string Write(const std::string& name) const {
    std::string path = testing::TempSnapshotPath(name);
    auto w = testing::CreateTestWriter(path);
    std::map<std::string, TypeId> types;
    std::vector<uint64_t> refcount(objects_.size(), 0);
    for (const Object& o : objects_) {
      for (const Edge& e : o.edges) ++refcount[e.target];
    }
    for (size_t i = 0; i < objects_.size(); ++i) {
      const Object& o = objects_[i];
      auto it = types.find(o.type);
      if (it == types.end()) {
        TypeRecord t;
        t.name = w->InternString(o.type);
        t.qualname =
            w->InternString(o.type == "dict" || o.type == "list" ? o.type : "app." + o.type);
        it = types.emplace(o.type, w->AddType(t)).first;
      }
      w->BeginObject({Address(i), it->second, o.size, refcount[i], 0, kGenerationUntracked});
      for (const Edge& e : o.edges) {
        const uint64_t value = e.text.empty() ? e.number : w->InternString(e.text).value();
        w->AddEdge({Address(e.target), EdgeKind::kTraverse, e.kind, value});
      }
    }
    RootRecord root;
    root.kind = RootKind::kModules;
    root.address = Address(0);
    root.label = w->InternString("sys.modules");
    EXPECT_TRUE(w->AddRoot(root).ok());
    EXPECT_TRUE(w->Finish().ok());
    return path;
  }
  static uint64_t Address(size_t i) { return 0x10000 + 64 * i; }

 private:
  struct Edge {
    uint32_t target;
    LabelKind kind;
    std::string text;
    uint64_t number;
  };
  struct Object {
    std::string type;
    uint64_t size;
    std::vector<Edge> edges;
  };
  std::vector<Object> objects_;
};

struct Analysed {
  explicit Analysed(const std::string& path) {
    auto loaded = LoadSnapshot(path);
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    snapshot = std::move(loaded).value();
    analysis = Analyze(snapshot);
  }
  Snapshot snapshot;
  Analysis analysis;
};

std::vector<NodeIndex> OfType(const Snapshot& s, const std::string& type) {
  std::vector<NodeIndex> out;
  for (uint32_t i = 0; i < s.object_count(); ++i) {
    if (s.TypeName(NodeIndex(i)) == type) out.push_back(NodeIndex(i));
  }
  return out;
}

std::set<std::string> ShapeTexts(const Analysed& h, const PathShapes& shapes,
                                 const std::string& type) {
  std::set<std::string> texts;
  for (NodeIndex n : OfType(h.snapshot, type)) texts.insert(shapes.Text(shapes.Of(n)));
  return texts;
}

TEST(PathShapes, LinkedListFoldsToAStarAndCountsEachByteOnce) {
  const uint32_t length = 20000;
  Heap heap;
  const uint32_t modules = heap.Add("dict");
  const uint32_t list = heap.Add("LinkedList");
  heap.Key(modules, list, "chain");
  uint32_t previous = list;
  for (uint32_t i = 0; i < length; ++i) {
    const uint32_t node = heap.Add("Node", 48);
    const uint32_t payload = heap.Add("Payload", 100);
    heap.Field(previous, node, i == 0 ? "head" : "next");
    heap.Field(node, payload, "payload");
    previous = node;
  }
  Analysed h(heap.Write("linked_list"));
  const PathShapes shapes(h.analysis);
  EXPECT_EQ(
      ShapeTexts(h, shapes, "Node"),
      (std::set<std::string>{"sys.modules['chain'].head", "sys.modules['chain'].head.next*"}));
  EXPECT_EQ(ShapeTexts(h, shapes, "Payload"),
            (std::set<std::string>{"sys.modules['chain'].head.payload",
                                   "sys.modules['chain'].head.next*.payload"}));
  // Memory linear in the heap: a handful of shapes, not one per node.
  EXPECT_LT(shapes.size(), 20u);

  uint64_t total = 0;
  const std::vector<ShapeGroup> groups =
      GroupByShape(h.analysis, shapes, OfType(h.snapshot, "Node"), &total);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(total, uint64_t{length} * 148);  // every node and payload once
  EXPECT_EQ(groups[0].count, 1u);            // the head retains the most
  EXPECT_EQ(groups[0].retained_bytes, total);
  EXPECT_EQ(groups[1].count, length - 1);
  EXPECT_EQ(groups[1].retained_bytes, uint64_t{length - 1} * 148);  // once, not summed
  EXPECT_EQ(RetainedOnce(h.analysis, OfType(h.snapshot, "Node")), total);

  // The exact path of the last node reads its repeated step once, with a count.
  const RenderedPath last =
      RenderPath(h.analysis, h.analysis.PathTo(NodeIndex(2 + 2 * (length - 1))));
  EXPECT_EQ(last.text, "sys.modules['chain'].head.next{" + std::to_string(length - 1) + "}");
  EXPECT_EQ(last.steps.size(), length + 1);
}

TEST(PathShapes, ChainOfListsAndNestedTreesFold) {
  Heap heap;
  const uint32_t modules = heap.Add("dict");
  uint32_t previous = heap.Add("list");
  heap.Key(modules, previous, "lists");
  for (int i = 0; i < 1000; ++i) {
    const uint32_t next = heap.Add("list");
    heap.Index(previous, next, 0);
    previous = next;
  }
  // A JSON-like tree: {'children': [{'children': [...]}, ...]}, two steps repeated together.
  uint32_t level = heap.Add("dict");
  heap.Key(modules, level, "tree");
  for (int depth = 0; depth < 500; ++depth) {
    const uint32_t children = heap.Add("list");
    heap.Key(level, children, "children");
    uint32_t next = 0;
    for (uint64_t k = 0; k < 3; ++k) {
      const uint32_t child = heap.Add("dict");
      heap.Index(children, child, k);
      if (k == 0) next = child;
    }
    level = next;
  }
  Analysed h(heap.Write("lists_and_trees"));
  const PathShapes shapes(h.analysis);
  std::set<std::string> lists = ShapeTexts(h, shapes, "list");
  EXPECT_TRUE(lists.count("sys.modules['lists'][*]*")) << *lists.rbegin();
  EXPECT_TRUE(lists.count("sys.modules['tree'](['children'][*])*['children']"));
  const std::set<std::string> dicts = ShapeTexts(h, shapes, "dict");
  EXPECT_TRUE(dicts.count("sys.modules['tree'](['children'][*])*"));
  EXPECT_LT(lists.size() + dicts.size(), 12u);
  EXPECT_LT(shapes.size(), 30u);
}

TEST(PathShapes, KeysOfManyAlikeEntriesFoldButFewDistinctKeysStay) {
  Heap heap;
  const uint32_t modules = heap.Add("dict");
  const uint32_t sessions = heap.Add("dict");
  heap.Key(modules, sessions, "SESSIONS");
  for (int i = 0; i < 50; ++i) {
    const uint32_t session = heap.Add("Session");
    heap.Key(sessions, session, "ghp_token" + std::to_string(i));
  }
  const uint32_t config = heap.Add("dict");
  heap.Key(modules, config, "CONFIG");
  for (const char* key : {"primary", "replica", "backup"})
    heap.Key(config, heap.Add("Session"), key);
  // An instance namespace keeps its attribute names, however many there are.
  const uint32_t object = heap.Add("Settings");
  const uint32_t namespace_dict = heap.Add("dict");
  heap.Key(modules, object, "settings");
  heap.Field(object, namespace_dict, "__dict__");
  for (int i = 0; i < 20; ++i)
    heap.Key(namespace_dict, heap.Add("Session"), "attr" + std::to_string(i));
  Analysed h(heap.Write("keys"));
  const PathShapes shapes(h.analysis);
  const std::set<std::string> texts = ShapeTexts(h, shapes, "Session");
  EXPECT_TRUE(texts.count("sys.modules['SESSIONS'][*]"));
  EXPECT_TRUE(texts.count("sys.modules['CONFIG']['primary']"));
  EXPECT_TRUE(texts.count("sys.modules['settings'].attr7"));
  EXPECT_EQ(texts.size(), 1u + 3u + 20u);
  for (const std::string& t : texts) EXPECT_EQ(t.find("ghp_"), std::string::npos) << t;
}

TEST(PathShapes, DeepDistinctShapesShowTheirEndsOnly) {
  // A 2,000-deep chain of distinct attribute names: 2,000 shapes, each shown in O(1).
  Heap heap;
  const uint32_t modules = heap.Add("dict");
  uint32_t previous = heap.Add("Node");
  heap.Key(modules, previous, "root");
  for (int i = 0; i < 2000; ++i) {
    const uint32_t next = heap.Add("Node");
    heap.Field(previous, next, "f" + std::to_string(i));
    previous = next;
  }
  Analysed h(heap.Write("deep_distinct"));
  const PathShapes shapes(h.analysis);
  const std::vector<std::string> steps = shapes.Steps(shapes.Of(NodeIndex(previous)));
  ASSERT_EQ(steps.size(), 1u + 2 * PathShapes::kShownSteps + 1);
  EXPECT_EQ(steps[0], "sys.modules");
  EXPECT_EQ(steps[1], "['root']");
  EXPECT_EQ(steps[1 + PathShapes::kShownSteps], "...{" + std::to_string(2001 - 64) + " steps}...");
  EXPECT_EQ(steps.back(), ".f1999*");  // a link between two Nodes
  // Shallow shapes are whole.
  EXPECT_EQ(shapes.Text(shapes.Of(NodeIndex(3))), "sys.modules['root'].f0*.f1*");
}

TEST(PathShapes, AddressesInKeysAreNotPartOfTheShape) {
  Heap heap;
  const uint32_t modules = heap.Add("dict");
  const uint32_t caches = heap.Add("dict");
  heap.Key(modules, caches, "_caches");
  const uint32_t first = heap.Add("dict");
  const uint32_t second = heap.Add("dict");
  heap.KeyRepr(caches, first, "<function 0x7f3cfbcff1a0>");
  heap.KeyRepr(caches, second, "<function 0x7f3cfbd00b20>");
  Analysed h(heap.Write("addresses"));
  const PathShapes shapes(h.analysis);
  EXPECT_EQ(shapes.Of(NodeIndex(first)), shapes.Of(NodeIndex(second)));
  EXPECT_EQ(shapes.Text(shapes.Of(NodeIndex(first))), "sys.modules['_caches'][<function>]");
  // The exact path keeps the address.
  EXPECT_EQ(RenderPath(h.analysis, h.analysis.PathTo(NodeIndex(first))).text,
            "sys.modules['_caches'][<function 0x7f3cfbcff1a0>]");
}

TEST(Paths, LongLabelsAreCutAndLabelsNeverGlue) {
  Heap heap;
  const uint32_t modules = heap.Add("dict");
  uint32_t previous = heap.Add("Report");
  heap.Key(modules, previous, "report");
  const std::string huge(1 << 20, 'x');
  for (int i = 0; i < 400; ++i) {
    const uint32_t next = heap.Add("Report");
    heap.Field(previous, next, huge);
    previous = next;
  }
  const uint32_t leaf = heap.Add("Leaf");
  heap.Traverse(previous, leaf, 1);
  Analysed h(heap.Write("long_labels"));
  const RenderedPath path = RenderPath(h.analysis, h.analysis.PathTo(NodeIndex(previous)));
  EXPECT_LT(path.text.size(), 400u);  // one cut label and a count, not 400 MiB
  for (const RenderedStep& step : path.steps) EXPECT_LE(step.label.size(), kMaxLabelBytes + 1);
  const RenderedPath to_leaf = RenderPath(h.analysis, h.analysis.PathTo(NodeIndex(leaf)));
  EXPECT_EQ(to_leaf.steps.back().label, ".<tp_traverse#1>");
  EXPECT_EQ(CutLabel(".summary"), ".summary");
  EXPECT_EQ(CutLabel("[" + huge + "]").back(), ']');
}

}  // namespace
}  // namespace heapsnap

#include "heapsnap/export/retainer_graph.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap/analyze/analysis.h"
#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::TestHeap;

struct Analysed {
  std::unique_ptr<Snapshot> snapshot;
  std::unique_ptr<Analysis> analysis;
  NodeIndex Node(uint32_t i) const { return *snapshot->FindAddress(TestHeap::Address(i)); }
};

Analysed LoadAndAnalyze(const TestHeap& heap, const std::string& name) {
  Analysed a;
  auto s = LoadSnapshot(heap.Write(name));
  EXPECT_TRUE(s.ok()) << s.status().message();
  a.snapshot = std::make_unique<Snapshot>(s.ok() ? std::move(*s) : Snapshot());
  a.analysis = std::make_unique<Analysis>(Analyze(*a.snapshot));
  return a;
}

RetainerGraph Build(const Analysed& a, const std::vector<uint32_t>& objects,
                    const RetainerGraphOptions& options = {}) {
  std::vector<NodeIndex> targets;
  targets.reserve(objects.size());
  for (const uint32_t i : objects) targets.push_back(a.Node(i));
  StatusOr<RetainerGraph> g = BuildRetainerGraph(*a.analysis, targets, options);
  EXPECT_TRUE(g.ok()) << g.status().message();
  return g.ok() ? std::move(*g) : RetainerGraph();
}

// The node drawing heap object i, or -1.
int NodeOf(const Analysed& a, const RetainerGraph& g, uint32_t i) {
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    if (!g.nodes[k].synthetic && g.nodes[k].object == a.Node(i).value()) {
      return static_cast<int>(k);
    }
  }
  return -1;
}

std::vector<const GraphEdge*> EdgesInto(const RetainerGraph& g, int node) {
  std::vector<const GraphEdge*> out;
  for (const GraphEdge& e : g.edges) {
    if (static_cast<int>(e.to) == node) out.push_back(&e);
  }
  return out;
}

// The labels from the root down to `node`, along the shortest-path edges when there are some
// (else the alternatives'); a folded path reads with its folded steps.
std::string ShortestPath(const RetainerGraph& g, int node) {
  std::string text;
  for (size_t guard = 0; guard < g.nodes.size(); ++guard) {
    const GraphEdge* up = nullptr;
    for (const GraphEdge* e : EdgesInto(g, node)) {
      if (up == nullptr || (up->alternative && !e->alternative)) up = e;
    }
    const GraphNode& n = g.nodes[static_cast<size_t>(node)];
    if (up == nullptr) return n.root + text;
    std::string step = up->label;
    if (n.folded > 0) step += n.value;
    text.insert(0, step);
    node = static_cast<int>(up->from);
  }
  return "<cycle>";
}

// sys.modules['app'].REGISTRY['users']['ada'] is a User, whose .name is a str.
TEST(RetainerGraph, ShortestPathReadsAsPathsDo) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  const uint32_t registry = h.Add("dict", 200);
  h.Edge(ns, registry, LabelKind::kDictKey, "'REGISTRY'");
  const uint32_t users = h.Add("dict", 200);
  h.Edge(registry, users, LabelKind::kDictKey, "'users'");
  const uint32_t ada = h.Add("app.User", 48);
  h.Edge(users, ada, LabelKind::kDictKey, "'ada'");
  const uint32_t attrs = h.Add("dict", 100);
  h.Edge(ada, attrs, LabelKind::kField, "__dict__");
  const uint32_t name = h.Add("str", 60, 0);
  h.Value(name, "Ada Lovelace");
  h.Edge(attrs, name, LabelKind::kDictKey, "'name'");
  const Analysed a = LoadAndAnalyze(h, "shortest");

  const RetainerGraph g = Build(a, {name});
  ASSERT_FALSE(g.nodes.empty());
  EXPECT_TRUE(g.nodes[0].target);
  EXPECT_EQ(g.nodes[0].type, "str");
  EXPECT_EQ(g.nodes[0].value, "'Ada Lovelace'");
  EXPECT_EQ(g.nodes[0].retained_bytes, 60u);
  EXPECT_EQ(ShortestPath(g, 0), "sys.modules['app'].REGISTRY['users']['ada'].name");
  // The namespace dicts are read through (`.REGISTRY`, `.name`), not drawn.
  EXPECT_EQ(NodeOf(a, g, ns), -1);
  EXPECT_EQ(NodeOf(a, g, attrs), -1);
  const int user = NodeOf(a, g, ada);
  ASSERT_GE(user, 0);
  EXPECT_EQ(g.nodes[static_cast<size_t>(user)].type, "app.User");
  EXPECT_FALSE(g.truncated);
  // The root is drawn as one.
  int roots = 0;
  for (const GraphNode& n : g.nodes) roots += n.root.empty() ? 0 : 1;
  EXPECT_EQ(roots, 1);
}

// The target is in two module lists: the shortest path and one alternative, nothing else.
TEST(RetainerGraph, AlternativeRetainingPaths) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  const uint32_t first = h.Add("list", 80);
  h.Edge(ns, first, LabelKind::kDictKey, "'FIRST'");
  const uint32_t second = h.Add("list", 80);
  h.Edge(ns, second, LabelKind::kDictKey, "'SECOND'");
  const uint32_t target = h.Add("app.Job", 48);
  h.Append(first, target);
  h.Append(second, h.Add("app.Job", 48));
  h.Append(second, target);
  // A weak reference never retains: not an alternative.
  const uint32_t weak = h.Add("weakref.ReferenceType", 64);
  h.Edge(ns, weak, LabelKind::kDictKey, "'WEAK'");
  h.Edge(weak, target, LabelKind::kField, "__callback__", EdgeKind::kWeak);
  const Analysed a = LoadAndAnalyze(h, "alternatives");

  const RetainerGraph g = Build(a, {target});
  const std::vector<const GraphEdge*> into = EdgesInto(g, 0);
  ASSERT_EQ(into.size(), 2u);
  EXPECT_EQ(into[0]->label, "[0]");
  EXPECT_FALSE(into[0]->alternative);
  EXPECT_EQ(into[1]->label, "[1]");
  EXPECT_TRUE(into[1]->alternative);
  EXPECT_EQ(ShortestPath(g, 0), "sys.modules['app'].FIRST[0]");
  EXPECT_EQ(ShortestPath(g, static_cast<int>(into[1]->from)), "sys.modules['app'].SECOND");
  EXPECT_EQ(NodeOf(a, g, weak), -1);

  RetainerGraphOptions one;
  one.paths = 1;
  const RetainerGraph only = Build(a, {target}, one);
  // With one path, the second list is still a referrer of the target (drawn, without its path).
  const std::vector<const GraphEdge*> into_only = EdgesInto(only, 0);
  ASSERT_EQ(into_only.size(), 2u);
  EXPECT_EQ(EdgesInto(only, static_cast<int>(into_only[1]->from)).size(), 0u);
}

// A doubly linked list: the next node's .prev is a referrer of the target, but its own path goes
// through the target, so it is no alternative path from a root.
TEST(RetainerGraph, BackReferenceIsNoAlternative) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  const uint32_t first = h.Add("app.Node", 48);
  h.Edge(ns, first, LabelKind::kDictKey, "'head'");
  const uint32_t second = h.Add("app.Node", 48);
  h.Edge(first, second, LabelKind::kAttribute, "next");
  h.Edge(second, first, LabelKind::kAttribute, "prev");
  const Analysed a = LoadAndAnalyze(h, "backref");

  const RetainerGraph g = Build(a, {first});
  const int next = NodeOf(a, g, second);
  ASSERT_GE(next, 0);
  const std::vector<const GraphEdge*> into = EdgesInto(g, 0);
  ASSERT_EQ(into.size(), 2u);
  EXPECT_EQ(into[1]->label, ".prev");
  EXPECT_TRUE(into[1]->alternative);
  EXPECT_TRUE(EdgesInto(g, next).empty());  // no path drawn through the target
}

// 20 holders keep the target: the shortest path, 2 alternatives, and 17 folded into one node.
TEST(RetainerGraph, FoldsLargeFanIn) {
  for (const uint32_t holders : {20u, 5u}) {
    TestHeap h;
    const uint32_t ns = h.ModuleNamespace("app");
    const uint32_t list = h.Add("list", 80);
    h.Edge(ns, list, LabelKind::kDictKey, "'HOLDERS'");
    const uint32_t target = h.Add("bytes", 100000, 0);
    for (uint32_t i = 0; i < holders; ++i) {
      const uint32_t holder = h.Add("app.Holder", 48);
      h.Append(list, holder);
      const uint32_t attrs = h.Add("dict", 100);
      h.Edge(holder, attrs, LabelKind::kField, "__dict__");
      h.Edge(attrs, target, LabelKind::kDictKey, "'payload'");
    }
    const Analysed a = LoadAndAnalyze(h, "fanin" + std::to_string(holders));
    const RetainerGraph g = Build(a, {target});
    const std::vector<const GraphEdge*> into = EdgesInto(g, 0);
    uint64_t folded = 0;
    size_t with_path = 0;
    for (const GraphEdge* e : into) {
      EXPECT_EQ(e->label, ".payload");
      const GraphNode& from = g.nodes[e->from];
      EXPECT_EQ(from.type, "app.Holder");
      folded += from.folded;
      if (!EdgesInto(g, static_cast<int>(e->from)).empty()) ++with_path;
    }
    if (holders == 20) {
      EXPECT_EQ(into.size(), 4u);  // 3 paths and one folded node
      EXPECT_EQ(folded, 17u);
      EXPECT_EQ(with_path, 3u);
    } else {
      EXPECT_EQ(into.size(), 5u);  // few: every one drawn
      EXPECT_EQ(folded, 0u);
      EXPECT_EQ(with_path, 3u);
    }
  }
}

// A chain of 200,000 nodes: the path keeps its ends and folds the middle; the walk is linear.
TEST(RetainerGraph, LongPathFoldsItsMiddle) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  constexpr uint32_t kLength = 200000;
  uint32_t previous = h.Add("app.Node", 48);
  h.Edge(ns, previous, LabelKind::kDictKey, "'head'");
  for (uint32_t i = 1; i < kLength; ++i) {
    const uint32_t node = h.Add("app.Node", 48);
    h.Edge(previous, node, LabelKind::kAttribute, "next");
    previous = node;
  }
  const Analysed a = LoadAndAnalyze(h, "chain");
  RetainerGraphOptions options;
  options.keep_path_ends = 4;
  const auto start = std::chrono::steady_clock::now();
  const RetainerGraph g = Build(a, {previous}, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
  // 4 objects at the top (sys.modules, the module, 2 nodes), the fold, 3 above the target, the
  // target.
  EXPECT_EQ(g.nodes.size(), 9u);
  uint64_t folded = 0;
  std::string folded_steps;
  for (const GraphNode& n : g.nodes) {
    if (n.folded > 0) {
      folded = n.folded;
      folded_steps = n.value;
      EXPECT_EQ(n.type, "app.Node");
    }
  }
  EXPECT_EQ(folded, kLength - 6);  // of kLength + 2 objects on the path, 8 are drawn
  EXPECT_EQ(folded_steps, ".next{" + std::to_string(kLength - 7) + "}");
  EXPECT_EQ(ShortestPath(g, 0), "sys.modules['app'].head.next.next.next{" +
                                    std::to_string(kLength - 7) + "}.next.next.next.next");

  // A tight budget: still a path from the root, folded harder, within max_nodes.
  options.max_nodes = 5;
  const RetainerGraph small = Build(a, {previous}, options);
  EXPECT_LE(small.nodes.size(), 5u);
  EXPECT_FALSE(small.nodes[static_cast<size_t>(small.nodes.size() - 1)].root.empty());
}

// One object referred to by 300,000 entries of one dict: one folded node, found quickly.
TEST(RetainerGraph, WideFanInStaysBounded) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  const uint32_t table = h.Add("dict", 1 << 20);
  h.Edge(ns, table, LabelKind::kDictKey, "'TABLE'");
  const uint32_t shared = h.Add("app.Config", 48);
  h.Edge(ns, shared, LabelKind::kDictKey, "'CONFIG'");
  constexpr uint32_t kEntries = 300000;
  for (uint32_t i = 0; i < kEntries; ++i) {
    const uint32_t session = h.Add("app.Session", 48);
    h.Edge(table, session, LabelKind::kDictKeyInt, uint64_t{i});
    h.Edge(session, shared, LabelKind::kAttribute, "config");
  }
  const Analysed a = LoadAndAnalyze(h, "wide");
  const auto start = std::chrono::steady_clock::now();
  const RetainerGraph g = Build(a, {shared});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 2.0);
  EXPECT_LE(g.nodes.size(), 20u);
  uint64_t folded = 0;
  for (const GraphNode& n : g.nodes) folded += n.folded;
  EXPECT_EQ(folded, kEntries - 2);  // two sessions drawn as alternatives
}

// Garbage: the target hangs under the garbage pseudo-root, with the garbage that refers to it.
TEST(RetainerGraph, GarbageHangsUnderItsOwnRoot) {
  TestHeap h;
  h.ModuleNamespace("app");
  const uint32_t x = h.Add("app.Node", 48);
  const uint32_t y = h.Add("app.Node", 48);
  h.Edge(x, y, LabelKind::kAttribute, "other");
  h.Edge(y, x, LabelKind::kAttribute, "other");
  const Analysed a = LoadAndAnalyze(h, "garbage");
  const RetainerGraph g = Build(a, {x});
  ASSERT_EQ(g.nodes.size(), 3u);
  const std::vector<const GraphEdge*> into = EdgesInto(g, 0);
  ASSERT_EQ(into.size(), 2u);
  EXPECT_EQ(g.nodes[into[0]->from].root, "<unreachable garbage>");
  EXPECT_TRUE(g.nodes[into[0]->from].synthetic);
  EXPECT_EQ(static_cast<int>(into[1]->from), NodeOf(a, g, y));
  EXPECT_EQ(into[1]->label, ".other");
}

// Two targets in one dict share its path: drawn once.
TEST(RetainerGraph, TargetsSharePaths) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  const uint32_t cache = h.Add("dict", 200);
  h.Edge(ns, cache, LabelKind::kDictKey, "'CACHE'");
  const uint32_t one = h.Add("app.Entry", 48);
  const uint32_t two = h.Add("app.Entry", 48);
  h.Edge(cache, one, LabelKind::kDictKey, "'one'");
  h.Edge(cache, two, LabelKind::kDictKey, "'two'");
  const Analysed a = LoadAndAnalyze(h, "shared");
  const RetainerGraph g = Build(a, {one, two});
  ASSERT_GE(g.nodes.size(), 2u);
  EXPECT_TRUE(g.nodes[0].target);
  EXPECT_TRUE(g.nodes[1].target);
  EXPECT_EQ(g.nodes.size(), 5u);  // the two, the dict, the module, sys.modules
  EXPECT_EQ(ShortestPath(g, 1), "sys.modules['app'].CACHE['two']");
}

TEST(RetainerGraph, RefusesWhatMakesNoPicture) {
  TestHeap h;
  const uint32_t ns = h.ModuleNamespace("app");
  const Analysed a = LoadAndAnalyze(h, "refuse");
  EXPECT_FALSE(BuildRetainerGraph(*a.analysis, {}, {}).ok());
  EXPECT_FALSE(BuildRetainerGraph(*a.analysis, {NodeIndex(1000)}, {}).ok());
  RetainerGraphOptions none;
  none.paths = 0;
  EXPECT_FALSE(BuildRetainerGraph(*a.analysis, {a.Node(ns)}, none).ok());
}

}  // namespace
}  // namespace heapsnap

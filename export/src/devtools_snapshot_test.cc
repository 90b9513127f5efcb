#include "heapsnap/export/devtools_snapshot.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap/analyze/analysis.h"
#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::TestHeap;

// The parts of an exported document a test looks at: the numbers of "nodes" and "edges", the
// strings, and where each top-level key starts.
struct Parsed {
  std::vector<uint64_t> nodes;
  std::vector<uint64_t> edges;
  std::vector<std::string> strings;  // JSON literals, still escaped and quoted
  uint64_t node_count = 0;
  uint64_t edge_count = 0;

  uint64_t Node(uint64_t ordinal, int field) const {
    return nodes[ordinal * kDevToolsNodeFields + static_cast<uint64_t>(field)];
  }
  std::string String(uint64_t index) const {
    const std::string& s = strings[index];
    return s.substr(1, s.size() - 2);
  }
};

std::vector<uint64_t> NumbersOf(const std::string& json, const std::string& key) {
  const size_t start = json.find("\"" + key + "\":[");
  EXPECT_NE(start, std::string::npos) << key;
  std::vector<uint64_t> numbers;
  size_t i = json.find('[', start) + 1;
  const size_t end = json.find(']', i);
  while (i < end) {
    while (i < end && (json[i] < '0' || json[i] > '9')) ++i;
    if (i == end) break;
    uint64_t v = 0;
    while (json[i] >= '0' && json[i] <= '9') v = v * 10 + static_cast<uint64_t>(json[i++] - '0');
    numbers.push_back(v);
  }
  return numbers;
}

uint64_t NumberAfter(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  EXPECT_NE(at, std::string::npos) << key;
  return std::stoull(json.substr(at + key.size() + 3));
}

Parsed Parse(const std::string& json) {
  Parsed p;
  p.nodes = NumbersOf(json, "nodes");
  p.edges = NumbersOf(json, "edges");
  p.node_count = NumberAfter(json, "node_count");
  p.edge_count = NumberAfter(json, "edge_count");
  size_t i = json.find("\"strings\":[") + 11;
  while (json[i] == '"') {
    size_t j = i + 1;
    while (json[j] != '"') j += json[j] == '\\' ? 2 : 1;
    p.strings.push_back(json.substr(i, j + 1 - i));
    i = j + 1;
    while (json[i] == ',' || json[i] == '\n') ++i;
  }
  EXPECT_EQ(json.substr(i), "]}\n");
  return p;
}

// A small heap with every kind of reference: sys.modules -> module -> namespace holding a
// list (elements), an instance (attributes), a closure (cell variable), a weak reference, and
// an unreachable cycle.
struct Fixture {
  TestHeap heap;
  uint32_t ns, list, item0, item1, obj, value, func, cell, captured, weakref, cycle_a, cycle_b;
  Fixture() {
    ns = heap.ModuleNamespace("app");
    list = heap.Add("list", 56);
    heap.Edge(ns, list, LabelKind::kDictKey, "'ITEMS'");
    item0 = heap.Add("str", 60, 0);
    heap.Value(item0, "caf\xc3\xa9 \"quoted\"");
    item1 = heap.Add("int", 28, 0);
    heap.Value(item1, "123");
    heap.Append(list, item0);
    heap.Append(list, item1);
    obj = heap.Add("app.Order", 48);
    heap.Edge(ns, obj, LabelKind::kDictKey, "'ORDER'");
    value = heap.Add("bytes", 5000, 0);
    heap.Edge(obj, value, LabelKind::kAttribute, "payload");
    func = heap.Add("function", 136);
    heap.Name(func, "make.<locals>.notify", "app.py", 7);
    heap.Edge(ns, func, LabelKind::kDictKey, "'notify'");
    cell = heap.Add("cell", 40);
    heap.Edge(func, cell, LabelKind::kField, "__closure__");
    captured = heap.Add("bytearray", 3000);
    heap.Edge(cell, captured, LabelKind::kClosureVariable, "payload");
    weakref = heap.Add("weakref.ReferenceType", 80);
    heap.Edge(ns, weakref, LabelKind::kDictKey, "'REF'");
    heap.Edge(weakref, value, LabelKind::kField, "__callback__", EdgeKind::kWeak);
    cycle_a = heap.Add("app.Node", 48);
    cycle_b = heap.Add("app.Node", 48);
    heap.Edge(cycle_a, cycle_b, LabelKind::kAttribute, "next");
    heap.Edge(cycle_b, cycle_a, LabelKind::kAttribute, "prev");
  }
};

struct Exported {
  Snapshot snapshot;
  std::optional<Analysis> analysis;
  std::string json;
  Parsed parsed;
};

std::unique_ptr<Exported> Export(const TestHeap& heap, const std::string& name) {
  auto e = std::make_unique<Exported>();
  auto snap = LoadSnapshot(heap.Write(name));
  EXPECT_TRUE(snap.ok()) << snap.status().message();
  e->snapshot = std::move(*snap);
  e->analysis = Analyze(e->snapshot);
  StringJsonSink sink;
  auto stats = WriteDevToolsSnapshot(*e->analysis, sink);
  EXPECT_TRUE(stats.ok()) << stats.status().message();
  e->json = sink.text;
  e->parsed = Parse(e->json);
  return e;
}

TEST(DevToolsJsonString, EscapesAsV8) {
  EXPECT_EQ(DevToolsJsonString("plain"), "\"plain\"");
  EXPECT_EQ(DevToolsJsonString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(DevToolsJsonString("l1\nl2\t\r"), "\"l1\\nl2\\t\\r\"");
  EXPECT_EQ(DevToolsJsonString(std::string("\x01\x7f", 2)), "\"\\u0001\\u007f\"");
  EXPECT_EQ(DevToolsJsonString("caf\xc3\xa9"), "\"caf\\u00e9\"");           // non-ASCII as \u
  EXPECT_EQ(DevToolsJsonString("\xe2\x82\xac"), "\"\\u20ac\"");             // euro sign
  EXPECT_EQ(DevToolsJsonString("\xf0\x9f\x98\x80"), "\"\\ud83d\\ude00\"");  // surrogate pair
  EXPECT_EQ(DevToolsJsonString("a\xff"
                               "b"),
            "\"a\\ufffdb\"");                                                  // not UTF-8
  EXPECT_EQ(DevToolsJsonString("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a surrogate
}

TEST(DevToolsJsonString, CutsAtCodePoints) {
  EXPECT_EQ(DevToolsJsonString("abcdef", 3), "\"abc\"");
  EXPECT_EQ(DevToolsJsonString("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\"\\u00e9\\u00e9\"");
  EXPECT_EQ(DevToolsJsonString(std::string(5000, 'x')).size(), 1024u + 2);
}

TEST(DevToolsSnapshot, KeysInV8OrderWithStringsLast) {
  Fixture f;
  auto e = Export(f.heap, "keys");
  const std::string& j = e->json;
  const char* keys[] = {"\"snapshot\":{\"meta\":{\"node_fields\":",
                        "\"node_types\":",
                        "\"edge_fields\":",
                        "\"edge_types\":",
                        "\"trace_function_info_fields\":",
                        "\"trace_node_fields\":",
                        "\"sample_fields\":",
                        "\"location_fields\":",
                        "\"node_count\":",
                        "\"edge_count\":",
                        "\"trace_function_count\":0}",
                        "\"nodes\":[",
                        "\"edges\":[",
                        "\"trace_function_infos\":[]",
                        "\"trace_tree\":[]",
                        "\"samples\":[]",
                        "\"locations\":[]",
                        "\"strings\":[\"<dummy>\""};
  size_t last = 0;
  for (const char* k : keys) {
    const size_t at = j.find(k);
    ASSERT_NE(at, std::string::npos) << k;
    EXPECT_GT(at, last) << k << " out of order";
    last = at;
  }
  EXPECT_EQ(j.rfind("\"strings\""), last);  // nothing after the strings but their end
  EXPECT_NE(j.find(R"("node_fields":["type","name","id","self_size","edge_count",)"
                   R"("trace_node_id","detachedness"])"),
            std::string::npos);
  EXPECT_NE(j.find(R"("edge_types":[["context","element","property","internal","hidden",)"
                   R"("shortcut","weak"],"string_or_number","node"])"),
            std::string::npos);
  for (char c : j) EXPECT_TRUE(static_cast<unsigned char>(c) < 0x80) << "non-ASCII output";
}

TEST(DevToolsSnapshot, DenseOddIdsRootFirstAndConsistentCounts) {
  Fixture f;
  auto e = Export(f.heap, "ids");
  const Parsed& p = e->parsed;
  ASSERT_EQ(p.nodes.size(), p.node_count * kDevToolsNodeFields);
  ASSERT_EQ(p.edges.size(), p.edge_count * kDevToolsEdgeFields);
  const uint64_t objects = e->snapshot.object_count();
  // root, (GC roots), (modules), (unreachable garbage)
  ASSERT_EQ(p.node_count, objects + 4);
  EXPECT_EQ(p.String(p.Node(0, 1)), "");
  EXPECT_EQ(p.Node(0, 0), 9u);  // synthetic
  EXPECT_EQ(p.String(p.Node(1, 1)), "(GC roots)");
  EXPECT_EQ(p.String(p.Node(2, 1)), "(modules)");
  EXPECT_EQ(p.String(p.Node(3, 1)), "(unreachable garbage)");
  uint64_t edges = 0;
  for (uint64_t n = 0; n < p.node_count; ++n) {
    EXPECT_EQ(p.Node(n, 2), 2 * n + 1) << "id of node " << n;
    EXPECT_EQ(p.Node(n, 5), 0u);  // trace_node_id
    EXPECT_EQ(p.Node(n, 6), 0u);  // detachedness
    edges += p.Node(n, 4);
  }
  EXPECT_EQ(edges, p.edge_count);
  for (uint64_t k = 0; k < p.edge_count; ++k) {
    const uint64_t to = p.edges[k * 3 + 2];
    EXPECT_EQ(to % kDevToolsNodeFields, 0u);
    EXPECT_LT(to / kDevToolsNodeFields, p.node_count);
    EXPECT_LE(p.edges[k * 3], 6u);
  }
}

// Finds the edge from node `from` (ordinal) to node `to`; returns its type and name_or_index.
std::pair<uint64_t, uint64_t> EdgeBetween(const Parsed& p, uint64_t from, uint64_t to) {
  uint64_t first = 0;
  for (uint64_t n = 0; n < from; ++n) first += p.Node(n, 4);
  for (uint64_t k = first; k < first + p.Node(from, 4); ++k) {
    if (p.edges[k * 3 + 2] == to * kDevToolsNodeFields) return {p.edges[k * 3], p.edges[k * 3 + 1]};
  }
  ADD_FAILURE() << "no edge " << from << " -> " << to;
  return {99, 0};
}

TEST(DevToolsSnapshot, MapsPythonReferencesAndTypes) {
  Fixture f;
  auto e = Export(f.heap, "mapping");
  const Parsed& p = e->parsed;
  const uint64_t base = 4;  // objects follow the synthetic nodes
  auto edge = [&](uint32_t from, uint32_t to) { return EdgeBetween(p, base + from, base + to); };
  // str dict keys and attributes: property, by name.
  auto [type, name] = edge(f.ns, f.list);
  EXPECT_EQ(type, 2u);
  EXPECT_EQ(p.String(name), "ITEMS");
  std::tie(type, name) = edge(f.obj, f.value);
  EXPECT_EQ(type, 2u);
  EXPECT_EQ(p.String(name), "payload");
  // list items: element, with the index.
  EXPECT_EQ(edge(f.list, f.item1), std::make_pair(uint64_t{1}, uint64_t{1}));
  // closure cell variable: context; __closure__: internal.
  std::tie(type, name) = edge(f.cell, f.captured);
  EXPECT_EQ(type, 0u);
  EXPECT_EQ(p.String(name), "payload");
  EXPECT_EQ(edge(f.func, f.cell).first, 3u);
  // weak reference: weak, named.
  std::tie(type, name) = edge(f.weakref, f.value);
  EXPECT_EQ(type, 6u);
  EXPECT_EQ(p.String(name), "__callback__");
  // Node types and names.
  EXPECT_EQ(p.Node(base + f.item0, 0), 2u);  // string, named by its value
  EXPECT_EQ(p.strings[p.Node(base + f.item0, 1)], "\"caf\\u00e9 \\\"quoted\\\"\"");
  EXPECT_EQ(p.Node(base + f.item1, 0), 7u);  // number
  EXPECT_EQ(p.String(p.Node(base + f.item1, 1)), "123");
  EXPECT_EQ(p.Node(base + f.func, 0), 5u);  // closure, by its qualified name
  EXPECT_EQ(p.String(p.Node(base + f.func, 1)), "make.<locals>.notify");
  EXPECT_EQ(p.Node(base + f.cell, 0), 0u);  // hidden
  EXPECT_EQ(p.Node(base + f.obj, 0), 3u);   // object, by its type
  EXPECT_EQ(p.String(p.Node(base + f.obj, 1)), "app.Order");
  EXPECT_EQ(p.Node(base + f.obj, 3), 48u);  // self size
  // The garbage cycle hangs under (unreachable garbage); sys.modules under (modules).
  std::tie(type, name) = EdgeBetween(p, 2, base + f.ns - 2);  // the sys.modules dict
  EXPECT_EQ(type, 2u);
  EXPECT_EQ(p.String(name), "sys.modules");
  EXPECT_EQ(EdgeBetween(p, 3, base + f.cycle_a).first, 1u);
}

// Dominators of the exported graph as DevTools and memlab compute them (every edge but weak
// ones retains), by brute force: the retained size of v is the size of what the root no longer
// reaches without v.
std::vector<uint64_t> BruteForceRetained(const Parsed& p) {
  const uint64_t n = p.node_count;
  std::vector<uint64_t> first(n + 1, 0);
  for (uint64_t v = 0; v < n; ++v) first[v + 1] = first[v] + p.Node(v, 4);
  auto reach = [&](uint64_t removed) {
    std::vector<uint8_t> seen(n, 0);
    std::vector<uint64_t> stack = {0};
    seen[0] = 1;
    while (!stack.empty()) {
      const uint64_t v = stack.back();
      stack.pop_back();
      for (uint64_t k = first[v]; k < first[v + 1]; ++k) {
        const uint64_t t = p.edges[k * 3 + 2] / kDevToolsNodeFields;
        if (p.edges[k * 3] == 6 || t == removed || seen[t]) continue;
        seen[t] = 1;
        stack.push_back(t);
      }
    }
    return seen;
  };
  const std::vector<uint8_t> all = reach(n);
  std::vector<uint64_t> retained(n, 0);
  for (uint64_t v = 1; v < n; ++v) {
    const std::vector<uint8_t> without = reach(v);
    for (uint64_t w = 0; w < n; ++w) {
      if (all[w] && (!without[w] || w == v)) retained[v] += p.Node(w, 3);
    }
  }
  return retained;
}

TEST(DevToolsSnapshot, RetainedSizesEqualHeapsnaps) {
  Fixture f;
  // Also: an object only a borrowed reference reaches (unexplained), and one held from C.
  const uint32_t loose = f.heap.Add("app.Loose", 64, 0);  // untracked: not garbage
  f.heap.Edge(f.obj, loose, LabelKind::kAttribute, "borrowed", EdgeKind::kBorrowed);
  // A borrowed pointer (a frame's f_globals) to what a cell holds: the cell still dominates it.
  f.heap.Edge(f.ns, f.captured, LabelKind::kDictKey, "'borrowed'", EdgeKind::kBorrowed);
  const uint32_t held = f.heap.Add("app.Held", 72);
  f.heap.AddRefs(held, 1);
  f.heap.Edge(held, f.value, LabelKind::kAttribute, "also");
  auto e = Export(f.heap, "retained");
  const Parsed& p = e->parsed;
  const std::vector<uint64_t> retained = BruteForceRetained(p);
  const uint64_t base = p.node_count - e->snapshot.object_count();
  for (uint32_t v = 0; v < e->snapshot.object_count(); ++v) {
    EXPECT_EQ(retained[base + v], e->analysis->retained[v])
        << "object " << v << " " << e->snapshot.TypeQualname(NodeIndex(v));
  }
  // Its payload is shared with `held`, and `loose` only borrowed: it retains itself alone.
  EXPECT_EQ(e->analysis->retained[f.obj], 48u);
  EXPECT_EQ(p.String(p.Node(4, 1)), "(unexplained)");  // holds `loose`
}

bool DirectoryHasTemporaryFiles(const std::string& dir, const std::string& prefix) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  while (dirent* entry = readdir(d)) {
    if (std::string(entry->d_name).rfind(prefix, 0) == 0) found = true;
  }
  closedir(d);
  return found;
}

TEST(DevToolsSnapshot, RefusesWhatDoesNotFitUint32AndWritesNothing) {
  Fixture f;
  auto snap = LoadSnapshot(f.heap.Write("limits"));
  ASSERT_TRUE(snap.ok());
  const Analysis a = Analyze(*snap);
  const std::string out = ::testing::TempDir() + "/devtools_limits_out.heapsnapshot";
  std::remove(out.c_str());
  DevToolsOptions options;
  // The objects and 4 synthetic nodes: the last edge target is (nodes - 1) * 7.
  const uint64_t nodes = snap->object_count() + 4;
  options.limits.max_number = (nodes - 1) * kDevToolsNodeFields - 1;
  auto r = ExportDevToolsSnapshot(a, out, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(snap->path), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(std::to_string(nodes) + " nodes"), std::string::npos)
      << r.status().message();
  struct stat st {};
  EXPECT_NE(stat(out.c_str(), &st), 0) << "a refused export left " << out;

  // A single object of 5 GB.
  snap->size[f.value] = uint64_t{5} << 30;
  r = ExportDevToolsSnapshot(a, out, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(bytes) has 5,368,709,120 bytes"), std::string::npos)
      << r.status().message();
  snap->size[f.value] = 5000;

  // Strings beyond what one JavaScript string holds: refused after nodes and edges were
  // written, and the file is not left behind.
  options = {};
  options.limits.max_strings_chars = 100;
  r = ExportDevToolsSnapshot(a, out, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("strings"), std::string::npos) << r.status().message();
  EXPECT_NE(stat(out.c_str(), &st), 0) << "a refused export left " << out;
  EXPECT_FALSE(DirectoryHasTemporaryFiles(::testing::TempDir(), "devtools_limits_out"));
}

TEST(DevToolsSnapshot, FileIsPrivateAndReplacedWhole) {
  Fixture f;
  auto snap = LoadSnapshot(f.heap.Write("file"));
  ASSERT_TRUE(snap.ok());
  const Analysis a = Analyze(*snap);
  const std::string out = ::testing::TempDir() + "/devtools_file_out.heapsnapshot";
  auto r = ExportDevToolsSnapshot(a, out);
  ASSERT_TRUE(r.ok()) << r.status().message();
  struct stat st {};
  ASSERT_EQ(stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), r->bytes);
  std::remove(out.c_str());
  // Not a regular file: refused.
  r = ExportDevToolsSnapshot(a, ::testing::TempDir());
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace heapsnap

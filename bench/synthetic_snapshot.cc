// Writes a synthetic snapshot with realistic heap shapes, for benchmarking the analyzer
// without capturing a real process of that size.
//
//   synthetic_snapshot OUT.heapsnap --objects 10000000 [--shape mixed|chain]
//
// mixed: a quarter each of
//   - one long linked chain (node -> next),
//   - wide dicts (1,000 entries each) of small records,
//   - many small cycles (three in four reachable, one in four garbage),
//   - deep binary trees;
// every container also points at its class (as instances of heap types do), values are
// untracked leaves, and refcounts are exact, so the collector and dominators have real work.
// chain: a single chain of N objects (the no-recursion test).
// chain-shared: a linked list whose nodes each hold a payload that one module-level list holds
//   too (every payload's dominator is far above its DFS parent: quadratic for Semi-NCA).
// deep-tree: a random tree whose nodes hang under one of the last 8 made (depth about N/5).
// garbage: N unreachable objects (one cycle of half of them, pairs for the rest) beside a
//   small live heap.
// wide: one dict of N/2 records.
// tiny: N untracked objects with no references, the fewest bytes an object can take in a file
//   (memory per file byte at its worst).
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "heapsnap/format/writer.h"

namespace {

using heapsnap::EdgeKind;
using heapsnap::LabelKind;

struct Heap {
  struct Obj {
    uint32_t type;
    uint32_t size;
    uint32_t flags;
  };
  std::vector<Obj> objects;
  std::vector<uint64_t> edge_begin{0};
  std::vector<uint32_t> targets;
  std::vector<uint8_t> labels;  // LabelKind
  std::vector<uint32_t> label_values;
  std::vector<uint32_t> refcount;

  uint32_t Add(uint32_t type, uint32_t size, bool tracked) {
    objects.push_back(
        {type, size,
         tracked ? heapsnap::object_flags::kGcTracked | heapsnap::object_flags::kGcType : 0u});
    refcount.push_back(0);
    return static_cast<uint32_t>(objects.size() - 1);
  }
};

// Edges are added per object in order, so objects are created then given their edges at once.
struct Builder {
  Heap& h;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> pending;  // per object: (target, label)
  void Edge(uint32_t from, uint32_t to, uint32_t label) {
    if (pending.size() <= from) pending.resize(from + 1);
    pending[from].emplace_back(to, label);
    ++h.refcount[to];
  }
};

enum Type : uint32_t { kModuleDict = 1, kNode, kDict, kRecord, kInt, kTree, kCycle, kClass, kStr };

// The parts every shape shares: a module dict held from C (the root), a class per type, and
// the leaves real heaps share (None and the small ints every container points at).
struct Shape {
  Heap& h;
  Builder& b;
  uint64_t n;
  std::mt19937 rng{1};
  uint32_t root = 0;
  std::vector<uint32_t> classes;
  uint32_t none = 0;
  std::vector<uint32_t> small_ints;

  Shape(Heap& heap, Builder& builder, uint64_t objects) : h(heap), b(builder), n(objects) {
    root = h.Add(kModuleDict, 1200, true);
    h.refcount[root] = 1;  // sys.modules, from C
    for (uint32_t t = kNode; t <= kCycle; ++t) {
      classes.push_back(h.Add(kClass, 900, true));
      b.Edge(root, classes.back(), t);
    }
    none = h.Add(kInt, 16, false);
    h.refcount[none] = 1;
    for (int i = 0; i < 256; ++i) {
      small_ints.push_back(h.Add(kInt, 28, false));
      h.refcount[small_ints.back()] = 1;
    }
  }
  uint32_t Class(uint32_t type) const { return classes[type - kNode]; }
  void Shared(uint32_t from) {
    b.Edge(from, none, 7);
    b.Edge(from, small_ints[rng() % 256], 8);
  }
  size_t size() const { return h.objects.size(); }

  void Chain() {
    uint32_t prev = h.Add(kNode, 48, true);
    b.Edge(root, prev, 100);
    while (size() < n) {
      uint32_t v = h.Add(kNode, 48, true);
      b.Edge(prev, v, 0);
      prev = v;
    }
  }

  void ChainShared() {
    const uint32_t list = h.Add(kDict, 8000000, true);  // added after the chain's head
    uint32_t prev = h.Add(kNode, 48, true);
    b.Edge(root, prev, 100);
    b.Edge(root, list, 101);
    uint32_t k = 0;
    while (size() + 2 <= n) {
      const uint32_t payload = h.Add(kRecord, 56, true);
      b.Edge(prev, payload, 1);
      b.Edge(list, payload, 10 + k++);
      const uint32_t v = h.Add(kNode, 48, true);
      b.Edge(prev, v, 0);
      prev = v;
    }
  }

  void DeepTree() {
    std::vector<uint32_t> recent{h.Add(kTree, 64, true)};
    b.Edge(root, recent[0], 103);
    while (size() < n) {
      const uint32_t parent = recent[rng() % recent.size()];
      const uint32_t child = h.Add(kTree, 64, true);
      b.Edge(parent, child, 5 + static_cast<uint32_t>(rng() % 2));
      b.Edge(child, Class(kTree), 2);
      Shared(child);
      recent.push_back(child);
      if (recent.size() > 8) recent.erase(recent.begin());
    }
  }

  void Garbage() {
    const uint32_t live = h.Add(kDict, 1000, true);  // a little live data
    b.Edge(root, live, 101);
    for (int k = 0; k < 1000; ++k) b.Edge(live, h.Add(kRecord, 56, true), 10 + k);
    const uint32_t first = h.Add(kNode, 48, true);
    uint32_t prev = first;
    while (size() < n / 2) {
      const uint32_t v = h.Add(kNode, 48, true);
      b.Edge(prev, v, 0);
      b.Edge(v, Class(kNode), 2);
      prev = v;
    }
    b.Edge(prev, first, 0);  // one big unreachable cycle
    while (size() + 2 <= n) {
      const uint32_t x = h.Add(kCycle, 48, true);
      const uint32_t y = h.Add(kCycle, 48, true);
      b.Edge(x, y, 4);
      b.Edge(y, x, 4);
      b.Edge(x, Class(kCycle), 2);
    }
  }

  void Tiny() {
    while (size() < n) h.Add(kInt, 28, false);
  }

  void Wide() {
    const uint32_t d = h.Add(kDict, 40 * static_cast<uint32_t>(n), true);
    b.Edge(root, d, 101);
    uint32_t k = 0;
    while (size() + 2 <= n) {
      const uint32_t r = h.Add(kRecord, 56, true);
      const uint32_t str = h.Add(kStr, 60, false);
      b.Edge(d, r, 10 + k++);
      b.Edge(r, str, 3);
      b.Edge(r, Class(kRecord), 2);
    }
  }

  // A quarter each: a chain with an int per node, wide dicts of records, small cycles, deep
  // binary trees.
  void Mixed() {
    const uint64_t quarter = n / 4;
    MixedChain(quarter);
    MixedDicts(2 * quarter);
    MixedCycles(3 * quarter);
    MixedTrees();
  }
  void MixedChain(uint64_t until) {
    uint32_t prev = h.Add(kNode, 48, true);
    b.Edge(root, prev, 100);
    while (size() < until) {
      uint32_t v = h.Add(kNode, 48, true);
      uint32_t value = h.Add(kInt, 28, false);
      b.Edge(prev, v, 0);
      b.Edge(v, value, 1);
      b.Edge(v, Class(kNode), 2);
      Shared(v);
      prev = v;
    }
  }
  void MixedDicts(uint64_t until) {
    while (size() < until) {
      uint32_t d = h.Add(kDict, 36000, true);
      b.Edge(root, d, 101);
      for (int k = 0; k < 1000; ++k) {
        uint32_t r = h.Add(kRecord, 56, true);
        uint32_t s = h.Add(kStr, 60, false);
        b.Edge(d, r, 10 + k);
        b.Edge(r, s, 3);
        b.Edge(r, Class(kRecord), 2);
        Shared(r);
      }
    }
  }
  // Pairs, one in four unreachable.
  void MixedCycles(uint64_t until) {
    uint32_t holder = h.Add(kDict, 100000, true);
    b.Edge(root, holder, 102);
    uint32_t k = 0;
    while (size() < until) {
      uint32_t x = h.Add(kCycle, 48, true);
      uint32_t y = h.Add(kCycle, 48, true);
      b.Edge(x, y, 4);
      b.Edge(y, x, 4);
      b.Edge(x, Class(kCycle), 2);
      b.Edge(y, Class(kCycle), 2);
      Shared(x);
      Shared(y);
      if (rng() % 4 != 0) b.Edge(holder, x, k++);
    }
  }
  void MixedTrees() {
    while (size() < n) {
      uint32_t top = h.Add(kTree, 64, true);
      b.Edge(root, top, 103);
      std::vector<uint32_t> level{top};
      for (int depth = 0; depth < 16 && size() < n; ++depth) {
        std::vector<uint32_t> next;
        for (uint32_t p : level) {
          for (int c = 0; c < 2 && size() < n; ++c) {
            uint32_t child = h.Add(kTree, 64, true);
            b.Edge(p, child, 5 + c);
            b.Edge(child, Class(kTree), 2);
            Shared(child);
            next.push_back(child);
          }
        }
        level.swap(next);
      }
    }
  }
};

// Writes the heap: objects in order, each with its edges (labels < 9 are attribute names).
int WriteSnapshot(const std::string& out, const Heap& h, Builder& b, uint32_t root) {
  heapsnap::HeaderInfo header;
  header.python_version = "synthetic";
  header.python_implementation = "cpython";
  header.python_hexversion = 0x030c01f0;
  header.reason = "dump";
  auto w = heapsnap::SnapshotWriter::Create(out, header);
  if (!w.ok()) {
    std::cerr << w.status().message() << "\n";
    return 2;
  }
  heapsnap::SnapshotWriter& wr = **w;
  const char* names[] = {"",    "dict", "Node", "dict", "Record",
                         "int", "Tree", "Pair", "type", "str"};
  std::vector<heapsnap::TypeId> type_ids;
  for (const char* name : names) {
    type_ids.push_back(wr.AddType({wr.InternString(name), wr.InternString(name), 0, 0, 0, 0}));
  }
  const heapsnap::StringId attr[] = {
      wr.InternString("next"),  wr.InternString("value"),  wr.InternString("__class__"),
      wr.InternString("name"),  wr.InternString("peer"),   wr.InternString("left"),
      wr.InternString("right"), wr.InternString("parent"), wr.InternString("count")};
  auto address = [](uint32_t i) { return 0x7f0000000000ull + 64ull * i; };
  for (uint32_t i = 0; i < h.objects.size(); ++i) {
    const auto& o = h.objects[i];
    wr.BeginObject(
        {address(i), type_ids[o.type], o.size, h.refcount[i], o.flags, o.flags ? 3u : 0u});
    for (auto [t, label] : b.pending[i]) {
      heapsnap::EdgeRecord e{address(t), EdgeKind::kTraverse, LabelKind::kIndex, label};
      if (label < 9) {
        e.label_kind = label == 2 ? LabelKind::kField : LabelKind::kAttribute;
        e.label_value = attr[label].value();
      }
      wr.AddEdge(e);
    }
    std::vector<std::pair<uint32_t, uint32_t>>().swap(b.pending[i]);
  }
  if (!wr.AddRoot(
             {heapsnap::RootKind::kModules, address(root), wr.InternString("sys.modules"), 0, 0})
           .ok() ||
      !wr.Finish().ok()) {
    std::cerr << out << ": write failed\n";
    return 2;
  }
  std::cout << "{\"objects\": " << h.objects.size() << ", \"edges\": " << wr.edge_count() << "}\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // An output name that starts with '-' is a mistaken option (`--help` once wrote a 30 MB
  // snapshot named "--help"), never a file to write.
  if (argc < 2 || argv[1][0] == '-') {
    std::cerr << "usage: synthetic_snapshot OUT [--objects N] "
                 "[--shape mixed|chain|chain-shared|deep-tree|garbage|wide|tiny]\n";
    return 2;
  }
  std::string out = argv[1];
  uint64_t n = 1000000;
  std::string shape = "mixed";
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--objects") == 0) n = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--shape") == 0) shape = argv[i + 1];
  }
  Heap h;
  h.objects.reserve(n + 16);
  Builder b{h, {}};
  b.pending.reserve(n + 16);
  Shape heap(h, b, n);
  if (shape == "chain") {
    heap.Chain();
  } else if (shape == "chain-shared") {
    heap.ChainShared();
  } else if (shape == "deep-tree") {
    heap.DeepTree();
  } else if (shape == "garbage") {
    heap.Garbage();
  } else if (shape == "tiny") {
    heap.Tiny();
  } else if (shape == "wide") {
    heap.Wide();
  } else {
    heap.Mixed();
  }
  b.pending.resize(h.objects.size());
  return WriteSnapshot(out, h, b, heap.root);
}

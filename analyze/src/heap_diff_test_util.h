// Helpers for the tests of heap comparisons (heap_diff, leak_check): a small program's heap at
// one moment (AppHeap), and a series of them, loaded and profiled as `heapsnap diff` does.
#ifndef HEAPSNAP_ANALYZE_HEAP_DIFF_TEST_UTIL_H_
#define HEAPSNAP_ANALYZE_HEAP_DIFF_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap/analyze/heap_diff.h"
#include "test_snapshots.h"

namespace heapsnap::testing {

// sys.modules['app'] with `count` Tokens in app.SESSIONS (a list, or a dict keyed 'k0', 'k1',
// ... when `keyed`), after `padding` unrelated objects (which shift every address), and
// `garbage_cycles` unreachable pairs of app.Node.
struct AppHeap {
  uint32_t count = 0;
  std::string holder = "SESSIONS";
  bool keyed = false;
  uint32_t padding = 0;
  uint64_t token_size = 64;
  std::string token_type = "app.Token";
  uint32_t garbage_cycles = 0;

  TestHeap Build() const {
    TestHeap heap;
    std::vector<uint32_t> pads;
    for (uint32_t i = 0; i < padding; ++i) pads.push_back(heap.Add("app.Pad", 16));
    const uint32_t ns = heap.ModuleNamespace("app");
    const uint32_t pad_list = heap.Add("tuple", 40);
    heap.Edge(ns, pad_list, LabelKind::kDictKey, "'PADS'");
    for (uint32_t p : pads) heap.Append(pad_list, p);
    const uint32_t container = heap.Add(keyed ? "dict" : "list", 56);
    heap.Edge(ns, container, LabelKind::kDictKey, "'" + holder + "'");
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t token = heap.Add(token_type, token_size);
      if (keyed) {
        heap.Edge(container, token, LabelKind::kDictKey, "'k" + std::to_string(i) + "'");
      } else {
        heap.Append(container, token);
      }
    }
    for (uint32_t i = 0; i < garbage_cycles; ++i) {
      const uint32_t a = heap.Add("app.Node", 48);
      const uint32_t b = heap.Add("app.Node", 48);
      heap.Edge(a, b, LabelKind::kAttribute, "peer");
      heap.Edge(b, a, LabelKind::kAttribute, "peer");
    }
    return heap;
  }
};

// Snapshots loaded and profiled in order, the last kept loaded, as the CLI does.
class Series {
 public:
  void Add(const TestHeap& heap, const std::string& name) {
    auto loaded = std::make_unique<Loaded>();
    auto snapshot = LoadSnapshot(heap.Write(name));
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().message();
    loaded->snapshot = std::move(snapshot).value();
    loaded->analysis = std::make_unique<Analysis>(Analyze(loaded->snapshot));
    loaded->shapes = std::make_unique<PathShapes>(*loaded->analysis, FoldRule::kTwoAlike);
    profiles_.push_back(ProfileHeap(*loaded->analysis, *loaded->shapes));
    last_ = std::move(loaded);
  }

  HeapDiff Diff(uint64_t min_growth = 1) const {
    DiffOptions options;
    options.min_growth = min_growth;
    return DiffHeaps(profiles_, *last_->analysis, *last_->shapes, options);
  }

  const Analysis& last() const { return *last_->analysis; }
  const PathShapes& last_shapes() const { return *last_->shapes; }

  // The group whose path_text is `path_text` among those that rose, or null.
  static const GroupGrowth* Find(const HeapDiff& d, const std::string& path_text) {
    for (const GroupGrowth& g : d.grown) {
      if (g.path_text == path_text) return &g;
    }
    return nullptr;
  }

 private:
  struct Loaded {
    Snapshot snapshot;
    std::unique_ptr<Analysis> analysis;
    std::unique_ptr<PathShapes> shapes;
  };
  std::vector<HeapProfile> profiles_;
  std::unique_ptr<Loaded> last_;
};

}  // namespace heapsnap::testing

#endif  // HEAPSNAP_ANALYZE_HEAP_DIFF_TEST_UTIL_H_

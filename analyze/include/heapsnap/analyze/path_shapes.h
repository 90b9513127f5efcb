// Path shapes: what the retainer paths of many objects have in common. The shape of an object's
// path is its rendered path (paths.h) with the parts that name one instance among many folded:
//
//   sys.modules['app'].SESSIONS[*].history[*]     list indices, int keys, and the keys of a
//                                                 dict whose entries hold many objects of the
//                                                 same type (kFoldKeysAt or more)
//   sys.modules['app'].chain.head.next*           a step repeated: `.next.next.next` (period 1);
//                                                 an attribute linking two objects of one type
//                                                 is starred from its first step
//   tree(['children'][*])*                        two steps repeated together (period 2)
//   <dict held from C code or an extension>       single-object roots without their address
//
// Identifier keys of namespaces (`.name` of modules, classes and instances) are never folded.
//
// A frame's globals and locals dicts are namespaces too: their keys are never folded. Roots read
// without what names one instance: no address, and a running frame without its line.
//
// A module's state has one shape however the retainer path reached the module's namespace: when
// the shortest path enters a module's __dict__ another way than from the module (a running
// frame's f_globals: the shortest path of `SESSIONS` in a snapshot taken while `app.main` runs),
// the shape goes through the module instead, `sys.modules['app'].SESSIONS`. So snapshots taken
// while the program runs (on a signal, periodically) and at exit, with no frame running, group
// module state alike.
//
// Comparing heaps (heap_diff.h) needs shapes that do not change as a container grows: with
// FoldRule::kTwoAlike the entries of a container holding two or more alike are folded
// (`SEEN['a']` and `SEEN['b']` are both `SEEN[*]`), so a dict of 3 entries and the same dict
// with 30 have one shape; the shape changes once at most, when the second entry arrives.
// Fingerprint(shape) names a shape by its text alone: the same on every snapshot, run and machine
// (StableHash over the root's text and each step, step by step, so that it costs O(1) per shape and
// covers every step, also those Text() leaves out).
//
//   PathShapes shapes(analysis);
//   uint32_t id = shapes.Of(node);            // kNoShape for garbage and unreached objects
//   std::string text = shapes.Text(id);       // "sys.modules['app'].SESSIONS[*]"
//   std::vector<ShapeGroup> groups = GroupByShape(analysis, shapes, instances, &total);
//
// Every shape is a node of a trie (its parent shape and one step), built object by object from
// the retainer-path tree as objects are asked about, each object's shape from its parent's
// (memoized), so equal shapes have equal ids and no path is ever spelled out. Shapes of all n
// objects cost O(n log n) time and O(n) memory whatever the heap's shape; of one object, its
// path's length. Text costs the shape's length. Not thread-safe (Of fills the memo).
#ifndef HEAPSNAP_ANALYZE_PATH_SHAPES_H_
#define HEAPSNAP_ANALYZE_PATH_SHAPES_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/paths.h"

namespace heapsnap {

inline constexpr uint32_t kNoShape = UINT32_MAX;
inline constexpr uint32_t kFoldKeysAt = 8;

// Which entries of a container a shape folds into `[*]`: those of a container holding
// kFoldKeysAt or more alike (kManyAlike, for reports: a small dict keeps its keys), or two or
// more (kTwoAlike, for comparing heaps).
enum class FoldRule { kManyAlike, kTwoAlike };

class PathShapes {
 public:
  explicit PathShapes(const Analysis& analysis, FoldRule rule = FoldRule::kManyAlike);

  uint32_t Of(NodeIndex node) const;
  size_t size() const { return nodes_.size(); }
  // The shape as text, and as its root followed by its steps. A shape of more than
  // 2 * kShownSteps steps (a deep tree whose paths are all different) shows its first and last
  // kShownSteps with the number left out between them, so that listing every shape of a heap
  // costs O(1) per shape, not its depth.
  static constexpr uint32_t kShownSteps = 32;
  std::string Text(uint32_t shape) const;
  std::vector<std::string> Steps(uint32_t shape) const;
  // A stable hash of the shape's full text (see above).
  uint64_t Fingerprint(uint32_t shape) const;

 private:
  struct Node {
    uint32_t parent;  // kNoShape for a root
    uint32_t token;
    bool star;       // the step (or pair of steps) repeated one or more times
    uint32_t depth;  // steps after the root
    uint32_t early;  // the ancestor kShownSteps steps after the root (itself if shallower)
  };
  static constexpr uint32_t kUnknown = UINT32_MAX - 1;  // not worked out yet
  static constexpr uint8_t kEntryKnown = 1;
  static constexpr uint8_t kEntryFolded = 2;
  uint32_t Intern(uint32_t parent, uint32_t token, bool star) const;
  uint32_t Token(const std::string& text) const;
  uint32_t PairToken(uint32_t first, uint32_t second) const;
  uint32_t Append(uint32_t shape, uint32_t token, bool link) const;
  bool Folded(uint32_t node) const;
  std::string NodeText(const Node& node) const;
  // The step into `node` anchored at the module whose namespace holds it (see above), or `step`.
  StepText AnchorAtModule(uint32_t node, const StepText& step) const;

  const Analysis& analysis_;
  const FoldRule rule_;
  // Module namespace dicts whose shortest path does not come from their module -> the module
  // (only modules whose own path does not go through that dict).
  std::unordered_map<uint32_t, uint32_t> module_of_namespace_;
  // The memo: filled by Of(), which is logically const.
  mutable std::vector<Node> nodes_;
  mutable std::unordered_map<uint64_t, uint32_t> node_index_;  // (parent, token, star) -> node
  mutable std::vector<std::string> tokens_;
  mutable std::vector<uint8_t> token_is_pair_;
  mutable std::unordered_map<std::string, uint32_t> token_index_;
  mutable std::unordered_map<uint64_t, uint32_t> pair_index_;
  mutable std::vector<uint32_t> shape_of_;
  mutable std::vector<uint8_t> entry_state_;
  mutable std::vector<uint64_t> fingerprints_;  // per node, 0 until worked out
};

struct ShapeGroup {
  uint32_t shape = kNoShape;  // kNoShape: unreachable garbage, or no path (see garbage)
  bool garbage = false;
  uint64_t count = 0;
  // What the group's objects keep alive, each byte once: an object dominated by another object
  // of the same group is not added again (a linked list's nodes are one list's bytes).
  uint64_t retained_bytes = 0;
  NodeIndex example;  // the object that retains the most
};

// Groups `nodes` by path shape, largest retained_bytes first. `total_retained` (optional) gets
// what all of them keep alive, each byte once. O(n) beyond the nodes: one walk of the dominator
// tree.
std::vector<ShapeGroup> GroupByShape(const Analysis& analysis, const PathShapes& shapes,
                                     const std::vector<NodeIndex>& nodes,
                                     uint64_t* total_retained = nullptr);

// Bytes retained by `nodes` together, each byte once (nested ones not added again). O(n).
uint64_t RetainedOnce(const Analysis& analysis, const std::vector<NodeIndex>& nodes);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_PATH_SHAPES_H_

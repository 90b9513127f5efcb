#include "heapsnap/analyze/path_shapes.h"

#include <algorithm>
#include <cctype>

#include "heapsnap/analyze/paths.h"
#include "heapsnap/base/hash.h"

namespace heapsnap {
namespace {

constexpr uint32_t kNoToken = UINT32_MAX;

bool IsIndex(LabelKind k) { return k == LabelKind::kIndex || k == LabelKind::kDictKeyInt; }
bool IsDictKey(LabelKind k) {
  return k == LabelKind::kDictKeySelf || k == LabelKind::kDictKeyObject ||
         k == LabelKind::kDictKeyIntObject;
}

// Addresses name one instance, never a shape: `[<function 0x7f3c...>]` reads
// `[<function>]`, and the shapes of two runs agree.
std::string WithoutAddresses(const std::string& label) {
  std::string out;
  for (size_t i = 0; i < label.size(); ++i) {
    if (label[i] == ' ' && label.compare(i + 1, 2, "0x") == 0) {
      size_t j = i + 3;
      while (j < label.size() && std::isxdigit(static_cast<unsigned char>(label[j]))) ++j;
      if (j - (i + 3) >= 4) {
        i = j - 1;
        continue;
      }
    }
    out += label[i];
  }
  return out;
}

}  // namespace

uint32_t PathShapes::Token(const std::string& text) const {
  auto [it, added] = token_index_.emplace(text, static_cast<uint32_t>(tokens_.size()));
  if (added) {
    tokens_.push_back(text);
    token_is_pair_.push_back(0);
  }
  return it->second;
}

uint32_t PathShapes::PairToken(uint32_t first, uint32_t second) const {
  const uint64_t key = (uint64_t{first} << 32) | second;
  auto [it, added] = pair_index_.emplace(key, static_cast<uint32_t>(tokens_.size()));
  if (added) {
    tokens_.push_back(tokens_[first] + tokens_[second]);
    token_is_pair_.push_back(1);
  }
  return it->second;
}

uint32_t PathShapes::Intern(uint32_t parent, uint32_t token, bool star) const {
  const uint64_t key = (uint64_t{parent} << 32) | (uint64_t{token} << 1) | (star ? 1 : 0);
  auto [it, added] = node_index_.emplace(key, static_cast<uint32_t>(nodes_.size()));
  if (added) {
    const auto id = static_cast<uint32_t>(nodes_.size());
    if (parent == kNoShape) {
      nodes_.push_back({parent, token, star, 0, id});
    } else {
      const uint32_t depth = nodes_[parent].depth + 1;
      const uint32_t early = depth <= kShownSteps ? id : nodes_[parent].early;
      nodes_.push_back({parent, token, star, depth, early});
    }
  }
  return it->second;
}

// The shape of `shape` followed by one step, with repeats folded: `a a` -> `a*`, `a* a` -> `a*`,
// `a b a b` -> `(a b)*`, `(a b)* a b` -> `(a b)*`.
uint32_t PathShapes::Append(uint32_t shape, uint32_t token, bool link) const {
  const Node last = nodes_[shape];
  if (last.parent != kNoShape && !token_is_pair_[last.token] && last.token == token) {
    return last.star ? shape : Intern(last.parent, token, true);
  }
  // A link between two objects of one type (`.next`, `.parent`) is where a chain begins: its
  // first step already reads `.next*`, so that a linked list is two shapes (`.head` and
  // `.head.next*`), not three.
  if (link) return Intern(shape, token, true);
  if (last.parent != kNoShape && !last.star) {
    const Node before = nodes_[last.parent];
    // (a b)* a, then b: back to (a b)*.
    if (before.parent != kNoShape && before.star && token_is_pair_[before.token]) {
      const auto pair = pair_index_.find((uint64_t{last.token} << 32) | token);
      if (pair != pair_index_.end() && pair->second == before.token) return last.parent;
    }
    // x a b a, then b: x (a b)*.
    if (before.parent != kNoShape && !before.star && before.token == token &&
        before.token != last.token && !token_is_pair_[last.token] && !token_is_pair_[token]) {
      const Node first = nodes_[before.parent];
      if (first.parent != kNoShape && !first.star && first.token == last.token) {
        return Intern(first.parent, PairToken(last.token, token), true);
      }
    }
  }
  return Intern(shape, token, false);
}

PathShapes::PathShapes(const Analysis& a, FoldRule rule) : analysis_(a), rule_(rule) {
  const Snapshot& s = a.snapshot();
  const auto n = static_cast<uint32_t>(s.object_count());
  shape_of_.assign(n, kUnknown);
  entry_state_.assign(n, 0);
  // Module namespaces reached other than from their module. One pass over the objects' types,
  // and the edges of modules only.
  std::vector<uint8_t> is_module_type(s.types.size(), 0);
  for (size_t t = 1; t < s.types.size(); ++t) {
    is_module_type[t] = s.String(s.types[t].qualname) == "module" ? 1 : 0;
  }
  for (uint32_t m = 0; m < n; ++m) {
    if (!is_module_type[s.type[m].value()] || a.parent_edge[m] == Analysis::kNoParent) continue;
    for (uint64_t e = s.edge_begin[m]; e < s.edge_begin[m + 1]; ++e) {
      if (!s.IsField(e, "__dict__")) continue;
      const uint32_t dict = s.edge_target[e];
      if (a.parent_edge[dict] == Analysis::kNoParent || a.parent_edge[dict] == Analysis::kIsRoot ||
          a.parent[dict] == m) {
        break;
      }
      // The module's own path must not go through its namespace (nor be long: a module is
      // normally one step from sys.modules).
      bool through = false;
      uint32_t cur = m;
      int steps = 0;
      for (; steps < 16 && a.parent_edge[cur] != Analysis::kIsRoot; ++steps) {
        cur = a.parent[cur];
        through = through || cur == dict;
      }
      if (!through && steps < 16) module_of_namespace_.emplace(dict, m);
      break;
    }
  }
  // Of() must never go round in circles: a module's own path must take no anchored step, so
  // a module whose path passes through another anchored namespace is not anchored at.
  std::vector<uint32_t> unsafe;
  for (const auto& [dict, module] : module_of_namespace_) {
    for (uint32_t cur = module; a.parent_edge[cur] != Analysis::kIsRoot; cur = a.parent[cur]) {
      if (module_of_namespace_.count(a.parent[cur]) > 0) {
        unsafe.push_back(dict);
        break;
      }
    }
  }
  for (uint32_t dict : unsafe) module_of_namespace_.erase(dict);
}

StepText PathShapes::AnchorAtModule(uint32_t node, const StepText& step) const {
  if (module_of_namespace_.empty() || step.base != analysis_.parent[node]) return step;
  auto it = module_of_namespace_.find(step.base);
  if (it == module_of_namespace_.end()) return step;
  StepText anchored = NamespaceStep(analysis_, NodeIndex(node), it->second);
  return anchored.label.empty() ? step : anchored;
}

// Whether the step into `node` names one entry among many alike, so that its shape reads `[*]`
// (values), `.<key *>` (keys) or `.<tp_traverse#*>`: the container holds kFoldKeysAt or more
// values of the object's type, or that many keys. Roots (sys.modules) keep their keys: module
// names are not generated. Worked out for all of a container's entries the first time one is
// asked about, so each edge is looked at once at most.
bool PathShapes::Folded(uint32_t node) const {
  if (entry_state_[node] & kEntryKnown) return entry_state_[node] & kEntryFolded;
  const Analysis& a = analysis_;
  const Snapshot& s = a.snapshot();
  const uint32_t u = a.parent[node];
  std::unordered_map<uint32_t, uint32_t> per_type;
  uint32_t keys = 0;
  // A frame's globals and locals are the program's names, like a module's namespace.
  const uint32_t into_u = a.parent_edge[u];
  const bool root = into_u == Analysis::kIsRoot ||
                    (into_u != Analysis::kNoParent &&
                     (s.IsField(into_u, "f_locals") || s.IsField(into_u, "f_globals")));
  const uint32_t fold_at = rule_ == FoldRule::kTwoAlike ? 2 : kFoldKeysAt;
  for (uint64_t e = s.edge_begin[u]; e < s.edge_begin[u + 1] && !root; ++e) {
    const LabelKind k = s.edge_label_kind[e];
    if (Snapshot::IsStrKeyLabel(k) || k == LabelKind::kTraverseIndex) {
      ++per_type[s.type[s.edge_target[e]].value()];
    } else if (IsDictKey(k)) {
      ++keys;
    }
  }
  for (uint64_t e = s.edge_begin[u]; e < s.edge_begin[u + 1]; ++e) {
    const uint32_t t = s.edge_target[e];
    if (a.parent_edge[t] != e) continue;
    const LabelKind k = s.edge_label_kind[e];
    bool fold = false;
    if (!root && (Snapshot::IsStrKeyLabel(k) || k == LabelKind::kTraverseIndex)) {
      fold = per_type[s.type[t].value()] >= fold_at;
    } else if (!root && IsDictKey(k)) {
      fold = keys >= fold_at;
    }
    entry_state_[t] = kEntryKnown | (fold ? kEntryFolded : 0);
  }
  return entry_state_[node] & kEntryFolded;
}

uint32_t PathShapes::Of(NodeIndex node) const {
  const Analysis& a = analysis_;
  const uint32_t v = node.value();
  if (shape_of_[v] != kUnknown) return shape_of_[v];
  struct Pending {
    uint32_t node;
    uint32_t base;
    uint32_t token;  // kNoToken: the step adds nothing (read as part of the one above)
    bool link;       // an attribute between two objects of one type
  };
  std::vector<Pending> stack;
  uint32_t cur = v;
  while (shape_of_[cur] == kUnknown) {
    if (a.parent_edge[cur] == Analysis::kNoParent) {
      shape_of_[cur] = kNoShape;
      break;
    }
    if (a.parent_edge[cur] == Analysis::kIsRoot) {
      const std::string root = RootText(a, a.root_of_node[cur], NodeIndex(cur), false);
      shape_of_[cur] = Intern(kNoShape, Token(root), false);
      break;
    }
    const StepText step = AnchorAtModule(cur, LastStep(a, NodeIndex(cur)));
    uint32_t token = kNoToken;
    if (!step.label.empty()) {
      const bool index = IsIndex(step.kind);
      const bool entry = !index && !step.name &&
                         (Snapshot::IsStrKeyLabel(step.kind) || IsDictKey(step.kind) ||
                          step.kind == LabelKind::kTraverseIndex) &&
                         Folded(cur);
      if (index || (entry && Snapshot::IsStrKeyLabel(step.kind))) {
        token = Token("[*]");
      } else if (entry && IsDictKey(step.kind)) {
        token = Token(".<key *>");
      } else if (entry) {
        token = Token(".<tp_traverse#*>");
      } else {
        token = Token(WithoutAddresses(step.label));
      }
    }
    const Snapshot& s = a.snapshot();
    const bool link = (step.kind == LabelKind::kAttribute || step.kind == LabelKind::kField) &&
                      !step.name && s.type[step.base] == s.type[cur];
    stack.push_back({cur, step.base, token, link});
    cur = step.base;
  }
  while (!stack.empty()) {
    const Pending p = stack.back();
    stack.pop_back();
    shape_of_[p.node] =
        p.token == kNoToken ? shape_of_[p.base] : Append(shape_of_[p.base], p.token, p.link);
  }
  return shape_of_[v];
}

std::string PathShapes::NodeText(const Node& node) const {
  const std::string& t = tokens_[node.token];
  if (!node.star) return t;
  return token_is_pair_[node.token] ? "(" + t + ")*" : t + "*";
}

std::vector<std::string> PathShapes::Steps(uint32_t shape) const {
  std::vector<std::string> steps;
  const Node& last = nodes_[shape];
  if (last.depth <= 2 * kShownSteps) {
    for (uint32_t cur = shape; cur != kNoShape; cur = nodes_[cur].parent) {
      steps.push_back(NodeText(nodes_[cur]));
    }
    std::reverse(steps.begin(), steps.end());
    return steps;
  }
  // The last kShownSteps, then the first ones (from their ancestor), never the middle.
  uint32_t cur = shape;
  for (uint32_t k = 0; k < kShownSteps; ++k, cur = nodes_[cur].parent) {
    steps.push_back(NodeText(nodes_[cur]));
  }
  steps.push_back("...{" + std::to_string(last.depth - 2 * kShownSteps) + " steps}...");
  for (cur = last.early; cur != kNoShape; cur = nodes_[cur].parent) {
    steps.push_back(NodeText(nodes_[cur]));
  }
  std::reverse(steps.begin(), steps.end());
  return steps;
}

uint64_t PathShapes::Fingerprint(uint32_t shape) const {
  if (fingerprints_.size() < nodes_.size()) fingerprints_.resize(nodes_.size(), 0);
  std::vector<uint32_t> pending;
  for (uint32_t cur = shape; cur != kNoShape && fingerprints_[cur] == 0; cur = nodes_[cur].parent) {
    pending.push_back(cur);
  }
  while (!pending.empty()) {
    const Node& node = nodes_[pending.back()];
    // A separator byte before each step says what follows (a root, a step, a repeated step or
    // pair), so that no two different shapes hash the same bytes.
    const char kind = node.parent == kNoShape      ? 'R'
                      : !node.star                 ? 'S'
                      : token_is_pair_[node.token] ? 'P'
                                                   : 'T';
    const uint64_t seed = node.parent == kNoShape ? kStableHashSeed : fingerprints_[node.parent];
    uint64_t h = StableHash(std::string_view(&kind, 1), seed);
    h = StableHash(tokens_[node.token], h);
    fingerprints_[pending.back()] = h == 0 ? 1 : h;  // 0 means "not worked out"
    pending.pop_back();
  }
  return fingerprints_[shape];
}

std::string PathShapes::Text(uint32_t shape) const {
  std::string text;
  for (const std::string& step : Steps(shape)) text += step;
  return text;
}

namespace {

// Walks the dominator tree once; `on_enter(v)` and `on_exit(v)` bracket each object's subtree.
template <typename Enter, typename Exit>
void WalkDominatorTree(const Analysis& a, Enter on_enter, Exit on_exit) {
  const uint32_t n = a.super_root();
  std::vector<std::pair<uint32_t, uint64_t>> stack;  // vertex, next child
  stack.emplace_back(a.super_root(), a.dom_child_begin[a.super_root()]);
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    if (next == a.dom_child_begin[v + 1]) {
      if (v < n) on_exit(v);
      stack.pop_back();
      continue;
    }
    const uint32_t c = a.dom_children[next++];
    if (c < n) on_enter(c);
    stack.emplace_back(c, a.dom_child_begin[c]);
  }
}

}  // namespace

std::vector<ShapeGroup> GroupByShape(const Analysis& a, const PathShapes& shapes,
                                     const std::vector<NodeIndex>& nodes,
                                     uint64_t* total_retained) {
  const uint32_t n = a.super_root();
  std::vector<ShapeGroup> groups;
  std::unordered_map<uint32_t, uint32_t> group_index;  // shape -> group
  uint32_t garbage_group = UINT32_MAX;
  uint32_t pathless_group = UINT32_MAX;
  std::vector<uint32_t> group_of(n, UINT32_MAX);
  for (NodeIndex node : nodes) {
    const uint32_t v = node.value();
    if (group_of[v] != UINT32_MAX) continue;  // listed twice
    const uint32_t shape = shapes.Of(node);
    uint32_t* slot = nullptr;
    if (shape != kNoShape) {
      slot = &group_index.emplace(shape, UINT32_MAX).first->second;
    } else {
      slot = a.collector.unreachable[v] ? &garbage_group : &pathless_group;
    }
    if (*slot == UINT32_MAX) {
      *slot = static_cast<uint32_t>(groups.size());
      groups.emplace_back();
      groups.back().shape = shape;
      groups.back().garbage = shape == kNoShape && a.collector.unreachable[v];
      groups.back().example = node;
    }
    ShapeGroup& g = groups[*slot];
    group_of[v] = *slot;
    ++g.count;
    if (a.retained[v] > a.retained[g.example.value()]) g.example = node;
  }
  std::vector<uint32_t> active(groups.size(), 0);
  uint32_t active_any = 0;
  uint64_t total = 0;
  WalkDominatorTree(
      a,
      [&](uint32_t v) {
        const uint32_t g = group_of[v];
        if (g == UINT32_MAX) return;
        if (active[g]++ == 0) groups[g].retained_bytes += a.retained[v];
        if (active_any++ == 0) total += a.retained[v];
      },
      [&](uint32_t v) {
        const uint32_t g = group_of[v];
        if (g == UINT32_MAX) return;
        --active[g];
        --active_any;
      });
  if (total_retained != nullptr) *total_retained = total;
  std::sort(groups.begin(), groups.end(), [](const ShapeGroup& x, const ShapeGroup& y) {
    if (x.retained_bytes != y.retained_bytes) return x.retained_bytes > y.retained_bytes;
    if (x.count != y.count) return x.count > y.count;
    return x.example.value() < y.example.value();
  });
  return groups;
}

uint64_t RetainedOnce(const Analysis& a, const std::vector<NodeIndex>& nodes) {
  std::vector<uint8_t> member(a.super_root(), 0);
  for (NodeIndex node : nodes) member[node.value()] = 1;
  uint32_t active = 0;
  uint64_t total = 0;
  WalkDominatorTree(
      a,
      [&](uint32_t v) {
        if (!member[v]) return;
        if (active++ == 0) total += a.retained[v];
      },
      [&](uint32_t v) {
        if (member[v]) --active;
      });
  return total;
}

}  // namespace heapsnap

#include "heapsnap/export/retainer_graph.h"

#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/base/python_text.h"

namespace heapsnap {
namespace {

// A value preview is cut to this many bytes of text (never inside a character).
constexpr size_t kMaxValueBytes = 40;
// Alternatives: referrers tried per target, and steps walked up from each to tell whether its
// own shortest path goes through the object it refers to (a back-reference of a cycle, not an
// alternative).
constexpr size_t kMaxCandidates = 64;
constexpr size_t kMaxCandidateSteps = 10000;

constexpr uint32_t kNone = UINT32_MAX;

// One step of a path as the graph draws it: `from` refers to `to` (both objects drawn), read as
// `label`.
struct Step {
  uint32_t from;
  uint32_t to;
  std::string label;
  EdgeKind kind;
};

// An identifier str key ('name') as `.name`, else "".
std::string NameStep(const Snapshot& s, uint64_t edge) {
  const std::string repr = s.DictKeyRepr(edge);
  if (repr.size() < 3 || repr.front() != '\'' || repr.back() != '\'') return "";
  const std::string inner = repr.substr(1, repr.size() - 2);
  return IsIdentifier(inner) ? CutLabel("." + inner) : "";
}

std::string Joinable(std::string label) {
  if (label.empty() || label[0] == '.' || label[0] == '[' || label[0] == '{' || label[0] == ':') {
    return label;
  }
  return "." + label;
}

class GraphBuilder {
 public:
  GraphBuilder(const Analysis& a, const RetainerGraphOptions& options)
      : a_(a), s_(a.snapshot()), options_(options), drawn_(s_.object_count(), kNone) {}

  StatusOr<RetainerGraph> Build(const std::vector<NodeIndex>& targets) {
    for (const NodeIndex t : targets) {
      if (t.value() >= s_.object_count()) {
        return InvalidArgument(s_.path + ": object " + std::to_string(t.value()) +
                               " is not in the snapshot");
      }
    }
    // Targets first, in the order asked (a target may be on another's path: it is drawn once).
    for (const NodeIndex t : targets) {
      if (drawn_[t.value()] != kNone) {
        graph_.nodes[drawn_[t.value()]].target = true;
        continue;
      }
      if (graph_.nodes.size() >= options_.max_nodes) {
        graph_.truncated = true;
        break;
      }
      graph_.nodes[AddObject(t.value())].target = true;
      targets_.push_back(t.value());
    }
    for (const uint32_t t : targets_) {
      if (!AddPath(t, /*alternative=*/false)) graph_.truncated = true;
    }
    AddAlternativesAndFanIns();
    return std::move(graph_);
  }

 private:
  // The step into `node` on its shortest path, read as paths.h reads it; `from` is kNone at a
  // root or an object with no path. Objects read as part of a step (the namespace dict of
  // `.x`, the cell of `.<closure x>`) are passed over.
  Step UpStep(uint32_t node) const {
    Step out{kNone, node, "", EdgeKind::kTraverse};
    uint32_t v = node;
    for (int hidden = 0; hidden < 4; ++hidden) {  // LastStep passes over at most one object
      const uint32_t e = a_.parent_edge[v];
      if (e == Analysis::kIsRoot || e == Analysis::kNoParent) {
        if (v != node) {  // cannot happen with LastStep's rules; draw the hidden object
          out.from = v;
          out.label = Joinable(CutLabel(s_.EdgeLabel(a_.parent_edge[node])));
        }
        return out;
      }
      StepText st = LastStep(a_, NodeIndex(v));
      out.kind = s_.edge_kind[e];
      if (!st.label.empty()) {
        out.from = st.base;
        out.label = std::move(st.label);
        return out;
      }
      v = st.base;
    }
    out.from = v;
    out.label = "";
    return out;
  }

  bool IsRoot(uint32_t v) const { return a_.parent_edge[v] == Analysis::kIsRoot; }

  uint32_t AddNode(GraphNode node) {
    graph_.nodes.push_back(std::move(node));
    up_.push_back(kNone);
    return static_cast<uint32_t>(graph_.nodes.size() - 1);
  }

  uint32_t AddObject(uint32_t v) {
    GraphNode n;
    n.object = v;
    n.address = s_.address[v];
    n.type = CutLabel(s_.TypeQualname(NodeIndex(v)));
    n.value = Preview(v);
    n.retained_bytes = a_.retained[v];
    if (IsRoot(v)) {
      const int root = a_.root_of_node[v];
      const bool frame = root >= 0 && s_.roots[static_cast<size_t>(root)].kind ==
                                          RootKind::kThreadFrame;  // with its line
      n.root = RootText(a_, root, NodeIndex(v), /*address=*/frame);
    }
    const uint32_t id = AddNode(std::move(n));
    drawn_[v] = id;
    return id;
  }

  std::string Preview(uint32_t v) const {
    std::string text;
    bool cut = false;
    if (const ValueRecord* value = s_.Value(NodeIndex(v))) {
      text = value->text;
      cut = value->text.size() < value->length;
      if (s_.TypeName(NodeIndex(v)) == "str") text = "'" + text;
    } else if (const NameRecord* name = s_.Name(NodeIndex(v))) {
      text = s_.String(name->name);
    }
    const size_t keep = Utf8PrefixBytes(text, kMaxValueBytes);
    if (keep < text.size()) {
      text.resize(keep);
      cut = true;
    }
    if (!text.empty() && text[0] == '\'' && !cut) text += "'";
    if (cut) text += "...";
    return text;
  }

  void AddEdge(uint32_t from, uint32_t to, std::string label, EdgeKind kind, bool alternative) {
    graph_.edges.push_back({from, to, std::move(label), kind, alternative});
    edge_keys_.insert(EdgeKey(from, to));
  }

  // The shortest path of object `v` (drawn already), up to a root, an object drawn already or an
  // object with no path (garbage). A path longer than 2 * keep_path_ends objects keeps that
  // many at each end and folds the middle into one node. False if max_nodes leaves no room.
  bool AddPath(uint32_t v, bool alternative) {
    std::vector<Step> chain;  // from v upwards
    uint32_t top = v;
    for (size_t guard = 0; guard <= s_.object_count(); ++guard) {
      if (drawn_[top] != kNone && top != v) break;
      Step step = UpStep(top);
      if (step.from == kNone) break;
      top = step.from;
      chain.push_back(std::move(step));
    }
    const bool join = top != v && drawn_[top] != kNone;
    // Objects the chain adds: chain.size() (the bottom, v, is drawn), less the top if drawn.
    const size_t fresh = chain.size() - (join ? 1 : 0);
    const size_t room =
        options_.max_nodes - std::min<size_t>(options_.max_nodes, graph_.nodes.size());
    size_t keep = std::max<size_t>(1, options_.keep_path_ends);
    bool fold = false;
    if (fresh > room || fresh > 2 * keep + 1) {
      // Keep keep - 1 objects above v and keep below the top, one node for the rest: 2 * keep
      // new nodes.
      keep = std::min(keep, room / 2);
      if (keep == 0) return false;
      fold = true;
    }
    // chain[i] is the step from chain[i].from into chain[i].to; chain[0].to == v.
    // Objects are chain[i].from for i in [0, chain.size()); the fresh ones are the first
    // `fresh`. With a fold, fresh objects keep-1 .. fresh-keep-1 (counting from 0 above v)
    // go into the fold: those with index in [keep - 1 + 1, fresh - keep) of the `from` list.
    const size_t fold_begin = fold ? keep - 1 : chain.size();    // first folded `from` index
    const size_t fold_end = fold ? fresh - keep : chain.size();  // one past the last
    uint32_t fold_node = kNone;
    if (fold) {
      GraphNode f;
      f.object = GraphNode::kSyntheticObject;
      f.synthetic = true;
      f.folded = fold_end - fold_begin;
      f.type = CommonType(chain, fold_begin, fold_end);
      f.value = RepeatedLabel(chain, fold_begin + 1, fold_end);
      fold_node = AddNode(std::move(f));
    }
    uint32_t below = drawn_[v];
    for (size_t i = 0; i < chain.size(); ++i) {
      const uint32_t from = chain[i].from;
      uint32_t from_node;
      if (i >= fold_begin && i < fold_end) {
        from_node = fold_node;
        drawn_[from] = fold_node;  // walks that reach it join the fold
      } else if (drawn_[from] != kNone) {
        from_node = drawn_[from];
      } else {
        from_node = AddObject(from);
      }
      const bool inside_fold = i > fold_begin && i < fold_end;
      if (!inside_fold) {
        AddEdge(from_node, below, chain[i].label, chain[i].kind, alternative);
        if (up_[below] == kNone) up_[below] = from_node;
      }
      below = from_node;
    }
    if (chain.empty() || (!join && !IsRoot(top))) AttachPathless(top);
    return true;
  }

  std::string CommonType(const std::vector<Step>& chain, size_t begin, size_t end) const {
    const std::string& first = s_.TypeQualname(NodeIndex(chain[begin].from));
    for (size_t i = begin + 1; i < end; ++i) {
      if (s_.TypeQualname(NodeIndex(chain[i].from)) != first) return "objects";
    }
    return CutLabel(first);
  }

  // The folded steps' label with its count when they are all one (`.next{99990}`), else "".
  static std::string RepeatedLabel(const std::vector<Step>& chain, size_t begin, size_t end) {
    if (begin >= end) return "";
    for (size_t i = begin + 1; i < end; ++i) {
      if (chain[i].label != chain[begin].label) return "";
    }
    return chain[begin].label + "{" + std::to_string(end - begin) + "}";
  }

  // An object with no path from a root (the top of its chain): under the synthetic root that
  // says why.
  void AttachPathless(uint32_t v) {
    if (IsRoot(v)) return;
    const bool garbage = a_.collector.unreachable[v] != 0;
    uint32_t& pseudo = garbage ? garbage_root_ : pathless_root_;
    if (pseudo == kNone) {
      GraphNode r;
      r.object = GraphNode::kSyntheticObject;
      r.synthetic = true;
      r.root = garbage ? kGarbagePathText : "<held only by unreachable garbage, or by nothing>";
      pseudo = AddNode(std::move(r));
    }
    AddEdge(pseudo, drawn_[v], "", EdgeKind::kTraverse, false);
    if (up_[drawn_[v]] == kNone) up_[drawn_[v]] = pseudo;
  }

  // A reference `edge` from `referrer` into a drawn object, read as a path step: the namespace
  // dict of an instance or module is passed over (`.x`), as is the cell of a closure.
  Step ReferrerStep(uint32_t referrer, uint64_t edge) const {
    const uint32_t to = s_.edge_target[edge];
    Step out{referrer, to, "", s_.edge_kind[edge]};
    const uint32_t up = a_.parent_edge[referrer];
    const bool has_up = up != Analysis::kIsRoot && up != Analysis::kNoParent;
    const LabelKind kind = s_.edge_label_kind[edge];
    if (has_up && Snapshot::IsStrKeyLabel(kind) && s_.IsField(up, "__dict__")) {
      std::string name = NameStep(s_, edge);
      if (!name.empty()) {
        out.from = a_.parent[referrer];
        out.label = std::move(name);
        return out;
      }
    }
    if (has_up && s_.IsField(edge, "cell_contents") &&
        s_.edge_label_kind[up] == LabelKind::kClosureVariable) {
      const uint32_t tuple = a_.parent[referrer];
      const uint32_t into_tuple = a_.parent_edge[tuple];
      if (into_tuple != Analysis::kIsRoot && into_tuple != Analysis::kNoParent &&
          s_.IsField(into_tuple, "__closure__")) {
        out.from = a_.parent[tuple];
        out.label = CutLabel(".<closure " + s_.LabelString(up) + ">");
        return out;
      }
    }
    out.label = Joinable(CutLabel(s_.EdgeLabel(edge)));
    return out;
  }

  // Whether `x` is on the shortest path of object `v`: walks up at most kMaxCandidateSteps
  // objects, then the drawn tree. nullopt when the walk gives up.
  std::optional<bool> PathPassesThrough(uint32_t v, uint32_t x) const {
    uint32_t u = v;
    for (size_t steps = 0; steps < kMaxCandidateSteps; ++steps) {
      if (u == x) return true;
      if (drawn_[u] != kNone) {
        // The drawn tree: up_ links from node to node, at most one per node.
        const uint32_t target_node = drawn_[x];
        uint32_t n = drawn_[u];
        for (size_t k = 0; k <= graph_.nodes.size() && n != kNone; ++k) {
          if (n == target_node) return true;
          n = up_[n];
        }
        return false;
      }
      const uint32_t e = a_.parent_edge[u];
      if (e == Analysis::kIsRoot) return false;
      if (e == Analysis::kNoParent) return !a_.collector.unreachable[x] ? true : false;
      u = a_.parent[u];
    }
    return std::nullopt;
  }

  // For each target: up to paths - 1 other retaining referrers of it or of the objects drawn
  // on its path (nearest first) whose own shortest path does not go through it, each drawn with
  // its path; then the target's remaining referrers, one by one or, more than
  // fold_fan_in_above of one type, folded into one node.
  void AddAlternativesAndFanIns() {
    // The drawn path objects of each target, nearest first.
    std::vector<std::vector<uint32_t>> on_path(targets_.size());
    std::vector<uint32_t> wanted;
    for (size_t i = 0; i < targets_.size(); ++i) {
      for (uint32_t n = drawn_[targets_[i]], k = 0; n != kNone && k <= graph_.nodes.size();
           n = up_[n], ++k) {
        if (graph_.nodes[n].synthetic) break;  // past a fold, alternatives are far away
        if (k > 0 && IsRoot(graph_.nodes[n].object)) break;  // a root needs no other path
        on_path[i].push_back(graph_.nodes[n].object);
        if (options_.paths <= 1 && k > 0) break;  // only the target's own fan-in is needed
      }
      wanted.insert(wanted.end(), on_path[i].begin(), on_path[i].end());
    }
    if (wanted.empty()) return;
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    // One pass over the edges for all of them (snapshot.h: O(n + m)).
    const auto referrers = FindReferrers(s_, wanted);
    auto referrers_of = [&](uint32_t v) -> const std::vector<Referrer>& {
      static const std::vector<Referrer> kNoReferrers;
      auto it = referrers.find(v);
      return it == referrers.end() ? kNoReferrers : it->second;
    };

    for (size_t i = 0; i < targets_.size(); ++i) {
      const uint32_t t = targets_[i];
      uint32_t found = 0;
      size_t tried = 0;
      for (const uint32_t x : on_path[i]) {
        if (found + 1 >= options_.paths || tried >= kMaxCandidates) break;
        for (const Referrer& r : referrers_of(x)) {
          if (found + 1 >= options_.paths || tried >= kMaxCandidates) break;
          if (!Retains(s_.edge_kind[r.edge]) || r.edge == a_.parent_edge[x]) continue;
          Step step = ReferrerStep(r.source.value(), r.edge);
          if (step.from == x || HasEdge(step.from, x)) continue;
          ++tried;
          const std::optional<bool> through = PathPassesThrough(step.from, x);
          if (!through.has_value() || *through) continue;
          if (!AddReferrer(step, /*with_path=*/true)) {
            graph_.truncated = true;
            break;
          }
          ++found;
        }
      }
      AddFanIn(t, referrers_of(t));
    }
  }

  static uint64_t EdgeKey(uint32_t from_node, uint32_t to_node) {
    return uint64_t{from_node} << 32 | to_node;
  }
  bool HasEdge(uint32_t from_object, uint32_t to_object) const {
    if (drawn_[from_object] == kNone || drawn_[to_object] == kNone) return false;
    return edge_keys_.count(EdgeKey(drawn_[from_object], drawn_[to_object])) != 0;
  }

  // Draws the referrer of `step` (and, with_path, its path) and its edge into step.to.
  bool AddReferrer(Step& step, bool with_path) {
    const bool fresh = drawn_[step.from] == kNone;
    if (fresh) {
      if (graph_.nodes.size() >= options_.max_nodes) return false;
      AddObject(step.from);
    }
    AddEdge(drawn_[step.from], drawn_[step.to], std::move(step.label), step.kind,
            /*alternative=*/true);
    if (fresh && with_path && !AddPath(step.from, /*alternative=*/true)) return false;
    return true;
  }

  // The target's retaining referrers not drawn yet, grouped by the type of what refers; of each
  // type, the first fold_fan_in_above + 1 are kept (the others are only counted).
  struct FanIn {
    uint64_t count = 0;
    std::vector<Step> first;
    bool one_label = true;
  };
  void AddFanIn(uint32_t t, const std::vector<Referrer>& referrers) {
    std::map<uint32_t, FanIn> by_type;  // by type id: the same picture every run
    const size_t keep = size_t{options_.fold_fan_in_above} + 1;
    for (const Referrer& r : referrers) {
      if (!Retains(s_.edge_kind[r.edge]) || r.edge == a_.parent_edge[t]) continue;
      Step step = ReferrerStep(r.source.value(), r.edge);
      if (step.from == t || HasEdge(step.from, t)) continue;
      FanIn& group = by_type[s_.type[step.from].value()];
      ++group.count;
      if (!group.first.empty() && step.label != group.first.front().label) group.one_label = false;
      if (group.first.size() < keep) group.first.push_back(std::move(step));
    }
    for (auto& [type, group] : by_type) {
      if (group.count > options_.fold_fan_in_above) {
        if (graph_.nodes.size() >= options_.max_nodes) {
          graph_.truncated = true;
          return;
        }
        GraphNode f;
        f.object = GraphNode::kSyntheticObject;
        f.synthetic = true;
        f.folded = group.count;
        f.type = CutLabel(s_.TypeQualname(NodeIndex(group.first.front().from)));
        const uint32_t id = AddNode(std::move(f));
        AddEdge(id, drawn_[t], group.one_label ? group.first.front().label : "",
                group.first.front().kind, true);
        continue;
      }
      for (Step& step : group.first) {
        if (HasEdge(step.from, t)) continue;  // two references from one object: drawn once
        if (!AddReferrer(step, /*with_path=*/false)) {
          graph_.truncated = true;
          return;
        }
      }
    }
  }

  const Analysis& a_;
  const Snapshot& s_;
  const RetainerGraphOptions& options_;
  RetainerGraph graph_;
  // Per object: the node that draws it (or the fold that stands for it), kNone if none. O(n)
  // memory, so that every walk stops at what is drawn in O(1).
  std::vector<uint32_t> drawn_;
  std::vector<uint32_t> up_;  // per node: the node above it on a shortest path, kNone at a root
  std::vector<uint32_t> targets_;           // the targets drawn, in order
  std::unordered_set<uint64_t> edge_keys_;  // EdgeKey of every edge drawn
  uint32_t garbage_root_ = kNone;
  uint32_t pathless_root_ = kNone;
};

}  // namespace

StatusOr<RetainerGraph> BuildRetainerGraph(const Analysis& analysis,
                                           const std::vector<NodeIndex>& targets,
                                           const RetainerGraphOptions& options) {
  if (targets.empty()) return InvalidArgument("retainer graph: no objects to draw");
  if (options.paths == 0) return InvalidArgument("retainer graph: paths must be at least 1");
  if (options.max_nodes == 0)
    return InvalidArgument("retainer graph: max_nodes must be at least 1");
  GraphBuilder builder(analysis, options);
  return builder.Build(targets);
}

}  // namespace heapsnap

// Accumulation points (Eclipse MAT's leak suspects): from each object that retains a large share
// of the heap, follow the largest dominated child while it keeps at least 70% of its parent's
// retained size; where that stops is the container that grows. Where each walk stops is kept,
// so walks that meet (the nodes of a long chain) go down once: O(n) in all.
//
// Fields: container (the qualified type of the container; of a linked chain's first node),
// length (its entries: a dict's key and value are one; of a chain, its nodes). A cache whose
// owner declares a limit it is within is a note.
#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "detector_util.h"
#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/analyze/paths.h"

namespace heapsnap {
namespace {

constexpr double kFollowRatio = 0.7;
constexpr uint64_t kMinItems = 16;

bool IsEntry(LabelKind k) {
  return k == LabelKind::kIndex || k == LabelKind::kDictKey || k == LabelKind::kDictKeyInt ||
         k == LabelKind::kDictKeyRef || k == LabelKind::kSetMember;
}

// The type most of a container's entries have, and how many have it.
std::pair<std::string, uint64_t> CommonEntryType(const Snapshot& s, uint32_t container) {
  std::map<uint32_t, uint64_t> count;
  for (uint64_t e = s.edge_begin[container]; e < s.edge_begin[container + 1]; ++e) {
    if (IsEntry(s.edge_label_kind[e])) ++count[s.type[s.edge_target[e]].value()];
  }
  std::pair<std::string, uint64_t> best;
  for (const auto& [type, n] : count) {
    if (n > best.second) best = {s.String(s.types[type].qualname), n};
  }
  return best;
}

// The bound a cache object declares for itself: an int attribute named like a limit
// (`self.maxsize = 256`), on the object or in its __dict__. 0 when there is none.
uint64_t DeclaredBound(const Snapshot& s, uint32_t holder) {
  static const char* const kNames[] = {"maxsize", "max_size",    "maxlen",    "capacity",
                                       "limit",   "max_entries", "size_limit"};
  auto bound_in = [&](uint32_t v) -> uint64_t {
    for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
      const LabelKind k = s.edge_label_kind[e];
      std::string name;
      if (k == LabelKind::kAttribute) {
        name = s.LabelString(e);
      } else if (Snapshot::IsDictValueLabel(k)) {
        const std::string repr = s.DictKeyRepr(e);
        if (repr.size() > 2) name = repr.substr(1, repr.size() - 2);
      }
      bool named = false;
      for (const char* n : kNames) named |= name == n;
      if (!named) continue;
      const NodeIndex t(s.edge_target[e]);
      const ValueRecord* value = s.TypeName(t) == "int" ? s.Value(t) : nullptr;
      if (value == nullptr || value->text.empty() || value->text.size() > 18) continue;
      if (value->text.find_first_not_of("0123456789") != std::string::npos) continue;
      return std::stoull(value->text);
    }
    return 0;
  };
  if (const uint64_t b = bound_in(holder)) return b;
  const int64_t ns = detect::EdgeTo(s, NodeIndex(holder), LabelKind::kField, "__dict__");
  return ns >= 0 ? bound_in(static_cast<uint32_t>(ns)) : 0;
}

// Entries of a C container that labels nothing: the references its tp_traverse reports to
// objects of its most common referent type (atexit's state reports a callback and its
// arguments per entry).
uint64_t TraversedEntries(const Snapshot& s, uint32_t v) {
  std::map<uint32_t, uint64_t> per_type;
  uint64_t most = 0;
  for (uint64_t e = s.edge_begin[v]; e < s.edge_begin[v + 1]; ++e) {
    if (s.edge_label_kind[e] != LabelKind::kTraverseIndex) continue;
    most = std::max(most, ++per_type[s.type[s.edge_target[e]].value()]);
  }
  return most;
}

bool Contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// A fix that fits what the container holds, and what holds it.
std::string FixFor(const Finding& f, const std::string& entry_type, const std::string& holder) {
  if (Contains(f.path_text, "['atexit']")) {
    return "atexit keeps every callback, and what it is bound to, until exit: unregister it "
           "when the object is closed (atexit.unregister(f)), or register a function that "
           "holds only a weakref to the object";
  }
  if (Contains(f.container, "lru_cache") || Contains(holder, "lru_cache")) {
    return "an lru_cache on a method keeps every self it saw alive: cache on the instance "
           "(functools.cached_property, or a dict attribute), or give it a small maxsize";
  }
  if (entry_type == "generator" || entry_type == "coroutine" || entry_type == "async_generator") {
    return "suspended generators keep their frame and every local alive: close() them (or run "
           "them to the end) when done, and keep no list of unfinished ones";
  }
  if (Contains(f.path_text, ".localdicts[")) {
    return "a threading.local keeps one dict per live thread: delete what you stored "
           "(del local.attr) when the thread's work is done, or end the thread";
  }
  if (Contains(entry_type, "Task") || Contains(entry_type, "Future")) {
    return "keep tasks only while they run: tasks.add(t); t.add_done_callback(tasks.discard)";
  }
  if (Contains(entry_type, "Handler")) {
    return "add the handler once (at start-up, or only if it is not in logger.handlers yet) "
           "and remove it when done: logger.removeHandler(handler)";
  }
  if (entry_type == "function" || entry_type == "method" || entry_type == "functools.partial" ||
      entry_type == "builtin_function_or_method") {
    return "unregister callbacks when they are done, or keep them in a weakref.WeakSet or "
           "as weakref.WeakMethod so the registry does not keep their objects alive";
  }
  if (Contains(entry_type, "Logger")) {
    return "loggers are never freed: name them per module (logging.getLogger(__name__)), "
           "not per request or per object, and pass the varying part in extra= or the message";
  }
  return "if it only grows, bound it: evict old entries (functools.lru_cache(maxsize=...), or "
         "a collections.OrderedDict trimmed with popitem(last=False)), keep weak references "
         "(weakref.WeakValueDictionary), or delete entries when their work is done; if it is "
         "filled once, this is its size (one snapshot cannot tell the two apart)";
}

// Where the walks from the objects that retain `threshold` or more stop: from each, down the
// largest dominated child while it keeps kFollowRatio of its parent's retained size.
std::set<uint32_t> AccumulationPoints(const Analysis& a, uint64_t threshold) {
  const auto n = static_cast<uint32_t>(a.snapshot().object_count());
  std::vector<uint32_t> end(n, UINT32_MAX);  // where the walk from each object stops
  std::vector<uint32_t> walked;
  std::set<uint32_t> points;
  for (uint32_t v = 0; v < n; ++v) {
    if (a.retained[v] < threshold) continue;
    uint32_t cur = v;
    while (end[cur] == UINT32_MAX) {
      uint32_t best = UINT32_MAX;
      for (uint64_t c = a.dom_child_begin[cur]; c < a.dom_child_begin[cur + 1]; ++c) {
        const uint32_t w = a.dom_children[c];
        if (best == UINT32_MAX || a.retained[w] > a.retained[best]) best = w;
      }
      if (best == UINT32_MAX || static_cast<double>(a.retained[best]) <
                                    kFollowRatio * static_cast<double>(a.retained[cur])) {
        end[cur] = cur;
        break;
      }
      walked.push_back(cur);
      cur = best;
    }
    for (uint32_t w : walked) end[w] = end[cur];
    walked.clear();
    points.insert(end[cur]);
  }
  return points;
}

// A finding about the container (or chain) at `node`, of `length` entries, with its path.
Finding FindingAt(const Analysis& a, NodeIndex node, uint64_t length) {
  Finding f;
  f.container = a.snapshot().TypeQualname(node);
  f.length = length;
  f.retained_bytes = a.retained[node.value()];
  f.objects = a.retained_count[node.value()];
  f.examples.push_back(node);
  detect::SetPath(a, node, &f);
  return f;
}

// Down a chain from its head: each step to the dominated child of the head's type that
// retains the most. Returns the chain's length; *tail gets its last node.
uint64_t ChainFrom(const Analysis& a, uint32_t head, uint32_t* tail) {
  const Snapshot& s = a.snapshot();
  uint64_t length = 1;
  uint32_t cur = head;
  for (;;) {
    uint32_t next = UINT32_MAX;
    for (uint64_t c = a.dom_child_begin[cur]; c < a.dom_child_begin[cur + 1]; ++c) {
      const uint32_t w = a.dom_children[c];
      if (s.type[w] == s.type[head] && (next == UINT32_MAX || a.retained[w] > a.retained[next]))
        next = w;
    }
    if (next == UINT32_MAX) break;
    ++length;
    cur = next;
  }
  *tail = cur;
  return length;
}

// Linked chains keep their memory in no container: each node dominates the next, so the walk
// above goes down to the chain's end, where little is left. A chain is found at its head
// (the first node of its type on the dominator path) when kMinItems or more nodes of one
// type follow each other, each dominating the next (down the largest such child: a balanced
// tree's path is log n long). Each node is walked at most once (only heads start a walk):
// O(n).
void FindChains(const DetectorInput& input, std::vector<Finding>* findings) {
  const Analysis& a = input.analysis;
  const Snapshot& s = a.snapshot();
  const auto n = static_cast<uint32_t>(s.object_count());
  for (uint32_t v = 0; v < n; ++v) {
    if (a.retained[v] < input.thresholds.share_bytes) continue;
    const uint32_t up = a.idom[v];
    if (up < n && s.type[up] == s.type[v]) continue;  // inside a chain, not its head
    uint32_t tail = v;
    const uint64_t length = ChainFrom(a, v, &tail);
    if (length < kMinItems) continue;
    const NodeIndex head(v);
    Finding f = FindingAt(a, head, length);
    if (f.path.empty()) continue;  // garbage: the cycle detectors' business
    const uint32_t tail_shape = input.shapes.Of(NodeIndex(tail));
    const std::string chain = tail_shape != kNoShape ? input.shapes.Text(tail_shape) : f.path_text;
    detect::CountRetainedTypes(a, {head}, &f);
    f.title = "linked chain " + chain + " of " + FormatCount(length) + " " + f.container +
              " keeps " + FormatBytes(f.retained_bytes) + " alive that nothing else holds: " +
              detect::Percent(f.retained_bytes, input.thresholds.live_bytes) + " of the live heap";
    f.details.push_back("each " + f.container +
                        " keeps the next one alive; the chain is held at its head, " + f.path_text);
    f.fix =
        "a linked structure that only grows: unlink nodes once they are used (move the head "
        "on), bound its length, or keep the items in a collections.deque(maxlen=...)";
    findings->push_back(std::move(f));
  }
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The object whose attribute or namespace holds the container at `p` (an instance, not its
// __dict__); UINT32_MAX for a root.
uint32_t OwnerOf(const Analysis& a, uint32_t p) {
  const Snapshot& s = a.snapshot();
  const uint64_t into = a.parent_edge[p];
  if (into == Analysis::kIsRoot || into == Analysis::kNoParent) return UINT32_MAX;
  uint32_t owner = a.parent[p];
  const uint64_t up = a.parent_edge[owner];
  if (s.TypeName(NodeIndex(owner)) == "dict" && up != Analysis::kIsRoot &&
      up != Analysis::kNoParent && s.IsField(up, "__dict__")) {
    owner = a.parent[owner];
  }
  return owner;
}

// The title: what the container holds, and its share of the heap.
std::string ContainerTitle(const DetectorInput& input, const Finding& f, uint32_t p,
                           const std::string& entry_type, uint64_t alike) {
  const Analysis& a = input.analysis;
  const uint64_t children = a.dom_child_begin[p + 1] - a.dom_child_begin[p];
  std::string held = f.length > 0 ? FormatCount(f.length) + (f.length == 1 ? " entry" : " entries")
                                  : FormatCount(children) + " objects";
  if (f.length > 0 && alike * 2 > f.length) held += " (mostly " + entry_type + ")";
  return f.container + " " + f.path_text + " holds " + held + " and keeps " +
         FormatBytes(f.retained_bytes) + " alive that nothing else holds: " +
         detect::Percent(f.retained_bytes, input.thresholds.live_bytes) + " of the live heap";
}

// The finding for the accumulation point p, if it is a container that grows: not a root or a
// namespace, which are where globals live.
std::optional<Finding> ContainerFinding(const DetectorInput& input, uint32_t p) {
  const Analysis& a = input.analysis;
  const Snapshot& s = a.snapshot();
  const NodeIndex node(p);
  Finding f = FindingAt(a, node, detect::ContainerLength(s, node));
  // Roots (sys.modules) and namespaces (a module's or class's __dict__, a function's
  // __globals__) are where globals live, not containers that grow.
  if (f.path.size() <= 1) return std::nullopt;
  if (EndsWith(f.path_text, ".__dict__") || EndsWith(f.path_text, ".__globals__")) {
    return std::nullopt;
  }
  detect::CountRetainedTypes(a, {node}, &f);
  const auto [entry_type, alike] = CommonEntryType(s, p);
  if (f.length == 0) f.length = TraversedEntries(s, p);
  f.title = ContainerTitle(input, f, p, entry_type, alike);
  const uint32_t owner = OwnerOf(a, p);
  const std::string holder = owner == UINT32_MAX ? "" : s.TypeQualname(NodeIndex(a.parent[p]));
  f.fix = FixFor(f, entry_type, holder);
  // A cache that says how big it may grow, and is within that, is at its size, not leaking:
  // a note.
  const uint64_t bound = owner == UINT32_MAX || f.length == 0 ? 0 : DeclaredBound(s, owner);
  if (bound > 0 && f.length <= bound) {
    f.severity = Severity::kLow;
    f.title += " (bounded: its owner declares a limit of " + FormatCount(bound) + ")";
    f.fix =
        "a cache at its declared limit is at its size, not leaking; lower the limit if the "
        "memory matters";
  }
  return f;
}

class AccumulationDetector : public Detector {
 public:
  // Its findings are the containers themselves.
  bool ExplainsContainers() const override { return false; }
  const char* name() const override { return "accumulation"; }

  std::vector<KindField> Fields(const Finding& f) const override {
    return {KindField::Text("container", f.container), KindField::Number("length", f.length)};
  }

  void Run(const DetectorInput& input, std::vector<Finding>* findings) const override {
    const Analysis& a = input.analysis;
    const Snapshot& s = a.snapshot();
    const std::set<uint32_t> points = AccumulationPoints(a, input.thresholds.share_bytes);
    FindChains(input, findings);
    for (uint32_t p : points) {
      const uint64_t children = a.dom_child_begin[p + 1] - a.dom_child_begin[p];
      if (a.retained[p] < input.thresholds.share_bytes || children < kMinItems) continue;
      // A module's namespace is where globals live, not a container that grows; but a module
      // whose C state holds many objects (atexit's callbacks before 3.10) is one.
      if (s.TypeName(NodeIndex(p)) == "module" && TraversedEntries(s, p) < kMinItems) continue;
      if (auto f = ContainerFinding(input, p)) findings->push_back(std::move(*f));
    }
  }
};

}  // namespace

std::unique_ptr<Detector> MakeAccumulationDetector() {
  return std::make_unique<AccumulationDetector>();
}

}  // namespace heapsnap

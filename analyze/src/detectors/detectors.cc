#include "heapsnap/analyze/detectors.h"

#include <algorithm>
#include <cstdio>

#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/text.h"

namespace heapsnap {

std::unique_ptr<Detector> MakeUnreachableCycleDetector();
std::unique_ptr<Detector> MakeClosureDetector();
std::unique_ptr<Detector> MakeMutableDefaultDetector();
std::unique_ptr<Detector> MakeFinalizerDetector();
std::unique_ptr<Detector> MakeTracebackDetector();
std::unique_ptr<Detector> MakeAccumulationDetector();
std::unique_ptr<Detector> MakeExternalDetector();

const char* FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kNone:
      return "none";
    case FindingKind::kUnreachableCycle:
      return "unreachable_cycle";
    case FindingKind::kClosure:
      return "closure";
    case FindingKind::kMutableDefault:
      return "mutable_default";
    case FindingKind::kFinalizer:
      return "finalizer";
    case FindingKind::kTraceback:
      return "traceback";
    case FindingKind::kAccumulation:
      return "accumulation";
    case FindingKind::kExternal:
      return "external";
  }
  return "none";
}

const char* SeverityName(Severity severity) { return severity == Severity::kLow ? "low" : "high"; }

std::vector<KindField> KindFields(const Finding& f) {
  auto text = [](const char* name, const std::string& value) {
    return KindField{name, value, 0, false};
  };
  auto number = [](const char* name, uint64_t value) { return KindField{name, "", value, true}; };
  switch (f.kind) {
    case FindingKind::kClosure:
      return {text("function", f.function), text("location", f.location),
              text("variable", f.variable)};
    case FindingKind::kMutableDefault:
      return {text("function", f.function), text("location", f.location),
              text("parameter", f.parameter), text("container", f.container),
              number("length", f.length)};
    case FindingKind::kFinalizer:
      return {text("reason", f.reason), text("type", f.container)};
    case FindingKind::kAccumulation:
      return {text("container", f.container), number("length", f.length)};
    case FindingKind::kTraceback:
      return {text("exception", f.container)};
    case FindingKind::kExternal:
      return {text("type", f.container), number("references", f.references),
              text("function", f.function)};
    case FindingKind::kUnreachableCycle:
      return {text("shape", f.container)};
    case FindingKind::kNone:
      break;
  }
  return {};
}

std::vector<std::unique_ptr<Detector>> AllDetectors() {
  std::vector<std::unique_ptr<Detector>> all;
  all.push_back(MakeUnreachableCycleDetector());
  all.push_back(MakeClosureDetector());
  all.push_back(MakeMutableDefaultDetector());
  all.push_back(MakeFinalizerDetector());
  all.push_back(MakeTracebackDetector());
  all.push_back(MakeAccumulationDetector());
  all.push_back(MakeExternalDetector());
  return all;
}

namespace {

// One finding per cause: a container that grows (accumulation) whose growth is the objects of
// a more specific finding (closures in a listener list, stored exceptions in a list, a
// mutable default's items) is that finding's container, said in its details, not a second
// finding with a second fix.
void MergeSameCause(const Analysis& a, std::vector<Finding>* findings) {
  bool any = false;
  for (const Finding& f : *findings) any |= f.kind == FindingKind::kAccumulation;
  if (!any) return;
  // Intervals of the dominator tree: x is in v's subtree iff enter[v] <= enter[x] <= exit[v].
  const uint32_t vertices = a.super_root() + 2;
  std::vector<uint32_t> enter(vertices, 0), exit(vertices, 0);
  uint32_t clock = 0;
  std::vector<std::pair<uint32_t, uint64_t>> stack;
  stack.emplace_back(a.super_root(), a.dom_child_begin[a.super_root()]);
  enter[a.super_root()] = clock++;
  while (!stack.empty()) {
    auto& [v, next] = stack.back();
    if (next == a.dom_child_begin[v + 1]) {
      exit[v] = clock;
      stack.pop_back();
      continue;
    }
    const uint32_t c = a.dom_children[next++];
    enter[c] = ++clock;
    stack.emplace_back(c, a.dom_child_begin[c]);
  }
  auto inside = [&](NodeIndex x, NodeIndex container) {
    return enter[container.value()] <= enter[x.value()] &&
           enter[x.value()] <= exit[container.value()];
  };
  std::vector<uint8_t> dropped(findings->size(), 0);
  for (size_t i = 0; i < findings->size(); ++i) {
    const Finding& container = (*findings)[i];
    if (container.kind != FindingKind::kAccumulation || container.examples.empty()) continue;
    for (size_t j = 0; j < findings->size(); ++j) {
      Finding& specific = (*findings)[j];
      if (j == i || dropped[j] || specific.kind == FindingKind::kAccumulation ||
          specific.kind == FindingKind::kUnreachableCycle || specific.severity == Severity::kLow ||
          specific.examples.empty() || 2 * specific.retained_bytes < container.retained_bytes) {
        continue;
      }
      // The other way round: the container is what the finding's object keeps (a stored
      // exception's frame holds a big list): one cause, said in the finding's details.
      bool kept_by_it = false;
      for (NodeIndex x : specific.examples) kept_by_it |= inside(container.examples.front(), x);
      if (kept_by_it) {
        specific.details.push_back("the largest part: " + container.container + " " +
                                   container.path_text + " (" + FormatCount(container.length) +
                                   (container.length == 1 ? " entry, " : " entries, ") +
                                   FormatBytes(container.retained_bytes) + ")");
        dropped[i] = 1;
        break;
      }
      bool all_inside = true;
      for (NodeIndex x : specific.examples) all_inside &= inside(x, container.examples.front());
      if (!all_inside) continue;
      specific.details.insert(specific.details.begin(),
                              "they accumulate in " + container.container + " " +
                                  container.path_text + " (" + FormatCount(container.length) +
                                  (container.length == 1 ? " entry, " : " entries, ") +
                                  FormatBytes(container.retained_bytes) + ")");
      dropped[i] = 1;
      break;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < findings->size(); ++i) {
    if (dropped[i]) continue;
    if (kept != i) (*findings)[kept] = std::move((*findings)[i]);
    ++kept;
  }
  findings->resize(kept);
}

}  // namespace

Thresholds ThresholdsFor(const Analysis& a, const DetectorOptions& options) {
  const uint64_t live = a.retained[a.super_root()] - a.retained[a.garbage_root()];
  const auto share =
      static_cast<uint64_t>(std::max(0.0, options.min_share) * static_cast<double>(live));
  return {live, std::max(options.min_bytes, share)};
}

std::vector<Finding> DetectLeaks(const Analysis& analysis, const DetectorOptions& options) {
  std::vector<Finding> findings;
  const PathShapes shapes(analysis);
  const Thresholds thresholds = ThresholdsFor(analysis, options);
  const DetectorInput input{analysis, shapes, options, thresholds.live_bytes,
                            thresholds.share_bytes};
  for (const auto& detector : AllDetectors()) detector->Run(input, &findings);
  MergeSameCause(analysis, &findings);
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if ((a.severity == Severity::kLow) != (b.severity == Severity::kLow))
      return b.severity == Severity::kLow;
    return a.retained_bytes > b.retained_bytes;
  });
  return findings;
}

namespace detect {

int64_t EdgeTo(const Snapshot& s, NodeIndex node, LabelKind kind, const std::string& label) {
  const uint32_t n = node.value();
  for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
    if (s.edge_label_kind[e] != kind) continue;
    if (LabelHasString(kind) &&
        s.String(StringId(static_cast<uint32_t>(s.LabelValue(e)))) != label) {
      continue;
    }
    return s.edge_target[e];
  }
  return -1;
}

void SetPath(const Analysis& a, NodeIndex node, Finding* f) {
  RetainerPath p = a.PathTo(node);
  if (!p.found) {
    f->path_text = p.garbage ? "<unreachable garbage>" : "<no path>";
    return;
  }
  RenderedPath r = RenderPath(a, p);
  f->path.push_back(r.root);
  for (const auto& step : r.steps) f->path.push_back(step.label);
  f->path_text = r.text;
}

uint64_t ContainerLength(const Snapshot& s, NodeIndex node) {
  const uint32_t n = node.value();
  uint64_t items = 0;
  for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
    switch (s.edge_label_kind[e]) {
      case LabelKind::kIndex:
      case LabelKind::kDictKey:
      case LabelKind::kDictKeyInt:
      case LabelKind::kDictKeyRef:
      case LabelKind::kSetMember:
        ++items;
        break;
      default:
        break;
    }
  }
  return items;
}

void CountRetainedTypes(const Analysis& a, const std::vector<NodeIndex>& nodes, Finding* f) {
  const Snapshot& s = a.snapshot();
  const auto n = static_cast<uint32_t>(s.object_count());
  std::vector<uint32_t> stack;
  size_t budget = 2000000;  // a finding over a huge subtree counts its first two million objects
  for (NodeIndex start : nodes) {
    stack.push_back(start.value());
    while (!stack.empty() && budget > 0) {
      const uint32_t v = stack.back();
      stack.pop_back();
      --budget;
      if (v < n) ++f->types[s.TypeName(NodeIndex(v))];
      for (uint64_t c = a.dom_child_begin[v]; c < a.dom_child_begin[v + 1]; ++c) {
        stack.push_back(a.dom_children[c]);
      }
    }
    stack.clear();
  }
}

std::string Location(const Snapshot& s, NodeIndex node) {
  const NameRecord* name = s.Name(node);
  if (name == nullptr || !name->file.valid()) return "";
  return s.String(name->file) + ":" + std::to_string(name->line);
}

std::string Percent(uint64_t part, uint64_t whole) {
  char text[32];
  std::snprintf(
      text, sizeof(text), "%.0f%%",
      100.0 * static_cast<double>(part) / static_cast<double>(std::max<uint64_t>(whole, 1)));
  return text;
}

bool InLibrary(const std::string& location) {
  return location.find("/lib/python3") != std::string::npos ||
         location.find("-packages/") != std::string::npos;
}

std::string QualifiedName(const Snapshot& s, NodeIndex node) {
  const NameRecord* name = s.Name(node);
  return name != nullptr ? s.String(name->name) : s.TypeName(node);
}

}  // namespace detect
}  // namespace heapsnap

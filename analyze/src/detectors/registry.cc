// The detector registry (HEAPSNAP_DETECTORS), the run over all detectors, and the one rule that
// applies across detectors: one finding per cause.
#include <algorithm>
#include <cassert>

#include "detector_util.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/heap_diff.h"
#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/base/hash.h"

namespace heapsnap {
namespace {

// Intervals of the dominator tree, so that "is x dominated by v" costs O(1): x is in v's
// subtree iff enter[v] <= enter[x] <= exit[v].
class DominatorIntervals {
 public:
  explicit DominatorIntervals(const Analysis& a) {
    const uint32_t vertices = a.super_root() + 2;
    enter_.assign(vertices, 0);
    exit_.assign(vertices, 0);
    uint32_t clock = 0;
    std::vector<std::pair<uint32_t, uint64_t>> stack;
    stack.emplace_back(a.super_root(), a.dom_child_begin[a.super_root()]);
    enter_[a.super_root()] = clock++;
    while (!stack.empty()) {
      auto& [v, next] = stack.back();
      if (next == a.dom_child_begin[v + 1]) {
        exit_[v] = clock;
        stack.pop_back();
        continue;
      }
      const uint32_t c = a.dom_children[next++];
      enter_[c] = ++clock;
      stack.emplace_back(c, a.dom_child_begin[c]);
    }
  }
  bool Inside(NodeIndex x, NodeIndex v) const {
    return enter_[v.value()] <= enter_[x.value()] && enter_[x.value()] <= exit_[v.value()];
  }

 private:
  std::vector<uint32_t> enter_, exit_;
};

// "list sys.modules['app'].CACHE (2,000 entries, 4.1 MB)": an accumulation as a detail of the
// finding it merges into.
std::string ContainerText(const Finding& container) {
  return container.container + " " + container.path_text + " (" + FormatCount(container.length) +
         (container.length == 1 ? " entry, " : " entries, ") +
         FormatBytes(container.retained_bytes) + ")";
}

// Whether `specific` can absorb the accumulation `container`: a finding of a kind that explains
// containers, not a note, that retains at least half as much.
bool MayAbsorb(const DetectorRegistry& registry, const Finding& specific,
               const Finding& container) {
  const Detector* detector = registry.Find(specific.kind);
  return detector != nullptr && detector->ExplainsContainers() &&
         specific.severity != Severity::kLow && !specific.examples.empty() &&
         2 * specific.retained_bytes >= container.retained_bytes;
}

// Merges the accumulation `container` into `specific` when they are one cause; returns
// whether it did.
bool Absorb(const DominatorIntervals& tree, const Finding& container, Finding* specific) {
  // The container is what the finding's object keeps (a stored exception's frame holds a
  // big list).
  const NodeIndex where = container.examples.front();
  bool kept_by_it = false;
  for (NodeIndex x : specific->examples) kept_by_it |= tree.Inside(where, x);
  if (kept_by_it) {
    specific->details.push_back("the largest part: " + ContainerText(container));
    return true;
  }
  // The finding's objects are the container's growth (closures in a listener list).
  bool all_inside = true;
  for (NodeIndex x : specific->examples) all_inside &= tree.Inside(x, where);
  if (!all_inside) return false;
  specific->details.insert(specific->details.begin(),
                           "they accumulate in " + ContainerText(container));
  return true;
}

// One finding per cause: a container that grows (accumulation) whose growth is the objects of
// a more specific finding (closures in a listener list, stored exceptions in a list, a
// mutable default's items) is that finding's container, said in its details, not a second
// finding with a second fix.
void MergeSameCause(const DetectorRegistry& registry, const Analysis& a,
                    std::vector<Finding>* findings) {
  bool any = false;
  for (const Finding& f : *findings) any |= f.kind == FindingKind::kAccumulation;
  if (!any) return;
  const DominatorIntervals tree(a);
  std::vector<uint8_t> dropped(findings->size(), 0);
  for (size_t i = 0; i < findings->size(); ++i) {
    const Finding& container = (*findings)[i];
    if (container.kind != FindingKind::kAccumulation || container.examples.empty()) continue;
    for (size_t j = 0; j < findings->size(); ++j) {
      Finding& specific = (*findings)[j];
      if (j == i || dropped[j] || !MayAbsorb(registry, specific, container)) continue;
      if (Absorb(tree, container, &specific)) {
        dropped[i] = 1;
        break;
      }
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

const char* SeverityName(Severity severity) { return severity == Severity::kLow ? "low" : "high"; }

const DetectorRegistry& DetectorRegistry::BuiltIn() {
  static const DetectorRegistry* const registry = [] {
    auto* r = new DetectorRegistry;
#define HEAPSNAP_REGISTER(kind, make) r->Add(FindingKind::kind, make());
    HEAPSNAP_DETECTORS(HEAPSNAP_REGISTER)
#undef HEAPSNAP_REGISTER
    return r;
  }();
  return *registry;
}

void DetectorRegistry::Add(FindingKind kind, std::shared_ptr<const Detector> detector) {
  assert(kind != FindingKind::kNone && Find(kind) == nullptr);
  detectors_.emplace_back(kind, std::move(detector));
}

const Detector* DetectorRegistry::Find(FindingKind kind) const {
  for (const auto& [k, detector] : detectors_) {
    if (k == kind) return detector.get();
  }
  return nullptr;
}

const char* DetectorRegistry::KindName(FindingKind kind) const {
  const Detector* d = Find(kind);
  return d != nullptr ? d->name() : "none";
}

std::vector<KindField> DetectorRegistry::Fields(const Finding& finding) const {
  const Detector* d = Find(finding.kind);
  return d != nullptr ? d->Fields(finding) : std::vector<KindField>{};
}

void DetectorRegistry::Run(FindingKind kind, const DetectorInput& input,
                           std::vector<Finding>* findings) const {
  const Detector* d = Find(kind);
  if (d == nullptr) return;
  const size_t first = findings->size();
  d->Run(input, findings);
  for (size_t i = first; i < findings->size(); ++i) (*findings)[i].kind = kind;
}

std::vector<Finding> DetectorRegistry::Detect(const Analysis& analysis,
                                              const DetectorOptions& options) const {
  std::vector<Finding> findings;
  const PathShapes shapes(analysis);
  const Thresholds thresholds = ThresholdsFor(analysis, options);
  const DetectorInput input{analysis, shapes, options, thresholds};
  for (const auto& entry : detectors_) Run(entry.first, input, &findings);
  MergeSameCause(*this, analysis, &findings);
  const PathShapes stable_shapes(analysis, FoldRule::kTwoAlike);
  for (Finding& f : findings) f.fingerprint = FindingFingerprint(analysis, stable_shapes, f);
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if ((a.severity == Severity::kLow) != (b.severity == Severity::kLow))
      return b.severity == Severity::kLow;
    return a.retained_bytes > b.retained_bytes;
  });
  return findings;
}

uint64_t FindingFingerprint(const Analysis& a, const PathShapes& shapes, const Finding& f) {
  uint64_t h = StableHash(FindingKindName(f.kind));
  if (f.examples.empty()) return StableHash(f.shape, StableHash("|", h));
  const NodeIndex example = f.examples.front();
  const uint32_t shape = shapes.Of(example);
  // Garbage has no path: its cycle's shape ("app.Node x2 + dict") stands for one.
  if (shape == kNoShape) return StableHash(f.shape, StableHash("|", h));
  return GroupFingerprint(StableHash(FingerprintHex(shapes.Fingerprint(shape)), h),
                          a.snapshot().TypeQualname(example));
}

const char* FindingKindName(FindingKind kind) { return DetectorRegistry::BuiltIn().KindName(kind); }

std::vector<KindField> KindFields(const Finding& finding) {
  return DetectorRegistry::BuiltIn().Fields(finding);
}

std::vector<Finding> DetectLeaks(const Analysis& analysis, const DetectorOptions& options) {
  return DetectorRegistry::BuiltIn().Detect(analysis, options);
}

Thresholds ThresholdsFor(const Analysis& a, const DetectorOptions& options) {
  const uint64_t live = a.retained[a.super_root()] - a.retained[a.garbage_root()];
  const auto share =
      static_cast<uint64_t>(std::max(0.0, options.min_share) * static_cast<double>(live));
  return {live, std::max(options.min_bytes, share)};
}

}  // namespace heapsnap

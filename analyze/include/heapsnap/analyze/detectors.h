// Leak detectors: one interface, one file per detector (analyze/src/detectors/). Each takes the
// analysed snapshot and appends findings; DetectLeaks runs them all, gives each finding its
// detector's kind, keeps one finding per cause and ranks them by retained bytes.
//
//   DetectorOptions options;
//   options.min_bytes = 10240;
//   for (const Finding& f : DetectLeaks(analysis, options)) {
//     std::cout << FindingKindName(f.kind) << ": " << f.title << "\n  fix: " << f.fix << "\n";
//   }
//
// Adding a detector is adding a file under analyze/src/detectors/ (a class derived from
// Detector: its kind's name, its kind's fields, Run; and a function that makes one; the build
// takes every file there) and one line in HEAPSNAP_DETECTORS. The JSON writer needs nothing
// new: it writes FindingKindName and KindFields, which ask the detector. A field with a new meaning
// is a new member of Finding, documented there; the README's JSON contract lists each kind's
// fields.
#ifndef HEAPSNAP_ANALYZE_DETECTORS_H_
#define HEAPSNAP_ANALYZE_DETECTORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/path_shapes.h"

// Every detector, one line each: the kind of its findings (a FindingKind enumerator) and the
// function, defined in the detector's own file, that makes it. DetectLeaks runs them in this
// order, and findings that retain as much keep it in the ranking. (An X-macro, as Perfetto lists
// its stats, so that the enumerator and the registration are one line.)
#define HEAPSNAP_DETECTORS(X)                        \
  X(kUnreachableCycle, MakeUnreachableCycleDetector) \
  X(kClosure, MakeClosureDetector)                   \
  X(kMutableDefault, MakeMutableDefaultDetector)     \
  X(kFinalizer, MakeFinalizerDetector)               \
  X(kTraceback, MakeTracebackDetector)               \
  X(kAccumulation, MakeAccumulationDetector)         \
  X(kExternal, MakeExternalDetector)

namespace heapsnap {

// What a finding is about: one value per detector. FindingKindName gives the name the JSON
// contract uses ("unreachable_cycle", "closure", ...), which is the detector's name().
enum class FindingKind : uint8_t {
  kNone = 0,  // not set yet (a finding no detector has handed over)
#define HEAPSNAP_FINDING_KIND(kind, make) kind,
  HEAPSNAP_DETECTORS(HEAPSNAP_FINDING_KIND)
#undef HEAPSNAP_FINDING_KIND
};

enum class Severity : uint8_t {
  kHigh = 0,
  kLow,  // a note: ranked last (an empty mutable default, a decorator's wrapper)
};
const char* SeverityName(Severity severity);  // "high", "low"

struct Finding {
  FindingKind kind = FindingKind::kNone;  // set by the registry from the detector's line
  Severity severity = Severity::kHigh;
  std::string title;     // one line, for people
  std::string fix;       // one line: what a Python expert would change
  uint64_t count = 1;    // instances grouped into this finding
  uint64_t objects = 0;  // objects retained
  uint64_t retained_bytes = 0;
  std::map<std::string, uint64_t> types;  // type name -> count, of the retained objects
  std::vector<std::string> path;          // labels from the root to the example, empty for garbage
  std::string path_text;                  // the same as one string
  std::vector<NodeIndex> examples;        // the example first
  std::vector<std::string> details;       // extra lines (frames and locals of a traceback, ...)
  // The same finding in every snapshot, run and machine (FindingFingerprint): the key of
  // suppressions and of `heapsnap check`'s JUnit names.
  uint64_t fingerprint = 0;

  // Fields of some kinds only (empty or 0 for the others), one meaning each; the detectors
  // that set a field are named after it. The JSON names are those of each detector's Fields().
  //
  // The function at fault, qualified (module.Class.method): closure (the function whose
  // closure holds the variable), mutable_default (the function whose default it is), external
  // (what a bound method or a function held from C runs; empty for other types).
  std::string function;
  // Where that function is defined, file:line: closure, mutable_default. The leaks report
  // hides notes on library code by it.
  std::string location;
  std::string variable;   // closure: the closure variable (a cell) that holds the memory
  std::string parameter;  // mutable_default: the parameter whose default it is
  // The qualified type of the container that holds the items: mutable_default (list, dict,
  // ...), accumulation (the container that grows, or the first node of a linked chain).
  std::string container;
  uint64_t length = 0;  // mutable_default, accumulation: entries in it (a key and value are one)
  // The qualified type of the objects the finding is about: finalizer (the type with __del__
  // or tp_del; "gc.garbage" for all of gc.garbage), external (the type held from C code).
  std::string type;
  // finalizer: why the collector cannot simply free them: "resurrected",
  // "cycle_with_finalizer" or "uncollectable".
  std::string reason;
  std::string exception;    // traceback: the qualified type of the stored exception
  std::string shape;        // unreachable_cycle: member types and counts, "app.Node x2 + dict"
  uint64_t references = 0;  // external: references nobody in the heap accounts for
};

// One field of a finding's own kind, named as the JSON contract names it; Detector::Fields
// lists them and the CLI writes every kind the same way.
struct KindField {
  const char* name;
  std::string text;     // when !is_number
  uint64_t number = 0;  // when is_number
  bool is_number = false;

  static KindField Text(const char* name, std::string text) {
    return {name, std::move(text), 0, false};
  }
  static KindField Number(const char* name, uint64_t number) { return {name, "", number, true}; }
};

// A stable hash of the finding's kind, the path shape of its example (`shapes` made with
// FoldRule::kTwoAlike, as heap_diff.h's groups) and the example's type; of garbage, the kind and
// the cycle's shape. Set on every finding DetectLeaks returns.
uint64_t FindingFingerprint(const Analysis& analysis, const PathShapes& shapes,
                            const Finding& finding);

struct DetectorOptions {
  // Findings retaining less are not reported (garbage cycles, finalizers and notes excepted).
  uint64_t min_bytes = uint64_t{10} * 1024;
  // Containers that grow (accumulation) and objects held only from C code (external) must
  // also retain this share of the live heap: 3% finds a container of 5% with room to spare.
  double min_share = 0.03;
};

// The thresholds the options make for one heap, as the report states them.
struct Thresholds {
  uint64_t live_bytes;   // retained by the live heap (all but the garbage)
  uint64_t share_bytes;  // max(min_bytes, min_share * live_bytes)
};
Thresholds ThresholdsFor(const Analysis& analysis, const DetectorOptions& options);

// What every detector reads: the analysis, the path shapes of its objects, the options, and
// the threshold the options make for this heap.
struct DetectorInput {
  const Analysis& analysis;
  const PathShapes& shapes;
  const DetectorOptions& options;
  Thresholds thresholds;
};

class Detector {
 public:
  virtual ~Detector() = default;
  // The name of its findings' kind, as the JSON contract spells it: "closure".
  virtual const char* name() const = 0;
  // Its kind's own fields of a finding it made, named and ordered as the JSON contract has them.
  virtual std::vector<KindField> Fields(const Finding& finding) const = 0;
  // Appends its findings (of its own kind; the registry sets Finding::kind).
  virtual void Run(const DetectorInput& input, std::vector<Finding>* findings) const = 0;
  // Whether its findings take in a large container (an accumulation finding) that their objects
  // keep or are the growth of: the container is then said in the finding's details, not
  // reported again. False for findings that are containers or garbage themselves.
  virtual bool ExplainsContainers() const { return true; }
};

// The detectors, each with the kind of its findings. BuiltIn() holds HEAPSNAP_DETECTORS; a test
// copies it and adds one of its own, under a kind value past the enumerators (FindingKind{100}).
class DetectorRegistry {
 public:
  static const DetectorRegistry& BuiltIn();

  // Checks (asserts) that the kind is new.
  void Add(FindingKind kind, std::shared_ptr<const Detector> detector);
  const Detector* Find(FindingKind kind) const;  // nullptr for a kind nobody registered
  const char* KindName(FindingKind kind) const;  // the detector's name(); "none" if none
  std::vector<KindField> Fields(const Finding& finding) const;  // empty if no detector

  // One detector's findings, with their kind set.
  void Run(FindingKind kind, const DetectorInput& input, std::vector<Finding>* findings) const;
  // All detectors in order; then one finding per cause, sorted by retained bytes (largest
  // first; notes last).
  std::vector<Finding> Detect(const Analysis& analysis, const DetectorOptions& options) const;

 private:
  std::vector<std::pair<FindingKind, std::shared_ptr<const Detector>>> detectors_;
};

// The built-in registry's answers, for the report writers.
const char* FindingKindName(FindingKind kind);  // "unreachable_cycle", "closure", ...
std::vector<KindField> KindFields(const Finding& finding);
std::vector<Finding> DetectLeaks(const Analysis& analysis, const DetectorOptions& options = {});

namespace detect {
// True for code of the standard library or an installed package (a Finding's location). The
// detectors' other helpers are in detectors/detector_util.h.
bool InLibrary(const std::string& location);
}  // namespace detect

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_DETECTORS_H_

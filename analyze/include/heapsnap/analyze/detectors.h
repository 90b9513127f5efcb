// Leak detectors: one interface, one file per detector (analyze/src/detectors/). Each takes the
// analysed snapshot and appends findings; DetectLeaks runs them all and ranks the findings by
// retained bytes.
//
//   std::vector<Finding> findings = DetectLeaks(analysis, {.min_bytes = 10240});
//   for (const Finding& f : findings) std::cout << f.title << "\n  fix: " << f.fix << "\n";
//
// Adding a detector is adding a file with a class derived from Detector and one line in
// AllDetectors() (detectors.cc).
#ifndef HEAPSNAP_ANALYZE_DETECTORS_H_
#define HEAPSNAP_ANALYZE_DETECTORS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/path_shapes.h"

namespace heapsnap {

// What a finding is about; FindingKindName gives the name the JSON contract uses.
enum class FindingKind : uint8_t {
  kNone = 0,  // not set yet (a detector's group that has no instance)
  kUnreachableCycle,
  kClosure,
  kMutableDefault,
  kFinalizer,
  kTraceback,
  kAccumulation,
  kExternal,
};
const char* FindingKindName(FindingKind kind);  // "unreachable_cycle", "closure", ...

enum class Severity : uint8_t {
  kHigh = 0,
  kLow,  // a note: ranked last (an empty mutable default, a decorator's wrapper)
};
const char* SeverityName(Severity severity);  // "high", "low"

struct Finding {
  FindingKind kind = FindingKind::kNone;
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
  // Kind-specific (empty when not applicable).
  std::string function;              // closure, mutable_default: qualified name
  std::string location;              // closure, mutable_default: file:line
  std::string variable;              // closure
  std::string parameter;             // mutable_default
  std::string container;             // mutable_default, accumulation, external: its type
  uint64_t length = 0;               // mutable_default, accumulation: entries in the container
  uint64_t references = 0;           // external: references nobody in the heap accounts for
  std::string reason;                // finalizer: resurrected, cycle_with_finalizer, uncollectable
  std::vector<std::string> details;  // extra lines (frames and locals of a traceback, ...)
};

// A finding's fields of its own kind, named as the JSON contract names them (README: closure
// function, location, variable; mutable_default function, location, parameter, container,
// length; finalizer reason, type; traceback exception; accumulation container, length;
// external type, references, function; unreachable_cycle shape). Written once here, so that the
// CLI writes every kind the same way.
struct KindField {
  const char* name;
  std::string text;     // when !is_number
  uint64_t number = 0;  // when is_number
  bool is_number = false;
};
std::vector<KindField> KindFields(const Finding& finding);

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
  uint64_t live_bytes;   // retained by the live heap (all but the garbage)
  uint64_t share_bytes;  // max(min_bytes, min_share * live_bytes)
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual const char* name() const = 0;
  virtual void Run(const DetectorInput& input, std::vector<Finding>* findings) const = 0;
};

std::vector<std::unique_ptr<Detector>> AllDetectors();

// All detectors, findings sorted by retained bytes (largest first; notes last).
std::vector<Finding> DetectLeaks(const Analysis& analysis, const DetectorOptions& options = {});

// Helpers shared by the detectors.
namespace detect {
// The target of `node`'s first edge with this label kind and string (e.g. kField "__closure__").
int64_t EdgeTo(const Snapshot& s, NodeIndex node, LabelKind kind, const std::string& label);
// Fills path/path_text from the node's retainer path (or marks garbage).
void SetPath(const Analysis& a, NodeIndex node, Finding* f);
// Entries a container holds: its indexed, keyed and member references (a dict's key and value
// are one entry).
uint64_t ContainerLength(const Snapshot& s, NodeIndex node);
// Counts the types of the objects in node's dominator subtree into f->types.
void CountRetainedTypes(const Analysis& a, const std::vector<NodeIndex>& nodes, Finding* f);
std::string Location(const Snapshot& s, NodeIndex function_or_code);
// `part` as a share of `whole`, for titles: "7%".
std::string Percent(uint64_t part, uint64_t whole);
// True for code of the standard library or an installed package (a Location's file).
bool InLibrary(const std::string& location);
std::string QualifiedName(const Snapshot& s, NodeIndex node);
}  // namespace detect

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_DETECTORS_H_

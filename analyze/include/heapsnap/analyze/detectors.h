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

namespace heapsnap {

struct Finding {
  // One of: unreachable_cycle, closure, mutable_default, finalizer, traceback, accumulation.
  std::string kind;
  std::string severity = "high";  // "low" for notes (an empty mutable default)
  std::string title;              // one line, for people
  std::string fix;                // one line: what a Python expert would change
  uint64_t count = 1;             // instances grouped into this finding
  uint64_t objects = 0;           // objects retained
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
  std::string container;             // mutable_default, accumulation: container type
  uint64_t length = 0;               // mutable_default, accumulation: items in the container
  std::string reason;                // finalizer: resurrected, cycle_with_finalizer, uncollectable
  std::vector<std::string> details;  // extra lines (frames and locals of a traceback, ...)
};

struct DetectorOptions {
  uint64_t min_bytes =
      uint64_t{10} * 1024;          // findings retaining less are not reported (notes excepted)
  double accumulation_share = 0.1;  // a container must retain this share of the heap
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual const char* name() const = 0;
  virtual void Run(const Analysis& analysis, const DetectorOptions& options,
                   std::vector<Finding>* findings) const = 0;
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
// Counts the types of the objects in node's dominator subtree into f->types.
void CountRetainedTypes(const Analysis& a, const std::vector<NodeIndex>& nodes, Finding* f);
std::string Location(const Snapshot& s, NodeIndex function_or_code);
std::string QualifiedName(const Snapshot& s, NodeIndex node);
}  // namespace detect

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_DETECTORS_H_

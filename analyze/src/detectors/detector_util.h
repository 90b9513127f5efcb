// What the detectors share: the caps on what a finding keeps, the group of instances that
// becomes one finding, and small questions about the graph (the target of a named edge, a
// function's location, a container's length).
#ifndef HEAPSNAP_ANALYZE_DETECTORS_DETECTOR_UTIL_H_
#define HEAPSNAP_ANALYZE_DETECTORS_DETECTOR_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/detectors.h"

namespace heapsnap {

// Each built-in detector's maker, defined in the detector's own file.
#define HEAPSNAP_DECLARE_MAKER(kind, make) std::unique_ptr<Detector> make();
HEAPSNAP_DETECTORS(HEAPSNAP_DECLARE_MAKER)
#undef HEAPSNAP_DECLARE_MAKER

namespace detect {

// A finding lists at most this many examples (the example first).
inline constexpr size_t kMaxExamples = 10;
// A finding's types list counts the dominator subtrees of at most this many of its objects.
inline constexpr size_t kMaxMembers = 200000;

// Instances grouped into one finding (by type, shape, code and variable, ...). A group starts
// empty (count 0) and counts each instance it is given.
class FindingGroup {
 public:
  FindingGroup() { finding.count = 0; }

  // True before the first instance: the time to set the fields the group's key stands for.
  bool empty() const { return finding.count == 0; }

  // Where an instance's example goes: after the others, or first (it retains the most yet).
  enum class Example { kLast, kFirst };

  // One more instance; `example` stands for it among the first kMaxExamples examples.
  void AddInstance(NodeIndex example, uint64_t retained_bytes, uint64_t retained_objects,
                   Example place = Example::kLast) {
    ++finding.count;
    AddRetained(retained_bytes, retained_objects);
    std::vector<NodeIndex>& examples = finding.examples;
    if (place == Example::kFirst) {
      examples.insert(examples.begin(), example);
      if (examples.size() > kMaxExamples) examples.pop_back();
    } else if (examples.size() < kMaxExamples) {
      examples.push_back(example);
    }
  }
  void AddRetained(uint64_t retained_bytes, uint64_t retained_objects) {
    finding.retained_bytes += retained_bytes;
    finding.objects += retained_objects;
  }
  // An object whose dominator subtree the finding's types list counts (the first kMaxMembers).
  void AddMember(NodeIndex node) {
    if (members.size() < kMaxMembers) members.push_back(node);
  }

  // Counts the members' types into the finding and hands it over.
  Finding Take(const Analysis& a);

  Finding finding;
  std::vector<NodeIndex> members;
};

// The target of `node`'s first edge with this label kind and string (e.g. kField
// "__closure__"), or -1.
int64_t EdgeTo(const Snapshot& s, NodeIndex node, LabelKind kind, const std::string& label);
// Fills path/path_text from the node's retainer path (or marks garbage); returns the path.
RetainerPath SetPath(const Analysis& a, NodeIndex node, Finding* f);
// Entries a container holds: its indexed, keyed and member references (a dict's key and value
// are one entry).
uint64_t ContainerLength(const Snapshot& s, NodeIndex node);
// Counts the types of the objects in the nodes' dominator subtrees into f->types.
void CountRetainedTypes(const Analysis& a, const std::vector<NodeIndex>& nodes, Finding* f);
// A function's or code object's file:line; empty when the snapshot names none.
std::string Location(const Snapshot& s, NodeIndex function_or_code);
// `part` as a share of `whole`, for titles: "7%".
std::string Percent(uint64_t part, uint64_t whole);
// A function's or class's qualified name, else the object's type name.
std::string QualifiedName(const Snapshot& s, NodeIndex node);

}  // namespace detect
}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_DETECTORS_DETECTOR_UTIL_H_

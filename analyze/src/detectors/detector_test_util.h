// For the detectors' tests: a hand-built heap (testing::TestHeap) written, loaded and analysed,
// then one detector (or all) run on it, and the findings looked up by their fields.
#ifndef HEAPSNAP_ANALYZE_DETECTORS_DETECTOR_TEST_UTIL_H_
#define HEAPSNAP_ANALYZE_DETECTORS_DETECTOR_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "heapsnap/analyze/analysis.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/path_shapes.h"
#include "test_snapshots.h"

namespace heapsnap::testing {

struct Detected {
  std::unique_ptr<Snapshot> snapshot;
  std::unique_ptr<Analysis> analysis;
  std::vector<Finding> findings;

  // The node of the heap's object i.
  NodeIndex Node(uint32_t i) const {
    auto n = snapshot->FindAddress(TestHeap::Address(i));
    EXPECT_TRUE(n.has_value()) << i;
    return n.value_or(NodeIndex(0));
  }
  // The findings of a kind.
  std::vector<const Finding*> Of(FindingKind kind) const {
    std::vector<const Finding*> out;
    for (const Finding& f : findings) {
      if (f.kind == kind) out.push_back(&f);
    }
    return out;
  }
};

inline Detected LoadAndAnalyze(const TestHeap& heap, const std::string& name) {
  Detected d;
  auto s = LoadSnapshot(heap.Write(name));
  EXPECT_TRUE(s.ok()) << s.status().message();
  d.snapshot = std::make_unique<Snapshot>(s.ok() ? std::move(*s) : Snapshot());
  d.analysis = std::make_unique<Analysis>(Analyze(*d.snapshot));
  return d;
}

// The one detector of `kind`, as DetectLeaks runs it (but without the merge across kinds).
inline Detected RunDetector(FindingKind kind, const TestHeap& heap, const std::string& name,
                            const DetectorOptions& options = {}) {
  Detected d = LoadAndAnalyze(heap, name);
  const PathShapes shapes(*d.analysis);
  const Thresholds t = ThresholdsFor(*d.analysis, options);
  const DetectorInput input{*d.analysis, shapes, options, t};
  DetectorRegistry::BuiltIn().Run(kind, input, &d.findings);
  return d;
}

// Every detector, merged and ranked: what `heapsnap leaks` reports.
inline Detected RunAllDetectors(const TestHeap& heap, const std::string& name,
                                const DetectorOptions& options = {}) {
  Detected d = LoadAndAnalyze(heap, name);
  d.findings = DetectLeaks(*d.analysis, options);
  return d;
}

// A field of the finding's kind by its JSON name, as the report writes it ("" / 0 if none).
inline std::string FieldText(const Finding& f, const std::string& name) {
  for (const KindField& field : KindFields(f)) {
    if (field.name == name) return field.is_number ? std::to_string(field.number) : field.text;
  }
  ADD_FAILURE() << "no field " << name << " in a " << FindingKindName(f.kind) << " finding";
  return "";
}

// The fields' names of a finding, in the order the report writes them.
inline std::vector<std::string> FieldNames(const Finding& f) {
  std::vector<std::string> names;
  for (const KindField& field : KindFields(f)) names.push_back(field.name);
  return names;
}

}  // namespace heapsnap::testing

#endif  // HEAPSNAP_ANALYZE_DETECTORS_DETECTOR_TEST_UTIL_H_

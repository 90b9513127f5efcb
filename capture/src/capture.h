// The capture's entry point: a snapshot of every gc-tracked object, everything reachable from
// them through tp_traverse and the labelled fields heapsnap knows, and every thread's running
// frames, streamed to a file through format/'s SnapshotWriter.
//
// Contract (what makes the snapshot exact):
//  - The caller holds the GIL. The walk disables the collector, allocates no Python object,
//    runs no Python code and releases the GIL never, so the heap cannot change under it; the
//    collector's previous state is restored afterwards.
//  - Refcounts are read as they are: the capture holds no reference to any object it records,
//    and looks nothing up through getattr or _PyType_Lookup (the method cache holds and drops
//    references to names).
//  - The walk runs on the calling thread; an emitter thread (emitter.h) and the writer's thread
//    turn what it finds into records. They read objects only while the caller holds the GIL
//    and changes nothing, and are joined before anything can run again (capture/DESIGN.md).
//  - C-implemented __sizeof__ methods that heapsnap does not mirror (code, type, frame, deque,
//    ...) allocate their result, so they run after the walk and are written as size fixups.
#ifndef HEAPSNAP_CAPTURE_CAPTURE_H_
#define HEAPSNAP_CAPTURE_CAPTURE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "heapsnap/base/status.h"
#include "pod_vector.h"

namespace heapsnap::capture {

struct CaptureConfig {
  std::string path;
  bool values = true;  // record previews of str/bytes/int/float values
  uint32_t max_preview_bytes = 100;
  std::string reason = "dump";
  std::string capture_version;
  // The process the snapshot is of, for the header: 0 is this one. A fork capture's child
  // writes its parent's pid.
  int64_t pid = 0;
  // When set, receives the temporary file's path as soon as it exists (a fork capture's child
  // tells its parent, which removes the file if the child is killed before the rename).
  std::function<void(const std::string&)> temporary_created;
  // Describe and write objects on a second thread while the walk goes on (the default);
  // false does everything on the calling thread (HEAPSNAP_CAPTURE_THREADS=1).
  bool parallel = true;
  // When set, receives every object the snapshot describes (not the synthetic running frames
  // of 3.11+), for a hold (hold.h) to take references to once the capture is over.
  PodVector<const void*>* written = nullptr;
};

struct CaptureStats {
  uint64_t objects = 0;
  uint64_t edges = 0;
  uint64_t roots = 0;
  double seconds = 0;
};

// Walks the heap of the calling interpreter and writes the snapshot to config.path.
Status CaptureHeap(const CaptureConfig& config, CaptureStats* stats);

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_CAPTURE_H_

// Roots and threads: what holds the heap from outside it (sys.modules, sys and builtins
// dicts, gc.garbage, each thread's state and running frames), and the threads' names that
// roots and thread-local data are labelled with.
#ifndef HEAPSNAP_CAPTURE_ROOTS_H_
#define HEAPSNAP_CAPTURE_ROOTS_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
// clang-format on

#include "heapsnap/format/types.h"

namespace heapsnap::capture {

// threading's names of the threads, read before the walk.
class ThreadNames {
 public:
  // Reads threading._active, without getattr: attribute lookups fill the type method cache,
  // which holds references to the names it caches and drops the ones it evicts (a refcount
  // somewhere in the program would change). threading may not even be imported, in which case
  // idents are used.
  void Read();
  std::string Name(unsigned long ident) const;

 private:
  std::vector<std::pair<unsigned long, std::string>> names_;
};

// A root as the walk finds it; its label is interned once the emitter is done.
struct PendingRoot {
  RootKind kind;
  uint64_t address;
  std::string label;
  uint64_t thread_id;
  uint32_t depth;
};

// Appends the interpreter's and every thread's roots other than running frames.
void CollectRoots(const ThreadNames& threads, std::vector<PendingRoot>* roots);

// The root of a running frame: "thread 'T' f (file:line)".
PendingRoot RunningFrameRoot(const hs_frame_view& frame, int depth, unsigned long thread_id,
                             const std::string& thread_name);

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_ROOTS_H_

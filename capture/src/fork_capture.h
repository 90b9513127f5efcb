// A low-pause capture: at a safe point (the caller holds the GIL) the process forks; the child
// walks its copy-on-write image of the heap, writes the snapshot (temporary name, then rename)
// and leaves with _exit, running no Python code, no finalizer and no at-fork hook of Python's
// (os.register_at_fork); the parent goes on as soon as fork() returns. The parent's pause is
// the fork itself: copying the page tables.
//
// The child is reaped by a thread of the parent's (no Python), which records the outcome the
// child reported through a pipe; WaitForkCapture returns it. A child that fails or is killed
// leaves no file that looks like a snapshot and changes nothing in the parent.
//
// What fork() does to the parent that an os.fork() would not avoid either: C libraries'
// pthread_atfork handlers run (glibc's own make malloc safe in the child), and the parent gets a
// SIGCHLD when the child ends. A program that reaps every child with waitpid(-1) may reap the
// capture's child first: its snapshot is still written; its outcome then reads "reaped by the
// program" unless the child reported it through the pipe first (it always tries).
#ifndef HEAPSNAP_CAPTURE_FORK_CAPTURE_H_
#define HEAPSNAP_CAPTURE_FORK_CAPTURE_H_

#include <sys/types.h>

#include <functional>
#include <string>

#include "capture.h"
#include "heapsnap/base/status.h"

namespace heapsnap::capture {

struct ForkStarted {
  pid_t pid = 0;
  double pause_seconds = 0;  // from the call to the parent's return: what the program waited
};

struct ForkOutcome {
  enum class State { kRunning, kWritten, kFailed, kUnknown };
  State state = State::kUnknown;
  CaptureStats stats;        // kWritten
  std::string error;         // kFailed: why (the child's own message, or how it died)
  double child_seconds = 0;  // from fork to the child's end, as the reaper saw it
};

// Called by the reaper thread, without the GIL, when a child has ended.
using ForkDone = std::function<void(pid_t pid, const ForkOutcome& outcome)>;

// Forks a child that captures to config.path and returns at once in the parent. The caller
// holds the GIL. If `also_in_parent` is not empty, the parent then captures the same heap state
// to that path itself before returning (the tests compare the two snapshots object by object).
StatusOr<ForkStarted> StartForkCapture(const CaptureConfig& config, ForkDone done = nullptr,
                                       const std::string& also_in_parent = std::string());

// The outcome of a child StartForkCapture made, waiting at most timeout_seconds (negative: no
// limit) while it runs. Call it without the GIL. kUnknown for a pid this process never forked.
ForkOutcome WaitForkCapture(pid_t pid, double timeout_seconds);

// Waits for every child still running (disarming the triggers at exit does, so that no
// requested snapshot is lost). Call it without the GIL. Returns how many it waited for.
int WaitAllForkCaptures();

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_FORK_CAPTURE_H_

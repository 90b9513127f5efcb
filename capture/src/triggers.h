// Snapshots of a running program on a signal and on a period (`heapsnap capture --on-signal`,
// `--every`, and HEAPSNAP_ON_SIGNAL / HEAPSNAP_EVERY in the environment).
//
// A watcher thread of heapsnap's own (a pthread that is not a Python thread) waits on a pipe:
// the signal's handler, which does nothing but write one byte to the pipe (async-signal-safe),
// wakes it, and so does its timer. The watcher then takes the GIL (PyGILState_Ensure) and
// captures. Holding the GIL is the capture's safe point: every Python thread is between two
// bytecodes or in C code that released it, so the heap is consistent, and no Python code runs
// while the walk goes on. A main thread blocked in C (select, read, a long C call that released
// the GIL) delays nothing: the watcher is not waiting for the main thread, only for the GIL,
// which such a thread does not hold. (A pending call, Py_AddPendingCall, would run only once the
// main thread returned to the interpreter: minutes later for an idle server.)
//
// The handler is installed with SA_RESTART, so the program's system calls are not interrupted.
// A handler the program installs later for the same signal replaces heapsnap's.
//
// Snapshot N goes to NumberedSnapshotPath(output, N) (format/file_names.h): app.heapsnap ->
// app.1.heapsnap, app.2.heapsnap...
// With `fork`, each snapshot is a fork capture (fork_capture.h): the program pauses for the
// fork only.
//
// After the program's own os.fork(), the child has no watcher (threads do not survive fork)
// and its copy of the handler writes nowhere, until heapsnap's at-fork hook re-arms it with
// its own output (heapsnap/__init__.py).
#ifndef HEAPSNAP_CAPTURE_TRIGGERS_H_
#define HEAPSNAP_CAPTURE_TRIGGERS_H_

#include <cstdint>
#include <string>

#include "heapsnap/base/status.h"

namespace heapsnap::capture {

struct TriggerConfig {
  std::string output;  // the base path, numbered by NumberedSnapshotPath
  bool values = true;
  uint32_t max_preview_bytes = 100;
  std::string capture_version;
  int signal_number = 0;     // 0: no signal trigger
  double every_seconds = 0;  // 0: no periodic trigger
  bool fork = false;         // fork captures instead of stop-the-world ones
};

// Installs the signal handler and starts the watcher. The caller holds the GIL. An error if
// triggers are armed already in this process, or the signal cannot be caught.
Status ArmTriggers(const TriggerConfig& config);

// Stops the watcher (waiting for a snapshot it is taking), puts the signal's previous action
// back and waits for fork captures still running. The caller holds the GIL; it is released
// while waiting. Returns the number of snapshots the triggers took; nothing if none is armed.
uint64_t DisarmTriggers();

// The path of the next numbered snapshot (the exit snapshot, after the triggered ones), or ""
// when no triggers were armed in this process.
std::string NextTriggeredPath();

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_TRIGGERS_H_

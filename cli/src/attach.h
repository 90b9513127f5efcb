// heapsnap capture --pid PID: a snapshot of a CPython process that is already running and was
// started without heapsnap.
//
//   AttachRequest request{.pid = 4242, .output = "/srv/app.heapsnap", .lib_dir = lib};
//   StatusOr<AttachOutcome> outcome = CaptureRunningProcess(request);
//
// How (capture/DESIGN.md, "Attach"): checks from /proc first (the process exists, is not
// stopped, is not traced, runs as this user or heapsnap is root, its Python version has a
// capture module, it can write the output directory); then an attach method, chosen by the
// target's Python version, starts a thread of heapsnap's in the target. With gdb (3.8-3.13)
// that is: stop the target, find a thread where calling dlopen and pthread_create is safe,
// load lib/heapsnap/attach/libheapsnap_inject.so and call its spawn function, detach. The
// thread waits for the GIL, claims the request written in a private directory and runs the
// payload (lib/heapsnap/attach/payload.py): import heapsnap, dump with reason "attach",
// report. A thread that does not get the GIL within the timeout is cancelled (its request is
// renamed away), and when it gets the GIL later it does nothing.
#ifndef HEAPSNAP_CLI_ATTACH_H_
#define HEAPSNAP_CLI_ATTACH_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/base/status.h"

namespace heapsnap::cli {

struct AttachRequest {
  pid_t pid = 0;
  std::string output;  // absolute
  bool values = true;
  bool fork = false;  // a fork capture in the target (fork_capture.h): it pauses for fork() only
  double timeout_seconds = 30;  // for each wait: a safe point once attached, then the GIL
  std::string lib_dir;          // lib/heapsnap: python/, attach/
};

struct AttachOutcome {
  uint64_t objects = 0;
  uint64_t edges = 0;
  double dump_seconds = 0;    // the walk, as the capture measured it
  double pause_seconds = 0;   // what the program waited: the walk, or with fork the fork()
  double attach_seconds = 0;  // from the start of gdb to the injected thread holding the GIL
  double total_seconds = 0;   // everything, checks included
};

// Never leaves the target stopped: the debugger detaches on every path, and a target left in
// state T is sent SIGCONT.
StatusOr<AttachOutcome> CaptureRunningProcess(const AttachRequest& request);

// What the checks read from /proc/PID/status. Exposed for the unit tests.
struct ProcessStatus {
  std::string name;
  char state = '?';
  std::vector<uid_t> uids;  // real, effective, saved, filesystem
  std::vector<gid_t> gids;  // the same
  std::vector<gid_t> groups;
  pid_t tracer_pid = 0;
};
StatusOr<ProcessStatus> ParseProcessStatus(std::string_view text);

// The major.minor of the Python in a process, from the libpython it maps or its executable's
// name (python3.11), or nullopt when neither says.
struct PythonVersion {
  int major = 0;
  int minor = 0;
};
std::optional<PythonVersion> PythonVersionOf(std::string_view maps, std::string_view exe);

// The versions (3.11.7, ...) of the capture modules in a package directory's file names.
std::vector<std::string> BuiltVersions(const std::vector<std::string>& file_names);

// Turns what the gdb script printed (its "heapsnap-attach: WORD" lines, and gdb's own
// messages) into OK when the thread was started, or the error that names the cause and what to
// do.
Status ClassifyGdbOutput(std::string_view output, pid_t pid, double timeout_seconds);

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_ATTACH_H_

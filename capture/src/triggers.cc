#include "triggers.h"

// Python.h first, as everywhere in the capture.
#include <Python.h>
// clang-format off
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
// clang-format on

#include "capture.h"
#include "fork_capture.h"
#include "heapsnap/format/file_names.h"

namespace heapsnap::capture {
namespace {

constexpr char kSignalled = 's';
constexpr char kStop = 'q';

// The write end of the watcher's pipe, for the signal handler; -1 when nothing is armed (and in
// the child of a fork until it re-arms).
std::atomic<int> g_wake_fd{-1};

extern "C" void OnTriggerSignal(int /*signum*/) {
  const int saved_errno = errno;
  const int fd = g_wake_fd.load(std::memory_order_relaxed);
  if (fd >= 0) (void)!::write(fd, &kSignalled, 1);
  errno = saved_errno;
}

// The one set of triggers of this process. Never destroyed: the watcher may still run while
// the process exits.
struct Triggers {
  std::mutex mutex;  // guards everything below but the atomics
  TriggerConfig config;
  bool armed = false;
  uint64_t next_number = 1;
  uint64_t taken = 0;
  int wake_read = -1;
  int wake_write = -1;
  pthread_t watcher{};
  bool watcher_running = false;
  std::atomic<bool> stopping{false};
  bool handler_installed = false;
  int handled_signal = 0;
  struct sigaction previous {};
  bool at_fork_registered = false;
};

Triggers& TheTriggers() {
  static Triggers* triggers = new Triggers;  // NOLINT(cppcoreguidelines-owning-memory)
  return *triggers;
}

// Around the program's own fork(): the child gets an unlocked mutex, no watcher and no pipe.
extern "C" void LockForFork() { TheTriggers().mutex.lock(); }
extern "C" void UnlockAfterFork() { TheTriggers().mutex.unlock(); }
extern "C" void ResetInChild() {
  Triggers& t = TheTriggers();
  g_wake_fd.store(-1);
  if (t.wake_read >= 0) ::close(t.wake_read);
  if (t.wake_write >= 0) ::close(t.wake_write);
  t.wake_read = t.wake_write = -1;
  t.watcher_running = false;
  t.armed = false;
  t.stopping.store(false);
  t.mutex.unlock();
}

void Say(const std::string& line) {
  const std::string text = "heapsnap: " + line + "\n";
  (void)!::write(2, text.data(), text.size());
}

std::string Seconds(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f s", seconds);
  return buf;
}

bool IsFinalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// One triggered snapshot; reason is "signal" or "periodic". Takes the GIL.
void TakeSnapshot(const char* reason) {
  Triggers& t = TheTriggers();
  const PyGILState_STATE gil = PyGILState_Ensure();
  if (t.stopping.load() || IsFinalizing()) {
    PyGILState_Release(gil);
    return;
  }
  CaptureConfig config;
  uint64_t number = 0;
  bool fork = false;
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    number = t.next_number++;
    ++t.taken;
    config.path = NumberedSnapshotPath(t.config.output, number);
    config.values = t.config.values;
    config.max_preview_bytes = t.config.max_preview_bytes;
    config.capture_version = t.config.capture_version;
    fork = t.config.fork;
  }
  config.reason = reason;
  const std::string what = "snapshot " + std::to_string(number) + " (" + reason + ")";
  if (fork) {
    const std::string path = config.path;
    auto done = [what, path](pid_t pid, const ForkOutcome& outcome) {
      if (outcome.state == ForkOutcome::State::kWritten) {
        Say(what + " written to " + path + " by pid " + std::to_string(pid) + ": " +
            std::to_string(outcome.stats.objects) + " objects in " +
            Seconds(outcome.child_seconds));
      } else {
        Say(what + " was not written to " + path + ": " + outcome.error);
      }
    };
    StatusOr<ForkStarted> started = StartForkCapture(config, done);
    if (started.ok()) {
      char pause[32];
      std::snprintf(pause, sizeof(pause), "%.1f ms", started->pause_seconds * 1e3);
      Say(what + ": pid " + std::to_string(started->pid) + " writes it; the program paused " +
          pause);
    } else {
      Say(what + " was not taken: " + started.status().message());
    }
  } else {
    CaptureStats stats;
    const Status status = CaptureHeap(config, &stats);
    if (status.ok()) {
      Say(what + " written to " + config.path + ": " + std::to_string(stats.objects) +
          " objects in " + Seconds(stats.seconds));
    } else {
      Say(what + " was not written: " + status.message());
    }
  }
  PyGILState_Release(gil);
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The watcher's loop: a pthread of its own with C linkage (PyGILState_Ensure may end a thread
// with pthread_exit during finalization; DisarmTriggers runs before, but nothing here would
// mind).
extern "C" void* Watch(void* /*unused*/) {
  Triggers& t = TheTriggers();
  int wake_read = -1;
  double every = 0;
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    wake_read = t.wake_read;
    every = t.config.every_seconds;
  }
  double next = every > 0 ? Now() + every : 0;
  for (;;) {
    int timeout_ms = -1;
    if (every > 0) timeout_ms = static_cast<int>(std::ceil(std::max(0.0, next - Now()) * 1e3));
    struct pollfd wait {};
    wait.fd = wake_read;
    wait.events = POLLIN;
    const int ready = ::poll(&wait, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    bool signalled = false;
    if (ready > 0) {
      char buf[64];
      const ssize_t n = ::read(wake_read, buf, sizeof(buf));
      for (ssize_t i = 0; i < n; ++i) signalled = signalled || buf[i] == kSignalled;
    }
    if (t.stopping.load()) break;
    if (signalled) {
      TakeSnapshot("signal");
    } else if (every > 0 && Now() >= next) {
      TakeSnapshot("periodic");
      // The next period starts now: a snapshot that took longer than the period is not
      // followed by a burst of catching up.
      next = std::max(next + every, Now() + every / 2);
    }
    if (t.stopping.load()) break;
  }
  return nullptr;
}

}  // namespace

Status ArmTriggers(const TriggerConfig& config) {
  if (config.signal_number == 0 && config.every_seconds <= 0) {
    return InvalidArgument("no trigger: give a signal or a period");
  }
  if (config.every_seconds < 0 || !std::isfinite(config.every_seconds)) {
    return InvalidArgument("the period must be a positive number of seconds");
  }
  if (config.signal_number < 0 || config.signal_number >= NSIG || config.signal_number == SIGKILL ||
      config.signal_number == SIGSTOP) {
    return InvalidArgument("signal " + std::to_string(config.signal_number) + " cannot be caught");
  }
  Triggers& t = TheTriggers();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (t.armed) return InvalidArgument("the triggers are armed already in this process");
  if (!t.at_fork_registered) {
    if (pthread_atfork(LockForFork, UnlockAfterFork, ResetInChild) != 0) {
      return Internal("pthread_atfork failed");
    }
    t.at_fork_registered = true;
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return IoError(std::string("cannot make the triggers' pipe: ") + std::strerror(errno));
  }
  t.config = config;
  t.next_number = 1;
  t.taken = 0;
  t.wake_read = pipe_fds[0];
  t.wake_write = pipe_fds[1];
  t.stopping.store(false);
  g_wake_fd.store(t.wake_write);
  if (config.signal_number != 0 &&
      !(t.handler_installed && t.handled_signal == config.signal_number)) {
    struct sigaction action {};
    action.sa_handler = OnTriggerSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    struct sigaction previous {};
    if (sigaction(config.signal_number, &action, &previous) != 0) {
      const int error = errno;
      g_wake_fd.store(-1);
      ::close(t.wake_read);
      ::close(t.wake_write);
      t.wake_read = t.wake_write = -1;
      return InvalidArgument("cannot catch signal " + std::to_string(config.signal_number) + ": " +
                             std::strerror(error));
    }
    t.previous = previous;
    t.handler_installed = true;
    t.handled_signal = config.signal_number;
  }
  // Signals go to the program's threads, never to the watcher (which would then need no
  // handler to run, but the program's own handlers expect its threads).
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  const int created = pthread_create(&t.watcher, nullptr, Watch, nullptr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (created != 0) {
    g_wake_fd.store(-1);
    ::close(t.wake_read);
    ::close(t.wake_write);
    t.wake_read = t.wake_write = -1;
    return Internal(std::string("cannot start the triggers' thread: ") + std::strerror(created));
  }
  t.watcher_running = true;
  t.armed = true;
  return Status::Ok();
}

uint64_t DisarmTriggers() {
  Triggers& t = TheTriggers();
  pthread_t watcher{};
  bool join = false;
  {
    std::lock_guard<std::mutex> lock(t.mutex);
    if (!t.armed) return 0;
    t.stopping.store(true);
    (void)!::write(t.wake_write, &kStop, 1);
    join = t.watcher_running;
    watcher = t.watcher;
    t.watcher_running = false;
  }
  // The watcher may be waiting for the GIL: let it have it, see `stopping`, and leave.
  Py_BEGIN_ALLOW_THREADS;
  if (join) pthread_join(watcher, nullptr);
  WaitAllForkCaptures();
  Py_END_ALLOW_THREADS;
  std::lock_guard<std::mutex> lock(t.mutex);
  g_wake_fd.store(-1);
  if (t.handler_installed) {
    (void)sigaction(t.handled_signal, &t.previous, nullptr);
    t.handler_installed = false;
  }
  ::close(t.wake_read);
  ::close(t.wake_write);
  t.wake_read = t.wake_write = -1;
  t.armed = false;
  return t.taken;
}

std::string NextTriggeredPath() {
  Triggers& t = TheTriggers();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (t.config.output.empty()) return std::string();
  return NumberedSnapshotPath(t.config.output, t.next_number++);
}

}  // namespace heapsnap::capture

#include "fork_capture.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace heapsnap::capture {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The children this process forked and their outcomes. Never destroyed: a reaper thread may
// still use it while the process exits.
struct Registry {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<pid_t, ForkOutcome> children;
};

Registry& TheRegistry() {
  static Registry* registry = new Registry;  // NOLINT(cppcoreguidelines-owning-memory)
  return *registry;
}

// In the child: signals that the program handles go back to their default action, so that a
// signal meant for the program never runs its handler's C half here (Python's writes to the
// program's wakeup fd, which the child shares with the parent).
void ResetSignalHandlers() {
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction action {};
    if (sigaction(sig, nullptr, &action) != 0) continue;
    const bool handled = (action.sa_flags & SA_SIGINFO) != 0 ||
                         (action.sa_handler != SIG_DFL && action.sa_handler != SIG_IGN);
    if (!handled) continue;
    struct sigaction reset {};
    reset.sa_handler = SIG_DFL;
    sigemptyset(&reset.sa_mask);
    (void)sigaction(sig, &reset, nullptr);
  }
}

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// The child's whole life: capture, report through the pipe, _exit. Never returns.
[[noreturn]] void RunChild(const CaptureConfig& parent_config, int report_fd) {
  (void)::prctl(PR_SET_NAME, "heapsnap-fork", 0, 0, 0);
  ResetSignalHandlers();
  CaptureConfig config = parent_config;
  // No thread may start here. glibc hands the stacks of the parent's other threads (which do
  // not exist in the child) to the next threads created, and 3.11/3.12 keep each thread's
  // _PyCFrame, the head of its frame chain, on its stack: a new thread would overwrite what
  // the walk reads. The capture runs on this thread alone (HEAPSNAP_CAPTURE_THREADS=1).
  config.parallel = false;
  config.temporary_created = [report_fd](const std::string& temporary) {
    WriteAll(report_fd, "temporary " + temporary + "\n");
  };
  CaptureStats stats;
  const Status status = CaptureHeap(config, &stats);
  if (status.ok()) {
    char line[160];
    std::snprintf(line, sizeof(line), "ok %llu %llu %llu %.6f\n",
                  static_cast<unsigned long long>(stats.objects),
                  static_cast<unsigned long long>(stats.edges),
                  static_cast<unsigned long long>(stats.roots), stats.seconds);
    WriteAll(report_fd, line);
  } else {
    WriteAll(report_fd, "error " + status.message() + "\n");
  }
  ::_exit(status.ok() ? 0 : 1);
}

// What the child reported, and how it ended, as one outcome.
ForkOutcome Judge(const std::string& whole_report, bool reaped, int wstatus, double seconds) {
  // The report's last line is the verdict; a line before it may name the temporary file.
  std::string report = whole_report;
  while (!report.empty() && report.back() == '\n') report.pop_back();
  const size_t last_line = report.rfind('\n');
  if (last_line != std::string::npos) report = report.substr(last_line + 1);
  if (report.rfind("temporary ", 0) == 0) report.clear();
  ForkOutcome outcome;
  outcome.child_seconds = seconds;
  unsigned long long objects = 0;
  unsigned long long edges = 0;
  unsigned long long roots = 0;
  double capture_seconds = 0;
  if (std::sscanf(report.c_str(), "ok %llu %llu %llu %lf", &objects, &edges, &roots,
                  &capture_seconds) == 4 &&
      (!reaped || (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0))) {
    outcome.state = ForkOutcome::State::kWritten;
    outcome.stats.objects = objects;
    outcome.stats.edges = edges;
    outcome.stats.roots = roots;
    outcome.stats.seconds = capture_seconds;
    return outcome;
  }
  outcome.state = ForkOutcome::State::kFailed;
  if (report.rfind("error ", 0) == 0) {
    outcome.error = report.substr(6);
    while (!outcome.error.empty() && outcome.error.back() == '\n') outcome.error.pop_back();
  } else if (!reaped) {
    outcome.error = "the capture's child ended without a report and was reaped by the program";
  } else if (WIFSIGNALED(wstatus)) {
    outcome.error = std::string("the capture's child was killed by signal ") +
                    std::to_string(WTERMSIG(wstatus)) + " (" + strsignal(WTERMSIG(wstatus)) + ")";
  } else {
    outcome.error = "the capture's child exited with code " +
                    std::to_string(WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1) +
                    " without a report";
  }
  return outcome;
}

// The reaper: reads the child's report to the end of the pipe, reaps the child, records the
// outcome and tells whoever waits.
void Reap(pid_t pid, int report_fd, double started, const ForkDone& done) {
  std::string report;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(report_fd, buf, sizeof(buf));
    if (n > 0) {
      report.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(report_fd);
  int wstatus = 0;
  pid_t reaped;
  while ((reaped = ::waitpid(pid, &wstatus, 0)) < 0 && errno == EINTR) {
  }
  const ForkOutcome outcome = Judge(report, reaped == pid, wstatus, Now() - started);
  if (outcome.state == ForkOutcome::State::kFailed) {
    // A child killed while writing leaves its temporary file: nothing of it must remain.
    const size_t at = report.find("temporary ");
    if (at != std::string::npos) {
      const size_t end = report.find('\n', at);
      const std::string temporary =
          report.substr(at + 10, end == std::string::npos ? std::string::npos : end - at - 10);
      (void)::unlink(temporary.c_str());
    }
  }
  Registry& registry = TheRegistry();
  {
    std::lock_guard<std::mutex> lock(registry.mutex);
    registry.children[pid] = outcome;
  }
  registry.changed.notify_all();
  if (done) done(pid, outcome);
}

}  // namespace

StatusOr<ForkStarted> StartForkCapture(const CaptureConfig& config, ForkDone done,
                                       const std::string& also_in_parent) {
  const double started = Now();
  CaptureConfig child_config = config;
  child_config.pid = config.pid != 0 ? config.pid : static_cast<int64_t>(::getpid());
  child_config.written = nullptr;  // a hold is taken in the process that captured
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return IoError(std::string("cannot make a pipe for the capture's child: ") +
                   std::strerror(errno));
  }
  Registry& registry = TheRegistry();
  // Taken across fork() so that the child never inherits it locked by a reaper thread.
  std::unique_lock<std::mutex> lock(registry.mutex);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // The parent's reapers do not exist here; the child never touches the registry.
    ::close(report[0]);
    RunChild(child_config, report[1]);
  }
  const int fork_error = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return IoError(std::string("fork failed: ") + std::strerror(fork_error) +
                   (fork_error == ENOMEM || fork_error == EAGAIN
                        ? " (not enough memory or processes for a copy of this one; the "
                          "stop-the-world capture needs no fork)"
                        : ""));
  }
  ForkOutcome running;
  running.state = ForkOutcome::State::kRunning;
  registry.children[pid] = running;
  lock.unlock();
  std::thread(Reap, pid, report[0], started, std::move(done)).detach();
  ForkStarted result;
  result.pid = pid;
  result.pause_seconds = Now() - started;
  if (!also_in_parent.empty()) {
    CaptureConfig parent_config = child_config;
    parent_config.path = also_in_parent;
    CaptureStats stats;
    HEAPSNAP_RETURN_IF_ERROR(CaptureHeap(parent_config, &stats));
  }
  return result;
}

ForkOutcome WaitForkCapture(pid_t pid, double timeout_seconds) {
  Registry& registry = TheRegistry();
  std::unique_lock<std::mutex> lock(registry.mutex);
  auto running = [&] {
    auto it = registry.children.find(pid);
    return it != registry.children.end() && it->second.state == ForkOutcome::State::kRunning;
  };
  if (timeout_seconds < 0) {
    registry.changed.wait(lock, [&] { return !running(); });
  } else {
    registry.changed.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                              [&] { return !running(); });
  }
  auto it = registry.children.find(pid);
  return it == registry.children.end() ? ForkOutcome() : it->second;
}

int WaitAllForkCaptures() {
  Registry& registry = TheRegistry();
  std::unique_lock<std::mutex> lock(registry.mutex);
  auto count_running = [&] {
    int running = 0;
    for (const auto& [pid, outcome] : registry.children) {
      running += outcome.state == ForkOutcome::State::kRunning ? 1 : 0;
    }
    return running;
  };
  const int waited = count_running();
  registry.changed.wait(lock, [&] { return count_running() == 0; });
  return waited;
}

}  // namespace heapsnap::capture

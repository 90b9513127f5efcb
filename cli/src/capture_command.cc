// heapsnap capture [-o FILE] [--no-values] -- COMMAND...
// Runs COMMAND with the capture loaded into every Python it starts first (through a
// sitecustomize on PYTHONPATH; the program's code is not changed) and a snapshot written when
// that Python's main module has finished. The program's exit code is passed through.
// heapsnap capture --pid PID [-o FILE] [--timeout S] [--no-values]
// Writes a snapshot of a running CPython process now (attach.h).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>

#include "attach.h"
#include "command.h"
#include "heapsnap/format/writer.h"

namespace heapsnap::cli {
namespace {

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The heapsnap library directory: lib/heapsnap beside bin/ in both the build tree and an
// installation, or $HEAPSNAP_LIBDIR.
StatusOr<std::string> FindLibDir() {
  if (const char* env = std::getenv("HEAPSNAP_LIBDIR"); env != nullptr && *env != '\0') {
    if (!IsDirectory(std::string(env) + "/python/heapsnap")) {
      return NotFound(std::string("HEAPSNAP_LIBDIR=") + env + " has no python/heapsnap package");
    }
    return std::string(env);
  }
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return IoError("cannot find the heapsnap executable's location");
  exe[n] = '\0';
  std::string lib = Dirname(Dirname(exe)) + "/lib/heapsnap";
  if (!IsDirectory(lib + "/python/heapsnap") || !IsDirectory(lib + "/boot")) {
    return NotFound("cannot find the heapsnap Python package at " + lib +
                    "/python (set HEAPSNAP_LIBDIR to the directory that holds python/ and boot/)");
  }
  return lib;
}

std::string DefaultOutput() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "heapsnap-%Y%m%d-%H%M%S.heapsnap", &tm);
  return buf;
}

StatusOr<std::string> Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return IoError("cannot read the working directory");
  return std::string(cwd) + "/" + path;
}

// What the capture's start-up (boot/sitecustomize.py) reported through the status pipe.
struct BootReport {
  bool started = false;      // the capture is armed
  bool unavailable = false;  // it could not start (it said why on stderr) and ran nothing
};

BootReport ReadBootReport(int fd) {
  BootReport report;
  std::string text;
  (void)::fcntl(fd, F_SETFL, O_NONBLOCK);  // only what is there: never wait for the pipe's end
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  }
  report.started = text.find("started\n") != std::string::npos;
  report.unavailable = text.find("unavailable\n") != std::string::npos;
  return report;
}

// What the program is started with: the capture's start-up first on PYTHONPATH, and what it
// must know (where to write, whether values are recorded, where to report that it started).
struct CaptureEnvironment {
  std::string pythonpath;
  const char* old_pythonpath = nullptr;  // the start-up puts it back (unset if it was)
  std::string output;
  bool values = true;
  std::string status;  // HEAPSNAP_STATUS: the status pipe's write end and inode
};

// In the forked child: the environment, then the program. Never returns.
[[noreturn]] void ExecProgram(const std::vector<std::string>& command,
                              const CaptureEnvironment& env, int status_fd) {
  (void)::fcntl(status_fd, F_SETFD, 0);  // the program inherits the write end
  if (env.old_pythonpath != nullptr) {
    ::setenv("HEAPSNAP_PYTHONPATH", env.old_pythonpath, 1);
  } else {
    ::unsetenv("HEAPSNAP_PYTHONPATH");
  }
  ::setenv("PYTHONPATH", env.pythonpath.c_str(), 1);
  ::setenv("HEAPSNAP_OUTPUT", env.output.c_str(), 1);
  ::setenv("HEAPSNAP_VALUES", env.values ? "1" : "0", 1);
  ::setenv("HEAPSNAP_STATUS", env.status.c_str(), 1);
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  std::string message = "heapsnap: cannot run '" + command[0] + "': " + std::strerror(errno) + "\n";
  (void)!::write(2, message.data(), message.size());
  ::_exit(127);
}

struct ProgramExit {
  int wstatus = 0;
  BootReport boot;
  int code() const { return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus); }
};

// Runs the program to its end and reads what the start-up reported. The start-up says
// through a pipe whether the capture started (see ReadBootReport); HEAPSNAP_STATUS names its
// write end and inode, so that the start-up never writes to an fd that a wrapper script reused.
// While the program runs, a Ctrl-C in the terminal goes to it; heapsnap waits for it.
StatusOr<ProgramExit> RunProgram(const std::vector<std::string>& command, CaptureEnvironment env) {
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    return IoError(std::string("pipe failed: ") + std::strerror(errno));
  }
  struct stat pipe_stat {};
  (void)::fstat(status_pipe[1], &pipe_stat);
  env.status = std::to_string(status_pipe[1]) + ":" +
               std::to_string(static_cast<uint64_t>(pipe_stat.st_ino));
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old_int {};
  struct sigaction old_quit {};
  sigaction(SIGINT, &ignore, &old_int);
  sigaction(SIGQUIT, &ignore, &old_quit);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    return IoError(std::string("fork failed: ") + std::strerror(error));
  }
  if (pid == 0) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    ::close(status_pipe[0]);
    ExecProgram(command, env, status_pipe[1]);
  }
  ::close(status_pipe[1]);
  ProgramExit exit;
  while (::waitpid(pid, &exit.wstatus, 0) < 0) {
    if (errno != EINTR) {
      ::close(status_pipe[0]);
      return IoError(std::string("waitpid failed: ") + std::strerror(errno));
    }
  }
  exit.boot = ReadBootReport(status_pipe[0]);
  ::close(status_pipe[0]);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  return exit;
}

// Whether the file at path is new since `before` (or there was none).
bool Rewritten(const std::string& path, bool existed, const struct stat& before,
               struct stat* after) {
  return ::stat(path.c_str(), after) == 0 && (!existed || after->st_ino != before.st_ino ||
                                              after->st_mtim.tv_sec != before.st_mtim.tv_sec ||
                                              after->st_mtim.tv_nsec != before.st_mtim.tv_nsec);
}

// The exit code when no snapshot was written, after saying why: the program's own, or 2.
int ReportNoSnapshot(const std::string& output, const ProgramExit& exit) {
  const int code = exit.code();
  const bool exited = WIFEXITED(exit.wstatus);
  if (exit.boot.unavailable && !exit.boot.started) {
    // The start-up said, first, that the capture could not start and why; nothing ran.
    return 2;
  }
  if (!exit.boot.started) {
    std::cerr << "heapsnap: no snapshot was written to " << output
              << ": the capture was never loaded (the command started no Python, a Python "
                 "older than 3.8 (heapsnap supports CPython 3.8-3.13), or ran it with -I, -E "
                 "or -S, which ignore PYTHONPATH or site; it exited with "
              << (exited ? "code " + std::to_string(code)
                         : "signal " + std::to_string(WTERMSIG(exit.wstatus)))
              << ")\n";
    return code != 0 ? code : 2;
  }
  std::cerr << "heapsnap: no snapshot was written to " << output << " (the program "
            << (exited ? "exited with code " + std::to_string(code)
                       : "was killed by signal " + std::to_string(WTERMSIG(exit.wstatus)))
            << "; a snapshot is written when Python exits normally, not on os._exit or a "
               "signal)\n";
  return code != 0 ? code : 2;
}

class CaptureCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "capture", "Run a Python program and write a snapshot of its heap when it exits");
    sub->add_option("-o,--output", output_, "Snapshot file (default heapsnap-DATE-TIME.heapsnap)");
    sub->add_flag("--no-values", no_values_,
                  "Leave out the contents of str/bytes/int/float objects and of dict keys that "
                  "are not names in the program's code (for processes holding sensitive data)");
    CLI::Option* pid = sub->add_option(
        "--pid", pid_,
        "Instead of running a program: attach to this running CPython 3.8-3.13 process (with "
        "gdb) and write a snapshot of its heap now");
    pid->check(CLI::PositiveNumber);
    sub->add_option("--timeout", timeout_,
                    "With --pid: seconds for the process to reach a safe point and release the "
                    "GIL (default 30)")
        ->check(CLI::PositiveNumber)
        ->needs(pid);
    pid->excludes(sub->add_option("command", command_,
                                  "The program to run, after --, e.g. -- python app.py"));
    sub->footer(
        "Examples: heapsnap capture -o app.heapsnap -- python app.py --port 8080\n"
        "          heapsnap capture --pid 4242 -o service.heapsnap");
    return sub;
  }

  StatusOr<int> Run() override {
    HEAPSNAP_ASSIGN_OR_RETURN(const std::string lib, FindLibDir());
    HEAPSNAP_ASSIGN_OR_RETURN(const std::string output,
                              Absolute(output_.empty() ? DefaultOutput() : output_));
    if (!IsDirectory(Dirname(output))) return NotFound(output + ": the directory does not exist");
    // Before the program runs, not when it has finished.
    HEAPSNAP_RETURN_IF_ERROR(SnapshotWriter::CheckTarget(output));
    if (pid_ != 0) return CapturePid(lib, output);
    if (command_.empty()) return InvalidArgument("capture: give a program after --, or --pid PID");
    struct stat before {};
    const bool existed = ::stat(output.c_str(), &before) == 0;

    CaptureEnvironment env;
    env.pythonpath = lib + "/boot:" + lib + "/python";
    env.old_pythonpath = std::getenv("PYTHONPATH");
    if (env.old_pythonpath != nullptr && *env.old_pythonpath != '\0') {
      env.pythonpath += ":" + std::string(env.old_pythonpath);
    }
    env.output = output;
    env.values = !no_values_;
    HEAPSNAP_ASSIGN_OR_RETURN(const ProgramExit exit, RunProgram(command_, env));

    struct stat after {};
    if (!Rewritten(output, existed, before, &after)) return ReportNoSnapshot(output, exit);
    std::cerr << "heapsnap: snapshot written to " << output << " ("
              << FormatBytes(static_cast<uint64_t>(after.st_size)) << ")\n";
    return exit.code();
  }

 private:
  StatusOr<int> CapturePid(const std::string& lib, const std::string& output) const {
    HEAPSNAP_ASSIGN_OR_RETURN(const AttachOutcome outcome,
                              CaptureRunningProcess({pid_, output, !no_values_, timeout_, lib}));
    struct stat st {};
    (void)::stat(output.c_str(), &st);
    char times[128];
    std::snprintf(times, sizeof(times), "attach %.2f s, walk %.2f s, total %.2f s",
                  outcome.attach_seconds, outcome.dump_seconds, outcome.total_seconds);
    std::cerr << "heapsnap: snapshot of process " << pid_ << " written to " << output << " ("
              << FormatBytes(static_cast<uint64_t>(st.st_size)) << ", "
              << FormatCount(outcome.objects) << " objects; " << times << ")\n";
    return 0;
  }

  std::string output_;
  bool no_values_ = false;
  pid_t pid_ = 0;
  double timeout_ = 30;
  std::vector<std::string> command_;
};

}  // namespace

std::unique_ptr<Command> MakeCaptureCommand() { return std::make_unique<CaptureCommand>(); }

}  // namespace heapsnap::cli

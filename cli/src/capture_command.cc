// heapsnap capture [-o FILE] [--no-values] [--on-signal [SIG]] [--every S] [--fork]
//                  [--no-at-exit] [--print-env] -- COMMAND...
// Runs COMMAND with the capture loaded into every Python it starts first (through a
// sitecustomize on PYTHONPATH; the program's code is not changed) and snapshots written when
// that Python's main module has finished, when the signal arrives and every S seconds (numbered
// then: FILE.1.heapsnap, ...). The program's exit code is passed through.
// heapsnap capture --pid PID [-o FILE] [--timeout S] [--no-values]
// Writes a snapshot of a running CPython process now (attach.h).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>
#include <utility>

#include "attach.h"
#include "command.h"
#include "heapsnap/format/file_names.h"
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
  std::string lib;  // heapsnap's library directory (boot/, python/)
  std::string pythonpath;
  const char* old_pythonpath = nullptr;  // the start-up puts it back (unset if it was)
  std::string output;
  bool values = true;
  std::string status;        // HEAPSNAP_STATUS: the status pipe's write end and inode
  int signal_number = 0;     // HEAPSNAP_ON_SIGNAL
  double every_seconds = 0;  // HEAPSNAP_EVERY
  bool at_exit = true;       // HEAPSNAP_AT_EXIT
  bool fork = false;         // HEAPSNAP_FORK

  // The variables the start-up reads (boot/sitecustomize.py), as NAME=value pairs.
  std::vector<std::pair<std::string, std::string>> Variables() const {
    std::vector<std::pair<std::string, std::string>> vars = {
        {"PYTHONPATH", pythonpath},
        {"HEAPSNAP_OUTPUT", output},
        {"HEAPSNAP_VALUES", values ? "1" : "0"}};
    // The start-up puts PYTHONPATH back as it was (unset if it was).
    if (old_pythonpath != nullptr) vars.emplace_back("HEAPSNAP_PYTHONPATH", old_pythonpath);
    if (signal_number != 0) vars.emplace_back("HEAPSNAP_ON_SIGNAL", std::to_string(signal_number));
    if (every_seconds > 0) {
      std::ostringstream text;
      text << every_seconds;
      vars.emplace_back("HEAPSNAP_EVERY", text.str());
    }
    if (!at_exit) vars.emplace_back("HEAPSNAP_AT_EXIT", "0");
    if (fork) vars.emplace_back("HEAPSNAP_FORK", "1");
    return vars;
  }
};

// In the forked child: the environment, then the program. Never returns.
[[noreturn]] void ExecProgram(const std::vector<std::string>& command,
                              const CaptureEnvironment& env, int status_fd) {
  (void)::fcntl(status_fd, F_SETFD, 0);  // the program inherits the write end
  ::unsetenv("HEAPSNAP_PYTHONPATH");
  for (const auto& [name, value] : env.Variables()) ::setenv(name.c_str(), value.c_str(), 1);
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

// The program's pid, for the signals heapsnap passes on to it (the trigger signal, SIGTERM):
// `kill -USR2 <heapsnap's pid>` works as well as one sent to the program.
volatile sig_atomic_t g_program_pid = 0;

extern "C" void PassSignalOn(int signum) {
  const pid_t pid = g_program_pid;
  if (pid > 0) (void)::kill(pid, signum);
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
  struct sigaction pass_on {};
  pass_on.sa_handler = PassSignalOn;
  sigemptyset(&pass_on.sa_mask);
  pass_on.sa_flags = SA_RESTART;
  std::vector<int> passed = {SIGTERM};
  if (env.signal_number != 0 && env.signal_number != SIGTERM) passed.push_back(env.signal_number);
  std::vector<struct sigaction> old_passed(passed.size());
  // Blocked until the pid is known, so that a signal in between is passed on, not lost.
  sigset_t block;
  sigset_t old_mask;
  sigemptyset(&block);
  for (int sig : passed) sigaddset(&block, sig);
  sigprocmask(SIG_BLOCK, &block, &old_mask);
  for (size_t i = 0; i < passed.size(); ++i) sigaction(passed[i], &pass_on, &old_passed[i]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    for (size_t i = 0; i < passed.size(); ++i) sigaction(passed[i], &old_passed[i], nullptr);
    ::close(status_pipe[0]);
    ::close(status_pipe[1]);
    return IoError(std::string("fork failed: ") + std::strerror(error));
  }
  if (pid == 0) {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    for (size_t i = 0; i < passed.size(); ++i) sigaction(passed[i], &old_passed[i], nullptr);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    ::close(status_pipe[0]);
    ExecProgram(command, env, status_pipe[1]);
  }
  if (pid > 0) g_program_pid = pid;
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  ::close(status_pipe[1]);
  ProgramExit exit;
  while (::waitpid(pid, &exit.wstatus, 0) < 0) {
    if (errno != EINTR) {
      ::close(status_pipe[0]);
      return IoError(std::string("waitpid failed: ") + std::strerror(errno));
    }
  }
  g_program_pid = 0;
  exit.boot = ReadBootReport(status_pipe[0]);
  ::close(status_pipe[0]);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGQUIT, &old_quit, nullptr);
  for (size_t i = 0; i < passed.size(); ++i) sigaction(passed[i], &old_passed[i], nullptr);
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

// A signal's number from its name (USR2, SIGUSR2, usr2) or number; one a program can catch.
StatusOr<int> ParseSignal(const std::string& text) {
  std::string name;
  for (char c : text) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  int number = 0;
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos &&
      name.size() < 4) {
    number = std::stoi(name);
  } else {
    for (int sig = 1; sig < NSIG; ++sig) {
      const char* abbrev = sigabbrev_np(sig);
      if (abbrev != nullptr && name == abbrev) number = sig;
    }
  }
  if (number <= 0 || number >= NSIG) {
    return InvalidArgument("--on-signal " + text + ": not a signal's name or number");
  }
  if (number == SIGKILL || number == SIGSTOP || number == SIGSEGV || number == SIGBUS ||
      number == SIGFPE || number == SIGILL || number == SIGCHLD || number == SIGINT) {
    return InvalidArgument("--on-signal " + text +
                           ": that signal cannot be caught or the program needs it; use "
                           "USR1, USR2 (the default), HUP, or a real-time signal");
  }
  return number;
}

// Quotes a value for a POSIX shell when it needs it.
std::string ShellQuoted(const std::string& value) {
  if (!value.empty() && value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
                                                "WXYZ0123456789_-./:=+,@%") == std::string::npos) {
    return value;
  }
  std::string quoted = "'";
  for (char c : value) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The numbered snapshots of `base` (the triggers' and the exit one after them) that are newer
// than `since`, by name: the program's first, then its forked children's.
std::vector<std::string> NumberedSnapshots(const std::string& base, const struct timespec& since) {
  std::vector<std::pair<std::string, std::string>> found;  // (sort key, path)
  const std::string directory = Dirname(base);
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return {};
  const std::string base_name = base.substr(base.rfind('/') + 1);
  while (const struct dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (!IsNumberedSnapshotOf(base_name, name)) continue;
    std::string path = directory;
    path += "/";
    path += name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_mtim.tv_sec < since.tv_sec ||
        (st.st_mtim.tv_sec == since.tv_sec && st.st_mtim.tv_nsec < since.tv_nsec)) {
      continue;
    }
    // Numbers sort as numbers: pad every run of digits.
    std::string key;
    std::string digits;
    for (char c : name + " ") {
      if (c >= '0' && c <= '9') {
        digits += c;
        continue;
      }
      if (!digits.empty())
        key += std::string(20 - std::min<size_t>(20, digits.size()), '0') + digits;
      digits.clear();
      key += c;
    }
    // The program's own series (one number) before its children's (two).
    const bool child = std::count(name.begin(), name.end(), '.') > 2;
    found.emplace_back((child ? "1" : "0") + key, path);
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (auto& [key, path] : found) paths.push_back(std::move(path));
  return paths;
}

class CaptureCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "capture",
        "Run a Python program and write snapshots of its heap: when it exits, on a "
        "signal, periodically");
    sub->add_option("-o,--output", output_,
                    "Snapshot file (default heapsnap-DATE-TIME.heapsnap); with --on-signal or "
                    "--every the snapshots are numbered: FILE.1.heapsnap, FILE.2.heapsnap, ...");
    sub->add_flag("--no-values", no_values_,
                  "Leave out the contents of str/bytes/int/float objects and of dict keys that "
                  "are not names in the program's code (for processes holding sensitive data)");
    sub->add_option("--on-signal", on_signal_,
                    "Write a snapshot each time the program (or heapsnap, which passes it on) "
                    "gets this signal (default USR2)")
        ->expected(0, 1);
    sub->add_option("--every", every_, "Write a snapshot every SECONDS while the program runs")
        ->check(CLI::PositiveNumber);
    sub->add_flag("--no-at-exit", no_at_exit_,
                  "No snapshot when the program exits (only the --on-signal/--every ones)");
    sub->add_flag("--fork", fork_,
                  "Take the --on-signal/--every snapshots (or the --pid one) in a forked child: "
                  "the program pauses for the fork only, not for the whole capture");
    sub->add_flag("--print-env", print_env_,
                  "Print the environment that arms these snapshots in a Python started by "
                  "another launcher (gunicorn, uwsgi, a systemd unit), and run nothing");
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
    for (const char* option : {"--on-signal", "--every", "--no-at-exit", "--print-env"}) {
      pid->excludes(option);
    }
    sub->footer(
        "Examples:\n"
        "  heapsnap capture -o app.heapsnap -- python app.py --port 8080\n"
        "  heapsnap capture --on-signal --fork -o app.heapsnap -- python app.py\n"
        "      then: kill -USR2 <pid>   (each signal writes app.1.heapsnap, app.2.heapsnap, ...)\n"
        "  heapsnap capture --every 600 --no-at-exit -o /var/tmp/app.heapsnap -- gunicorn "
        "app:wsgi\n"
        "  heapsnap capture --pid 4242 -o service.heapsnap   (a process already running)");
    sub_ = sub;
    return sub;
  }

  StatusOr<int> Run() override {
    HEAPSNAP_ASSIGN_OR_RETURN(const CaptureEnvironment env_template, Environment());
    if (print_env_) {
      for (const auto& [name, value] : env_template.Variables()) {
        std::cout << name << "=" << ShellQuoted(value) << "\n";
      }
      return 0;
    }
    if (pid_ != 0) return CapturePid(env_template.lib, env_template.output);
    if (command_.empty()) {
      return InvalidArgument(
          "capture: give the program to run after --, e.g. heapsnap capture "
          "-- python app.py, or --pid PID");
    }
    const std::string& output = env_template.output;
    const bool triggered = env_template.signal_number != 0 || env_template.every_seconds > 0;
    struct stat before {};
    const bool existed = ::stat(output.c_str(), &before) == 0;
    struct timespec started {};
    ::clock_gettime(CLOCK_REALTIME, &started);
    started.tv_sec -= 1;  // file times may be a tick behind the clock
    HEAPSNAP_ASSIGN_OR_RETURN(const ProgramExit exit, RunProgram(command_, env_template));

    if (!triggered) {
      struct stat after {};
      if (!Rewritten(output, existed, before, &after)) return ReportNoSnapshot(output, exit);
      std::cerr << "heapsnap: snapshot written to " << output << " ("
                << FormatBytes(static_cast<uint64_t>(after.st_size)) << ")\n";
      return exit.code();
    }
    const std::vector<std::string> written = NumberedSnapshots(output, started);
    if (written.empty()) {
      if (exit.boot.started && !env_template.at_exit) {
        std::cerr << "heapsnap: no snapshot was written (no "
                  << (env_template.signal_number != 0 ? "signal came" : "period ended")
                  << " while the program ran)\n";
        return exit.code();
      }
      return ReportNoSnapshot(NumberedSnapshotPath(output, 1), exit);
    }
    std::cerr << "heapsnap: " << written.size() << " snapshot" << (written.size() == 1 ? "" : "s")
              << " written:";
    for (const std::string& path : written) std::cerr << " " << path;
    std::cerr << "\n";
    return exit.code();
  }

 private:
  // Everything the program is started with, from the options, checked.
  StatusOr<CaptureEnvironment> Environment() const {
    CaptureEnvironment env;
    if (sub_->count("--on-signal") > 0) {
      HEAPSNAP_ASSIGN_OR_RETURN(env.signal_number,
                                ParseSignal(on_signal_.empty() ? "USR2" : on_signal_));
    }
    env.every_seconds = every_;
    env.at_exit = !no_at_exit_;
    env.fork = fork_;
    const bool triggered = env.signal_number != 0 || env.every_seconds > 0;
    if (!triggered && no_at_exit_) {
      return InvalidArgument(
          "capture: --no-at-exit leaves nothing to capture; add --on-signal "
          "or --every");
    }
    if (!triggered && fork_ && pid_ == 0) {
      return InvalidArgument(
          "capture: --fork applies to the --on-signal and --every snapshots "
          "and to --pid (the one at exit is taken when the program has finished)");
    }
    HEAPSNAP_ASSIGN_OR_RETURN(env.lib, FindLibDir());
    const std::string& lib = env.lib;
    HEAPSNAP_ASSIGN_OR_RETURN(env.output, Absolute(output_.empty() ? DefaultOutput() : output_));
    if (!IsDirectory(Dirname(env.output))) {
      return NotFound(env.output + ": the directory does not exist");
    }
    // Before the program runs, not when it has finished.
    HEAPSNAP_RETURN_IF_ERROR(
        SnapshotWriter::CheckTarget(triggered ? NumberedSnapshotPath(env.output, 1) : env.output));
    env.pythonpath = lib + "/boot:" + lib + "/python";
    env.old_pythonpath = std::getenv("PYTHONPATH");
    if (env.old_pythonpath != nullptr && *env.old_pythonpath != '\0') {
      env.pythonpath += ":" + std::string(env.old_pythonpath);
    }
    env.values = !no_values_;
    return env;
  }

 private:
  StatusOr<int> CapturePid(const std::string& lib, const std::string& output) const {
    HEAPSNAP_ASSIGN_OR_RETURN(
        const AttachOutcome outcome,
        CaptureRunningProcess({pid_, output, !no_values_, fork_, timeout_, lib}));
    struct stat st {};
    (void)::stat(output.c_str(), &st);
    char times[160];
    std::snprintf(times, sizeof(times),
                  "attach %.2f s, walk %.2f s, total %.2f s; the program paused %.1f ms%s",
                  outcome.attach_seconds, outcome.dump_seconds, outcome.total_seconds,
                  outcome.pause_seconds * 1e3, fork_ ? " (fork)" : "");
    std::cerr << "heapsnap: snapshot of process " << pid_ << " written to " << output << " ("
              << FormatBytes(static_cast<uint64_t>(st.st_size)) << ", "
              << FormatCount(outcome.objects) << " objects; " << times << ")\n";
    return 0;
  }

  CLI::App* sub_ = nullptr;
  std::string output_;
  bool no_values_ = false;
  std::string on_signal_;
  double every_ = 0;
  bool no_at_exit_ = false;
  bool fork_ = false;
  bool print_env_ = false;
  pid_t pid_ = 0;
  double timeout_ = 30;
  std::vector<std::string> command_;
};

}  // namespace

std::unique_ptr<Command> MakeCaptureCommand() { return std::make_unique<CaptureCommand>(); }

}  // namespace heapsnap::cli

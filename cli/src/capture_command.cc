// heapsnap capture [-o FILE] [--no-values] -- COMMAND...
// Runs COMMAND with the capture loaded into every Python it starts first (through a
// sitecustomize on PYTHONPATH; the program's code is not changed) and a snapshot written when
// that Python's main module has finished. The program's exit code is passed through.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>

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

class CaptureCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "capture", "Run a Python program and write a snapshot of its heap when it exits");
    sub->add_option("-o,--output", output_, "Snapshot file (default heapsnap-DATE-TIME.heapsnap)");
    sub->add_flag("--no-values", no_values_,
                  "Leave out the contents of str/bytes/int/float objects and of dict keys that "
                  "are not names in the program's code (for processes holding sensitive data)");
    sub->add_option("command", command_, "The program to run, after --, e.g. -- python app.py")
        ->required();
    sub->footer("Example: heapsnap capture -o app.heapsnap -- python app.py --port 8080");
    return sub;
  }

  StatusOr<int> Run() override {
    auto lib = FindLibDir();
    if (!lib.ok()) return lib.status();
    if (output_.empty()) output_ = DefaultOutput();
    auto output = Absolute(output_);
    if (!output.ok()) return output.status();
    if (!IsDirectory(Dirname(*output))) {
      return NotFound(*output + ": the directory does not exist");
    }
    // Before the program runs, not when it has finished.
    HEAPSNAP_RETURN_IF_ERROR(SnapshotWriter::CheckTarget(*output));
    struct stat before {};
    const bool existed = ::stat(output->c_str(), &before) == 0;

    std::string pythonpath = *lib + "/boot:" + *lib + "/python";
    // The start-up puts PYTHONPATH back as it was (HEAPSNAP_PYTHONPATH, unset if it was).
    const char* old_pythonpath = std::getenv("PYTHONPATH");
    if (old_pythonpath != nullptr && *old_pythonpath != '\0') {
      pythonpath += ":" + std::string(old_pythonpath);
    }
    // The start-up says through this pipe whether the capture started (see ReadBootReport).
    // HEAPSNAP_STATUS names its write end and inode, so that the start-up never writes to an
    // fd that a wrapper script reused.
    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
      return IoError(std::string("pipe failed: ") + std::strerror(errno));
    }
    struct stat pipe_stat {};
    (void)::fstat(status_pipe[1], &pipe_stat);
    const std::string status_env = std::to_string(status_pipe[1]) + ":" +
                                   std::to_string(static_cast<uint64_t>(pipe_stat.st_ino));
    // While the program runs, a Ctrl-C in the terminal goes to it; heapsnap waits for it.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction old_int {};
    struct sigaction old_quit {};
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGQUIT, &ignore, &old_quit);
    pid_t pid = ::fork();
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
      (void)::fcntl(status_pipe[1], F_SETFD, 0);  // the program inherits the write end
      if (old_pythonpath != nullptr) {
        ::setenv("HEAPSNAP_PYTHONPATH", old_pythonpath, 1);
      } else {
        ::unsetenv("HEAPSNAP_PYTHONPATH");
      }
      ::setenv("PYTHONPATH", pythonpath.c_str(), 1);
      ::setenv("HEAPSNAP_OUTPUT", output->c_str(), 1);
      ::setenv("HEAPSNAP_VALUES", no_values_ ? "0" : "1", 1);
      ::setenv("HEAPSNAP_STATUS", status_env.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : command_) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      std::string message =
          "heapsnap: cannot run '" + command_[0] + "': " + std::strerror(errno) + "\n";
      (void)!::write(2, message.data(), message.size());
      ::_exit(127);
    }
    ::close(status_pipe[1]);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0) {
      if (errno != EINTR) {
        ::close(status_pipe[0]);
        return IoError(std::string("waitpid failed: ") + std::strerror(errno));
      }
    }
    const BootReport boot = ReadBootReport(status_pipe[0]);
    ::close(status_pipe[0]);
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGQUIT, &old_quit, nullptr);
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);

    struct stat after {};
    const bool written =
        ::stat(output->c_str(), &after) == 0 && (!existed || after.st_ino != before.st_ino ||
                                                 after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
                                                 after.st_mtim.tv_nsec != before.st_mtim.tv_nsec);
    if (!written && boot.unavailable && !boot.started) {
      // The start-up said, first, that the capture could not start and why; nothing ran.
      return 2;
    }
    if (!written && !boot.started) {
      std::cerr << "heapsnap: no snapshot was written to " << *output
                << ": the capture was never loaded (the command started no Python, a Python "
                   "older than 3.8 (heapsnap supports CPython 3.8-3.13), or ran it with -I, -E "
                   "or -S, which ignore PYTHONPATH or site; it exited with "
                << (WIFEXITED(wstatus) ? "code " + std::to_string(code)
                                       : "signal " + std::to_string(WTERMSIG(wstatus)))
                << ")\n";
      return code != 0 ? code : 2;
    }
    if (!written) {
      std::cerr << "heapsnap: no snapshot was written to " << *output << " (the program "
                << (WIFEXITED(wstatus)
                        ? "exited with code " + std::to_string(code)
                        : "was killed by signal " + std::to_string(WTERMSIG(wstatus)))
                << "; a snapshot is written when Python exits normally, not on os._exit or a "
                   "signal)\n";
      return code != 0 ? code : 2;
    }
    std::cerr << "heapsnap: snapshot written to " << *output << " ("
              << FormatBytes(static_cast<uint64_t>(after.st_size)) << ")\n";
    return code;
  }

 private:
  std::string output_;
  bool no_values_ = false;
  std::vector<std::string> command_;
};

}  // namespace

std::unique_ptr<Command> MakeCaptureCommand() { return std::make_unique<CaptureCommand>(); }

}  // namespace heapsnap::cli

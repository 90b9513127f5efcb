#include "attach.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

namespace heapsnap::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kCapSysPtrace = 19;
// How long gdb may take to detach once interrupted, before it is terminated.
constexpr std::chrono::seconds kGdbGrace{10};
// How long gdb may take to attach and read the target's symbols.
constexpr std::chrono::seconds kGdbStartup{120};

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ProcPath(pid_t pid, const char* leaf) {
  return "/proc/" + std::to_string(pid) + "/" + leaf;
}

std::vector<uint64_t> Numbers(std::string_view text) {
  std::vector<uint64_t> numbers;
  std::istringstream in{std::string(text)};
  uint64_t n = 0;
  while (in >> n) numbers.push_back(n);
  return numbers;
}

bool HaveCapability(int capability) {
  const std::optional<std::string> status = ReadSmallFile("/proc/self/status");
  if (!status) return false;
  const size_t at = status->find("CapEff:");
  if (at == std::string::npos) return false;
  const uint64_t mask = std::strtoull(status->c_str() + at + 7, nullptr, 16);
  return ((mask >> capability) & 1U) != 0;
}

std::string UserName(uid_t uid) {
  // /etc/passwd by hand: getpwuid would pull NSS into a static-friendly binary for one name.
  std::ifstream passwd("/etc/passwd");
  std::string line;
  while (std::getline(passwd, line)) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    std::string field;
    while (std::getline(in, field, ':')) fields.push_back(field);
    if (fields.size() > 2 && fields[2] == std::to_string(uid)) return fields[0];
  }
  return "uid " + std::to_string(uid);
}

// Whether a process with these credentials can create files in dir (the target writes the
// snapshot itself). Root is not checked: it may create anywhere but on read-only mounts, which
// the target's own report names.
bool CanWriteDirectory(const ProcessStatus& target, const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return false;
  const uid_t fsuid = target.uids.size() > 3 ? target.uids[3] : target.uids.at(0);
  const gid_t fsgid = target.gids.size() > 3 ? target.gids[3] : target.gids.at(0);
  if (fsuid == 0) return true;
  if (st.st_uid == fsuid) return (st.st_mode & S_IWUSR) != 0 && (st.st_mode & S_IXUSR) != 0;
  const bool in_group = st.st_gid == fsgid || std::find(target.groups.begin(), target.groups.end(),
                                                        st.st_gid) != target.groups.end();
  if (in_group) return (st.st_mode & S_IWGRP) != 0 && (st.st_mode & S_IXGRP) != 0;
  return (st.st_mode & S_IWOTH) != 0 && (st.st_mode & S_IXOTH) != 0;
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Join(const std::vector<std::string>& parts) {
  std::string joined;
  for (const auto& p : parts) joined += (joined.empty() ? "" : ", ") + p;
  return joined.empty() ? "none" : joined;
}

std::vector<std::string> DirectoryEntries(const std::string& dir) {
  std::vector<std::string> names;
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return names;
  while (const dirent* e = ::readdir(d.get())) names.emplace_back(e->d_name);
  return names;
}

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream in(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(in, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// The Python string `bytes.fromhex('...')`: any path, written in the request without quoting.
std::string PythonBytes(const std::string& text) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "bytes.fromhex('";
  for (const unsigned char c : text) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out + "')";
}

Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return IoError("cannot create " + path + ": " + std::strerror(errno));
  const ssize_t written = ::write(fd, text.data(), text.size());
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size())) return IoError("cannot write " + path);
  return Status::Ok();
}

// The request directory: made in the target's view of /tmp (through /proc/PID/root, so a
// service with a private /tmp sees it too), owned by the target's user, removed at the end.
class RequestDirectory {
 public:
  static StatusOr<std::unique_ptr<RequestDirectory>> Make(pid_t pid, const ProcessStatus& target) {
    const std::string root = ProcPath(pid, "root");
    std::string templ = root + "/tmp/heapsnap-attach-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      return IoError("cannot make a directory in the target's /tmp (" + root +
                     "/tmp): " + std::strerror(errno));
    }
    auto dir = std::unique_ptr<RequestDirectory>(new RequestDirectory(templ, root.size()));
    if (::geteuid() == 0 && target.uids.size() > 3 && target.uids[3] != 0) {
      if (::chown(templ.c_str(), target.uids[3], target.gids.at(3)) != 0) {
        return IoError("cannot give " + templ + " to the target's user: " + std::strerror(errno));
      }
    }
    return dir;
  }
  ~RequestDirectory() {
    for (const auto& name : DirectoryEntries(here_)) {
      if (name != "." && name != "..") (void)::unlink((here_ + "/" + name).c_str());
    }
    (void)::rmdir(here_.c_str());
  }
  RequestDirectory(const RequestDirectory&) = delete;
  RequestDirectory& operator=(const RequestDirectory&) = delete;

  const std::string& here() const { return here_; }                     // as heapsnap sees it
  std::string in_target() const { return here_.substr(root_length_); }  // as the target does
  std::string file(const char* leaf) const { return here_ + "/" + leaf; }

 private:
  RequestDirectory(std::string here, size_t root_length)
      : here_(std::move(here)), root_length_(root_length) {}
  const std::string here_;
  const size_t root_length_;
};

struct Target {
  pid_t pid = 0;
  ProcessStatus status;
  std::string exe;
  std::optional<PythonVersion> version;
};

std::string Describe(const Target& target) {
  return "process " + std::to_string(target.pid) + " (" + target.status.name + ")";
}

// Everything that can be known without attaching, each refusal naming the cause.
StatusOr<Target> CheckTarget(const AttachRequest& request) {
  Target target;
  target.pid = request.pid;
  const std::string pid = std::to_string(request.pid);
  const std::optional<std::string> status_text = ReadSmallFile(ProcPath(request.pid, "status"));
  if (request.pid <= 0 || !status_text) return NotFound("no process with pid " + pid);
  HEAPSNAP_ASSIGN_OR_RETURN(target.status, ParseProcessStatus(*status_text));
  const ProcessStatus& st = target.status;
  if (st.state == 'Z' || st.state == 'X') {
    return NotFound(Describe(target) + " has exited (it is a zombie, not yet reaped)");
  }
  if (st.tracer_pid != 0) {
    const std::optional<std::string> tracer = ReadSmallFile(ProcPath(st.tracer_pid, "comm"));
    return InvalidArgument(Describe(target) + " is already being traced by process " +
                           std::to_string(st.tracer_pid) +
                           (tracer ? " (" + tracer->substr(0, tracer->find('\n')) + ")" : "") +
                           "; only one debugger can attach: detach it (or end strace) and try "
                           "again");
  }
  if (st.state == 'T' || st.state == 't') {
    return InvalidArgument(Describe(target) +
                           " is stopped (state T: Ctrl-Z or SIGSTOP); heapsnap does not attach "
                           "to a stopped process (attaching can crash it, memray #450). Resume "
                           "it with `kill -CONT " +
                           pid + "` and try again");
  }
  const uid_t me = ::geteuid();
  if (me != 0 && !st.uids.empty() && (st.uids[0] != me || st.uids.at(1) != me)) {
    return InvalidArgument(Describe(target) + " runs as " + UserName(st.uids.at(1)) +
                           " and heapsnap as " + UserName(me) +
                           ": run heapsnap as that user, or as root");
  }
  if (const std::optional<std::string> scope = ReadSmallFile("/proc/sys/kernel/yama/ptrace_scope");
      scope && !HaveCapability(kCapSysPtrace)) {
    const int value = std::atoi(scope->c_str());
    if (value == 3) {
      return InvalidArgument(
          "ptrace is disabled on this machine (kernel.yama.ptrace_scope=3, until reboot): "
          "heapsnap cannot attach to a running process");
    }
    if (value >= 1) {
      return InvalidArgument(
          "ptrace is not permitted: kernel.yama.ptrace_scope=" + std::to_string(value) +
          " lets only " + (value == 1 ? "a parent process or " : std::string()) +
          "a process with CAP_SYS_PTRACE trace another. Run heapsnap as root (sudo), or allow "
          "it with `sudo sysctl kernel.yama.ptrace_scope=0`");
    }
  }
  char exe[4096];
  const ssize_t n = ::readlink(ProcPath(request.pid, "exe").c_str(), exe, sizeof(exe) - 1);
  if (n > 0) target.exe.assign(exe, static_cast<size_t>(n));
  const std::optional<std::string> maps = ReadSmallFile(ProcPath(request.pid, "maps"));
  target.version = PythonVersionOf(maps.value_or(""), target.exe);
  if (target.version) {
    const std::string version =
        std::to_string(target.version->major) + "." + std::to_string(target.version->minor);
    const std::vector<std::string> built =
        BuiltVersions(DirectoryEntries(request.lib_dir + "/python/heapsnap"));
    // 3.14+ is the attach method's to refuse (ChooseMethod).
    const bool have = (target.version->major == 3 && target.version->minor >= 14) ||
                      std::any_of(built.begin(), built.end(), [&](const std::string& v) {
                        return v.rfind(version + ".", 0) == 0;
                      });
    if (target.version->major < 3 || (target.version->major == 3 && target.version->minor < 8)) {
      return InvalidArgument(Describe(target) + " runs Python " + version +
                             ": heapsnap captures CPython 3.8-3.13");
    }
    if (!have) {
      return InvalidArgument(Describe(target) + " runs Python " + version +
                             ", and this installation has capture modules for: " + Join(built) +
                             ". Rebuild heapsnap with -DHEAPSNAP_PYTHONS=" + target.exe);
    }
  }
  if (!CanWriteDirectory(st, Dirname(request.output))) {
    return InvalidArgument(Describe(target) + ", which runs as " + UserName(st.uids.back()) +
                           ", cannot write to " + Dirname(request.output) +
                           " (the target writes the snapshot itself): choose an output "
                           "directory it can write to, with -o");
  }
  return target;
}

// One attach method: starts heapsnap's thread in the target, which then runs the request in
// the request directory once it holds the GIL. gdb for CPython 3.8-3.13; for 3.14+, the next
// one is sys.remote_exec (PEP 768), run from a Python 3.14 (capture/DESIGN.md, "Attach").
class AttachMethod {
 public:
  virtual ~AttachMethod() = default;
  // timeout: for the target to reach a safe point, counted from the moment the method has
  // attached (a debugger's own start-up, reading symbols, is not the target's doing).
  [[nodiscard]] virtual Status StartThread(const Target& target, const RequestDirectory& dir,
                                           Clock::duration timeout) = 0;
};

class GdbMethod : public AttachMethod {
 public:
  GdbMethod(std::string gdb, std::string lib_dir, double timeout_seconds)
      : gdb_(std::move(gdb)), lib_dir_(std::move(lib_dir)), timeout_seconds_(timeout_seconds) {}

  Status StartThread(const Target& target, const RequestDirectory& dir,
                     Clock::duration timeout) override {
    HEAPSNAP_ASSIGN_OR_RETURN(const std::string output, RunGdb(target, dir, timeout));
    if (const char* verbose = std::getenv("HEAPSNAP_ATTACH_VERBOSE");
        verbose != nullptr && *verbose == '1') {
      std::cerr << output;
    }
    return ClassifyGdbOutput(output, target.pid, timeout_seconds_);
  }

 private:
  // Runs gdb on the target until it exits, interrupting it at the deadline: kGdbStartup until
  // the script says it has attached, then the timeout (the script then
  // detaches) and terminating it if it does not exit after that. Returns its output.
  StatusOr<std::string> RunGdb(const Target& target, const RequestDirectory& dir,
                               Clock::duration timeout) const {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
    const std::string pid = std::to_string(target.pid);
    const std::string script = lib_dir_ + "/attach/gdb_attach.py";
    const std::string library = lib_dir_ + "/attach/libheapsnap_inject.so";
    const std::vector<std::string> args = {gdb_,   "-batch",
                                           "-nx",  "-nw",
                                           "-iex", "set debuginfod enabled off",
                                           "-iex", "set auto-load off",
                                           "-p",   pid,
                                           "-x",   script};
    const pid_t child = ::fork();
    if (child < 0) return IoError(std::string("fork: ") + std::strerror(errno));
    if (child == 0) {
      ::dup2(out[1], 1);
      ::dup2(out[1], 2);
      const int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, 0);
      ::setenv("HEAPSNAP_ATTACH_LIBRARY", library.c_str(), 1);
      ::setenv("HEAPSNAP_ATTACH_DIR", dir.in_target().c_str(), 1);
      std::vector<char*> argv;
      argv.reserve(args.size() + 1);
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string output;
    int stage = 0;  // 0 running, 1 interrupted (SIGINT), 2 terminated, 3 killed
    Clock::time_point next = Clock::now() + kGdbStartup;
    bool attached = false;
    int wstatus = 0;
    for (;;) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
      pollfd p{out[0], POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, wait.count())));
      if (ready > 0) {
        char buf[4096];
        const ssize_t n = ::read(out[0], buf, sizeof(buf));
        if (n > 0) {
          output.append(buf, static_cast<size_t>(n));
          if (!attached && output.find("heapsnap-attach: attached") != std::string::npos) {
            attached = true;
            next = Clock::now() + timeout;
          }
          continue;
        }
        if (n == 0) break;  // gdb exited (or closed its output)
        if (errno == EINTR) continue;
        break;
      }
      if (ready < 0 && errno == EINTR) continue;
      if (Clock::now() < next) continue;
      // Out of time: interrupt gdb (the script deletes its breakpoints and detaches), then
      // terminate it. SIGKILL is the last resort: gdb killed while the target runs with
      // breakpoints inserted would leave them in its code.
      static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGKILL};
      if (stage < 3) ::kill(child, kSignals[stage]);
      ++stage;
      next = Clock::now() + kGdbGrace;
      if (stage > 3) break;
    }
    ::close(out[0]);
    while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
    }
    ResumeIfStopped(target.pid);
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 127 &&
        output.find("heapsnap-attach") == std::string::npos) {
      return NotFound("cannot run " + gdb_ + ": " + output);
    }
    if (stage >= 2) {
      return IoError("gdb did not detach from process " + pid + " within " +
                     std::to_string(static_cast<int>(kGdbGrace.count())) +
                     " s of being interrupted and was terminated; check the process");
    }
    return output;
  }

  // A target that a debugger leaves in state T would never run again by itself (after lldb,
  // Memray sends SIGCONT for this reason). CheckTarget refused targets already stopped.
  static void ResumeIfStopped(pid_t pid) {
    const std::optional<std::string> text = ReadSmallFile(ProcPath(pid, "status"));
    if (!text) return;
    StatusOr<ProcessStatus> status = ParseProcessStatus(*text);
    if (status.ok() && status->state == 'T') ::kill(pid, SIGCONT);
  }

  const std::string gdb_;
  const std::string lib_dir_;
  const double timeout_seconds_;
};

StatusOr<std::unique_ptr<AttachMethod>> ChooseMethod(const Target& target,
                                                     const AttachRequest& request) {
  if (target.version && (target.version->major > 3 || target.version->minor >= 14)) {
    // The next method: sys.remote_exec (PEP 768), which needs no debugger (capture/DESIGN.md).
    return InvalidArgument(Describe(target) + " runs Python " +
                           std::to_string(target.version->major) + "." +
                           std::to_string(target.version->minor) +
                           ": heapsnap attaches to CPython 3.8-3.13 (with gdb); attaching to 3.14 "
                           "and later with sys.remote_exec (PEP 768) is not implemented yet");
  }
  const char* env = std::getenv("HEAPSNAP_GDB");
  const std::string gdb = env != nullptr && *env != '\0' ? std::string(env) : FindOnPath("gdb");
  if (gdb.empty() || ::access(gdb.c_str(), X_OK) != 0) {
    return NotFound(
        "gdb is not installed (heapsnap attaches to CPython 3.8-3.13 with gdb): install it with "
        "`apt-get install gdb`, or set HEAPSNAP_GDB to its path");
  }
  return std::unique_ptr<AttachMethod>(
      new GdbMethod(gdb, request.lib_dir, request.timeout_seconds));
}

struct PayloadResult {
  bool received = false;
  std::string text;
};

// Waits for the payload's result until the deadline. At the deadline, the request is
// cancelled unless the thread has claimed it; a claimed request is a dump under way, which is
// waited for as long as the target lives.
StatusOr<std::string> WaitForResult(const Target& target, const RequestDirectory& dir,
                                    Clock::time_point deadline, double timeout_seconds) {
  const std::string result = dir.file("result");
  bool claimed = false;
  for (;;) {
    if (!claimed && ::access(dir.file("claimed").c_str(), F_OK) == 0) claimed = true;
    if (std::optional<std::string> text = ReadSmallFile(result)) return *text;
    if (::kill(target.pid, 0) != 0 && errno == ESRCH) {
      return IoError(Describe(target) + " exited before the snapshot was written");
    }
    if (!claimed && Clock::now() >= deadline) {
      if (::rename(dir.file("request").c_str(), dir.file("cancelled").c_str()) == 0) {
        return IoError(Describe(target) + ": heapsnap's thread did not obtain the GIL within " +
                       std::to_string(static_cast<int>(std::lround(timeout_seconds))) +
                       " s (a long call in C, or a stopped interpreter, holds it); the capture "
                       "is cancelled and the thread will do nothing. Try again later, or with a "
                       "longer --timeout");
      }
      claimed = true;  // the thread claimed it just now
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

StatusOr<AttachOutcome> ParseResult(const std::string& text, const Target& target) {
  const size_t newline = text.find('\n');
  const std::string first = text.substr(0, newline);
  std::string rest = newline == std::string::npos ? "" : text.substr(newline + 1);
  while (!rest.empty() && rest.back() == '\n') rest.pop_back();
  if (first.rfind("ok ", 0) == 0) {
    AttachOutcome outcome;
    std::istringstream in(first.substr(3));
    if (in >> outcome.objects >> outcome.edges >> outcome.dump_seconds) {
      // A fork capture says how long the program paused; otherwise it paused for the walk.
      if (!(in >> outcome.pause_seconds)) outcome.pause_seconds = outcome.dump_seconds;
      return outcome;
    }
    return Internal("unreadable report from the attach payload: " + first);
  }
  if (first == "unavailable") {
    // The capture's own message: the exact version, the versions built, how to rebuild.
    return InvalidArgument(Describe(target) + ": " +
                           (rest.rfind("heapsnap: ", 0) == 0 ? rest.substr(10) : rest));
  }
  return IoError("the capture in " + Describe(target) + " failed: " + rest);
}

}  // namespace

StatusOr<ProcessStatus> ParseProcessStatus(std::string_view text) {
  ProcessStatus status;
  bool have_state = false;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    if (key == "Name") {
      status.name = value;
    } else if (key == "State" && !value.empty()) {
      status.state = value[0];
      have_state = true;
    } else if (key == "Uid") {
      for (uint64_t n : Numbers(value)) status.uids.push_back(static_cast<uid_t>(n));
    } else if (key == "Gid") {
      for (uint64_t n : Numbers(value)) status.gids.push_back(static_cast<gid_t>(n));
    } else if (key == "Groups") {
      for (uint64_t n : Numbers(value)) status.groups.push_back(static_cast<gid_t>(n));
    } else if (key == "TracerPid") {
      status.tracer_pid = static_cast<pid_t>(std::atoi(value.c_str()));
    }
  }
  if (!have_state || status.uids.empty() || status.gids.empty()) {
    return DataLoss("unreadable /proc status (no State, Uid or Gid)");
  }
  return status;
}

std::optional<PythonVersion> PythonVersionOf(std::string_view maps, std::string_view exe) {
  static const std::regex kLibPython(R"(libpython(\d+)\.(\d+))");
  static const std::regex kExe(R"((^|/)python(\d+)\.(\d+)$)");
  std::match_results<std::string_view::const_iterator> m;
  if (std::regex_search(maps.begin(), maps.end(), m, kLibPython)) {
    return PythonVersion{std::stoi(m[1].str()), std::stoi(m[2].str())};
  }
  if (std::regex_search(exe.begin(), exe.end(), m, kExe)) {
    return PythonVersion{std::stoi(m[2].str()), std::stoi(m[3].str())};
  }
  return std::nullopt;
}

std::vector<std::string> BuiltVersions(const std::vector<std::string>& file_names) {
  std::vector<std::pair<uint32_t, std::string>> found;
  static const std::regex kModule(R"(^_heapsnap_([0-9a-f]{8})\..*\.so$)");
  for (const auto& name : file_names) {
    std::smatch m;
    if (!std::regex_match(name, m, kModule)) continue;
    const auto hex = static_cast<uint32_t>(std::stoul(m[1].str(), nullptr, 16));
    std::string version = std::to_string(hex >> 24) + "." + std::to_string((hex >> 16) & 0xFF) +
                          "." + std::to_string((hex >> 8) & 0xFF);
    const uint32_t level = (hex >> 4) & 0xF;
    if (level == 0xA) version += "a" + std::to_string(hex & 0xF);
    if (level == 0xB) version += "b" + std::to_string(hex & 0xF);
    if (level == 0xC) version += "rc" + std::to_string(hex & 0xF);
    found.emplace_back(hex, version);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> versions;
  for (const auto& f : found) {
    if (versions.empty() || versions.back() != f.second) versions.push_back(f.second);
  }
  return versions;
}

Status ClassifyGdbOutput(std::string_view output, pid_t pid, double timeout_seconds) {
  const std::string process = "process " + std::to_string(pid);
  auto said = [&](std::string_view word) -> std::optional<std::string> {
    const std::string marker = "heapsnap-attach: " + std::string(word);
    const size_t at = output.find(marker);
    if (at == std::string_view::npos) return std::nullopt;
    size_t start = at + marker.size();
    if (start < output.size() && output[start] == ' ') ++start;
    const size_t end = output.find('\n', start);
    return std::string(output.substr(start, end == std::string_view::npos ? end : end - start));
  };
  if (said("spawned")) return Status::Ok();
  if (output.find("ptrace: Operation not permitted") != std::string_view::npos) {
    return InvalidArgument(
        "ptrace is not permitted on " + process +
        ": in a container, run it with --cap-add=SYS_PTRACE (Docker, or the pod's "
        "securityContext capabilities); with kernel.yama.ptrace_scope >= 1, run heapsnap as "
        "root or set it to 0; a process that made itself non-dumpable cannot be attached to");
  }
  if (output.find("ptrace: No such process") != std::string_view::npos) {
    return NotFound("no process with pid " + std::to_string(pid) + " (it exited)");
  }
  if (said("not-python")) {
    return InvalidArgument(process +
                           " is not a CPython process (no PyGILState_Ensure among its symbols)");
  }
  if (said("not-initialized")) {
    return InvalidArgument(process + ": its Python is starting up or shutting down; try again");
  }
  if (auto library = said("cannot-read-library")) {
    return NotFound(process + " cannot read heapsnap's injector " + *library +
                    ": the target must see heapsnap's library directory at the same path (in a "
                    "container, install heapsnap inside it) and its user must be able to read it");
  }
  if (auto message = said("dlopen-failed")) {
    return IoError("could not load heapsnap's injector into " + process + ": " + *message);
  }
  if (auto message = said("spawn-failed")) {
    return IoError("could not start a thread in " + process + ": " + *message);
  }
  if (said("no-safe-point")) {
    return IoError(process + " did not reach a point where heapsnap can load its thread within " +
                   std::to_string(static_cast<int>(std::lround(timeout_seconds))) +
                   " s (every thread was in the allocator, the dynamic loader or fork, and none "
                   "called them again); gdb detached and it runs on. Try again, or with a longer "
                   "--timeout");
  }
  if (auto message = said("gdb-error")) {
    return IoError("gdb failed on " + process + ": " + *message);
  }
  // gdb never ran the script's checks: quote its last line.
  std::string_view trimmed = output;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == ' ')) {
    trimmed.remove_suffix(1);
  }
  const size_t last = trimmed.rfind('\n');
  const std::string_view last_line =
      last == std::string_view::npos ? trimmed : trimmed.substr(last + 1);
  return IoError("gdb could not attach to " + process + ": " +
                 (last_line.empty() ? std::string("no output") : std::string(last_line)));
}

StatusOr<AttachOutcome> CaptureRunningProcess(const AttachRequest& request) {
  const Clock::time_point start = Clock::now();
  HEAPSNAP_ASSIGN_OR_RETURN(const Target target, CheckTarget(request));
  HEAPSNAP_ASSIGN_OR_RETURN(const std::unique_ptr<AttachMethod> method,
                            ChooseMethod(target, request));
  const std::optional<std::string> payload = ReadSmallFile(request.lib_dir + "/attach/payload.py");
  if (!payload) return NotFound("cannot read " + request.lib_dir + "/attach/payload.py");
  HEAPSNAP_ASSIGN_OR_RETURN(const std::unique_ptr<RequestDirectory> dir,
                            RequestDirectory::Make(request.pid, target.status));
  const std::string call =
      "\n_heapsnap_attach(" + PythonBytes(request.lib_dir + "/python") + ", " +
      PythonBytes(request.output) + ", " + (request.values ? "True" : "False") + ", " +
      PythonBytes(dir->in_target() + "/result") + ", " + (request.fork ? "True" : "False") + ")\n";
  HEAPSNAP_RETURN_IF_ERROR(WriteFile(dir->file("request"), *payload + call, 0644));

  const Clock::time_point attach_start = Clock::now();
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(request.timeout_seconds));
  HEAPSNAP_RETURN_IF_ERROR(method->StartThread(target, *dir, timeout));
  // The GIL has its own timeout, from the moment the thread exists.
  const Clock::time_point deadline = Clock::now() + timeout;
  const double attach_seconds = SecondsSince(attach_start);
  HEAPSNAP_ASSIGN_OR_RETURN(const std::string result,
                            WaitForResult(target, *dir, deadline, request.timeout_seconds));
  HEAPSNAP_ASSIGN_OR_RETURN(AttachOutcome outcome, ParseResult(result, target));
  outcome.attach_seconds = attach_seconds;
  outcome.total_seconds = SecondsSince(start);
  return outcome;
}

}  // namespace heapsnap::cli

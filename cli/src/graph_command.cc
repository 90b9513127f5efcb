// heapsnap graph SNAP (--id ADDR... | --type NAME | --finding FINGERPRINT) [-o FILE]: a retainer
// graph (export/retainer_graph.h) as Graphviz DOT, on stdout or in FILE.dot; FILE.svg and
// FILE.png are drawn by Graphviz's `dot` program, run as a subprocess with the DOT on its stdin.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "command.h"
#include "heapsnap/analyze/detectors.h"
#include "heapsnap/analyze/heap_diff.h"  // FingerprintHex
#include "heapsnap/analyze/queries.h"
#include "heapsnap/export/retainer_graph.h"
#include "object_ids.h"
#include "output_file.h"

namespace heapsnap::cli {
namespace {

enum class Format { kDot, kSvg, kPng };

// The output format from the file name's extension.
StatusOr<Format> FormatOf(const std::string& path) {
  std::string lower = path;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto ends_with = [&](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return lower.size() > n && lower.compare(lower.size() - n, n, suffix) == 0;
  };
  if (ends_with(".dot") || ends_with(".gv")) return Format::kDot;
  if (ends_with(".svg")) return Format::kSvg;
  if (ends_with(".png")) return Format::kPng;
  return InvalidArgument("graph: " + path +
                         ": the output file must end in .dot, .gv, .svg or .png");
}

// Closes a file descriptor once.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Close(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// SIGPIPE ignored while it lives: `dot` may exit before it has read all its input, and the
// write must then fail with EPIPE rather than end heapsnap.
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &saved_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &saved_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction saved_ {};
};

constexpr char kNoDot[] =
    "Graphviz's dot program is needed to draw .svg and .png files and was not found on PATH "
    "(Debian: apt-get install graphviz); -o FILE.dot, or no -o, writes the DOT text without it";

// Runs `dot -T<format>` with `input` on its stdin; its stdout, or an error with what it said.
// stdin, stdout and stderr are served together (poll), so no pipe fills while we wait on
// another.
StatusOr<std::string> RunDot(const char* format, const std::string& input) {
  int in[2], out[2], err[2], exec_status[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
  Fd in_read(in[0]), in_write(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
  Fd out_read(out[0]), out_write(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return IoError(std::string("pipe: ") + std::strerror(errno));
  Fd err_read(err[0]), err_write(err[1]);
  // The child writes exec's errno here; closed by a successful exec (O_CLOEXEC).
  if (::pipe2(exec_status, O_CLOEXEC) != 0) {
    return IoError(std::string("pipe: ") + std::strerror(errno));
  }
  Fd status_read(exec_status[0]), status_write(exec_status[1]);
  const std::string type = std::string("-T") + format;
  const pid_t child = ::fork();
  if (child < 0) return IoError(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::dup2(in_read.get(), 0);
    ::dup2(out_write.get(), 1);
    ::dup2(err_write.get(), 2);
    char* argv[] = {const_cast<char*>("dot"), const_cast<char*>(type.c_str()), nullptr};
    ::execvp("dot", argv);
    const int e = errno;
    (void)!::write(status_write.get(), &e, sizeof(e));
    ::_exit(127);
  }
  in_read.Close();
  out_write.Close();
  err_write.Close();
  status_write.Close();

  IgnoreSigpipe ignore_sigpipe;
  ::fcntl(in_write.get(), F_SETFL, ::fcntl(in_write.get(), F_GETFL) | O_NONBLOCK);
  std::string output, errors;
  size_t written = 0;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[3] = {
        {out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}, {in_write.get(), POLLOUT, 0}};
    const nfds_t count = in_write.get() >= 0 ? 3 : 2;
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    if (::poll(fds, count, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (count == 3 && fds[2].revents != 0) {
      const ssize_t n = ::write(in_write.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        in_write.Close();  // done, or dot stopped reading (it says why on stderr)
      }
    }
    char buf[65536];
    for (int k = 0; k < 2; ++k) {
      if (fds[k].revents == 0) continue;
      const ssize_t n = ::read(fds[k].fd, buf, sizeof(buf));
      if (n > 0) {
        (k == 0 ? output : errors).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (k == 0 ? out_open : err_open) = false;
      }
    }
  }
  in_write.Close();
  int wstatus = 0;
  while (::waitpid(child, &wstatus, 0) < 0 && errno == EINTR) {
  }
  int exec_errno = 0;
  if (::read(status_read.get(), &exec_errno, sizeof(exec_errno)) == sizeof(exec_errno)) {
    if (exec_errno == ENOENT) return NotFound(kNoDot);
    return IoError(std::string("cannot run Graphviz's dot: ") + std::strerror(exec_errno));
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == '\r')) errors.pop_back();
    const std::string how = WIFEXITED(wstatus) ? "exit code " + std::to_string(WEXITSTATUS(wstatus))
                                               : "signal " + std::to_string(WTERMSIG(wstatus));
    return IoError(std::string("Graphviz's dot -T") + format + " failed (" + how + ")" +
                   (errors.empty() ? "" : ": " + errors));
  }
  if (output.empty()) return IoError(std::string("Graphviz's dot -T") + format + " wrote nothing");
  return output;
}

class GraphCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "graph", "Retainer graph of objects (Graphviz DOT, or SVG/PNG through Graphviz)");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    auto* id = sub->add_option("--id", ids_, "Object id (id() in Python; 0x-hex or decimal)");
    auto* type =
        sub->add_option("--type", type_, "The largest instances of a type: Name or module.Name");
    auto* finding = sub->add_option("--finding", finding_,
                                    "The objects of a leak finding: its fingerprint, as "
                                    "`heapsnap leaks --json` prints it");
    id->excludes(type)->excludes(finding);
    type->excludes(finding);
    sub->add_option("--limit", limit_,
                    "At most N objects of --type or --finding, largest first (default 3)")
        ->check(CLI::Range(1, 1000));
    sub->add_option("--paths", options_.paths,
                    "Retainer paths per object: the shortest and N-1 alternatives (default 3)")
        ->check(CLI::Range(1, 100));
    sub->add_option("--fold", options_.fold_fan_in_above,
                    "More referrers of one type than N are one node (default 8)");
    sub->add_option("--max-nodes", options_.max_nodes, "At most N nodes (default 150)")
        ->check(CLI::Range(1, 100000));
    sub->add_option("-o,--output", output_,
                    "Write FILE.dot (or .gv), or FILE.svg / FILE.png drawn by Graphviz's dot; "
                    "without it, DOT on stdout");
    return sub;
  }

  StatusOr<int> Run() override {
    if (ids_.empty() && type_.empty() && finding_.empty()) {
      return InvalidArgument("graph: give --id, --type or --finding");
    }
    Format format = Format::kDot;
    if (!output_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(format, FormatOf(output_));
    }
    HEAPSNAP_ASSIGN_OR_RETURN(const std::unique_ptr<Loaded> loaded,
                              LoadSnapshotFile(path_, Analyse::kYes));
    const Analysis& analysis = *loaded->analysis;
    HEAPSNAP_ASSIGN_OR_RETURN(const std::vector<NodeIndex> targets, Targets(analysis));
    HEAPSNAP_ASSIGN_OR_RETURN(const RetainerGraph graph,
                              BuildRetainerGraph(analysis, targets, options_));
    const std::string dot = RetainerGraphDot(graph);
    if (output_.empty()) {
      std::cout << dot;
      return 0;
    }
    if (format == Format::kDot) {
      HEAPSNAP_RETURN_IF_ERROR(WriteFileAtomically(output_, dot));
    } else {
      StatusOr<std::string> drawn = RunDot(format == Format::kSvg ? "svg" : "png", dot);
      if (!drawn.ok()) {
        return Status(drawn.status().code(), "graph: " + output_ + ": " + drawn.status().message());
      }
      HEAPSNAP_RETURN_IF_ERROR(WriteFileAtomically(output_, *drawn));
    }
    std::cerr << "heapsnap: retainer graph of " << FormatCount(targets.size())
              << (targets.size() == 1 ? " object" : " objects") << " (" << graph.nodes.size()
              << " nodes" << (graph.truncated ? ", some retainers left out" : "") << ") written to "
              << output_ << "\n";
    return 0;
  }

 private:
  StatusOr<std::vector<NodeIndex>> Targets(const Analysis& analysis) const {
    const Snapshot& s = analysis.snapshot();
    if (!ids_.empty()) return FindObjects(s, ids_);
    if (!type_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(std::vector<NodeIndex> objects, ObjectsOfType(s, type_));
      return LargestObjects(analysis, std::move(objects), Measure::kRetained, limit_);
    }
    return FindingObjects(analysis);
  }

  // The examples of the finding with the fingerprint, its example first. Looked for as
  // `heapsnap leaks` finds them by default, then with no thresholds, so that a finding listed
  // by `leaks --min-bytes 0` is found too.
  StatusOr<std::vector<NodeIndex>> FindingObjects(const Analysis& analysis) const {
    std::string wanted = finding_;
    std::transform(wanted.begin(), wanted.end(), wanted.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const bool thresholds : {true, false}) {
      DetectorOptions detector_options;
      if (!thresholds) {
        detector_options.min_bytes = 0;
        detector_options.min_share = 0;
      }
      for (const Finding& f : DetectLeaks(analysis, detector_options)) {
        if (FingerprintHex(f.fingerprint) != wanted) continue;
        if (f.examples.empty()) break;
        std::vector<NodeIndex> out(
            f.examples.begin(),
            f.examples.begin() + static_cast<std::ptrdiff_t>(std::min(f.examples.size(), limit_)));
        return out;
      }
    }
    return NotFound(path_ + ": no leak finding has the fingerprint " + finding_ +
                    " (heapsnap leaks --json lists the findings with their fingerprints)");
  }

  std::string path_;
  std::vector<std::string> ids_;
  std::string type_;
  std::string finding_;
  size_t limit_ = 3;
  std::string output_;
  RetainerGraphOptions options_;
};

}  // namespace

std::unique_ptr<Command> MakeGraphCommand() { return std::make_unique<GraphCommand>(); }

}  // namespace heapsnap::cli

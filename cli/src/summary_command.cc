// heapsnap summary SNAP [--top N] [--json]: totals and per-type counts and bytes.
#include <ctime>
#include <iomanip>
#include <optional>

#include "command.h"
#include "heapsnap/analyze/summary.h"
#include "json.h"

namespace heapsnap::cli {
namespace {

struct SummaryResult {
  Summary summary;
  size_t types_shown = 0;
};

class SummaryCommand : public SnapshotCommand<SummaryResult> {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = AddSubcommand(app, "summary", "Totals and the types that take the most memory");
    sub->add_option("--top", top_, "Show the N largest types (0: all; default 20, JSON: all)");
    AddJsonFlag(sub, "Machine-readable output (see README for the contract)");
    return sub;
  }

 private:
  StatusOr<SummaryResult> Compute(const Loaded& loaded) override {
    SummaryResult r;
    r.summary = SummarizeSnapshot(loaded.snapshot);
    AddAnalysis(*loaded.analysis, &r.summary);
    r.types_shown = r.summary.types.size();
    if (top_.has_value()) {
      if (*top_ > 0) r.types_shown = std::min(r.types_shown, *top_);
    } else if (!json()) {
      r.types_shown = std::min<size_t>(r.types_shown, 20);
    }
    return r;
  }

  void PrintJson(const SummaryResult& r, std::ostream& out) const override {
    const Summary& sum = r.summary;
    JsonWriter j(out);
    j.BeginObject();
    j.Key("objects").Uint(sum.objects);
    j.Key("bytes").Uint(sum.bytes);
    j.Key("python").String(ShortPythonVersion(sum.header.python_hexversion));
    j.Key("types").BeginArray();
    for (size_t i = 0; i < r.types_shown; ++i) {
      j.BeginObject();
      j.Key("type").String(sum.types[i].qualname);
      j.Key("count").Uint(sum.types[i].count);
      j.Key("bytes").Uint(sum.types[i].bytes);
      j.Key("retained_bytes").Uint(sum.types[i].retained_bytes);
      j.EndObject();
    }
    j.EndArray();
    j.Key("edges").Uint(sum.edges);
    j.Key("gc_tracked").Uint(sum.gc_tracked);
    j.Key("threads").Uint(sum.threads);
    j.Key("running_frames").Uint(sum.running_frames);
    j.Key("reason").String(sum.header.reason);
    j.Key("pid").Int(sum.header.pid);
    j.Key("unreachable").BeginObject();
    j.Key("objects").Uint(sum.unreachable_objects);
    j.Key("bytes").Uint(sum.unreachable_bytes);
    j.Key("retained_objects").Uint(sum.unreachable_retained_objects);
    j.Key("retained_bytes").Uint(sum.unreachable_retained_bytes);
    j.Key("cycles").Uint(sum.unreachable_cycles);
    j.EndObject();
    j.Key("external").BeginObject();
    j.Key("objects").Uint(sum.external_objects);
    j.Key("references").Uint(sum.external_references);
    j.EndObject();
    j.Key("inconsistent_objects").Uint(sum.inconsistent_objects);
    j.EndObject();
  }

  void PrintText(const SummaryResult& r, std::ostream& out) const override {
    PrintHeader(r.summary, out);
    PrintTypes(r, out);
  }

  void PrintHeader(const Summary& sum, std::ostream& out) const {
    const HeaderInfo& h = sum.header;
    out << path() << ": Python " << ShortPythonVersion(h.python_hexversion) << " ("
        << h.python_implementation << "), pid " << h.pid << ", captured " << CaptureCause(h.reason)
        << " " << CaptureTimeText(h.time_unix_ns) << "\n";
    out << FormatCount(sum.objects) << " objects, " << FormatBytes(sum.bytes) << ", "
        << FormatCount(sum.edges) << " references; " << FormatCount(sum.gc_tracked)
        << " gc-tracked";
    if (sum.frozen > 0) out << " (" << FormatCount(sum.frozen) << " frozen)";
    out << "; " << sum.threads << (sum.threads == 1 ? " thread" : " threads") << "\n";
    out << "gc: " << (h.gc_enabled ? "enabled" : "DISABLED");
    if (h.gc_thresholds.size() == 3) {
      out << ", thresholds " << h.gc_thresholds[0] << "/" << h.gc_thresholds[1] << "/"
          << h.gc_thresholds[2];
    }
    out << ", gc.garbage holds " << h.gc_garbage_length;
    if (sum.finalized > 0)
      out << "; " << FormatCount(sum.finalized) << " objects already finalized";
    if (!h.values) out << "; values not recorded";
    out << "\n";
    if (sum.unreachable_objects > 0) {
      out << "unreachable garbage: " << FormatCount(sum.unreachable_objects) << " objects in "
          << FormatCount(sum.unreachable_cycles) << " cycles; a full gc.collect() would free "
          << FormatBytes(sum.unreachable_retained_bytes) << " ("
          << FormatCount(sum.unreachable_retained_objects) << " objects)\n";
    } else {
      out << "unreachable garbage: none\n";
    }
    out << "held from outside the graph (C code, extensions): " << FormatCount(sum.external_objects)
        << " objects\n\n";
  }

  static void PrintTypes(const SummaryResult& r, std::ostream& out) {
    const Summary& sum = r.summary;
    out << std::setw(12) << "count" << std::setw(12) << "bytes" << std::setw(8) << "%"
        << std::setw(12) << "retained"
        << "  type\n";
    for (size_t i = 0; i < r.types_shown; ++i) {
      const TypeTotal& t = sum.types[i];
      char pct[16];
      std::snprintf(pct, sizeof(pct), "%.1f", sum.bytes ? 100.0 * t.bytes / sum.bytes : 0.0);
      out << std::setw(12) << FormatCount(t.count) << std::setw(12) << FormatBytes(t.bytes)
          << std::setw(8) << pct << std::setw(12) << FormatBytes(t.retained_bytes) << "  "
          << t.qualname << "\n";
    }
    if (r.types_shown < sum.types.size()) {
      out << "  ... " << (sum.types.size() - r.types_shown) << " more types (--top 0 shows all)\n";
    }
  }

  std::optional<size_t> top_;
};

}  // namespace

std::unique_ptr<Command> MakeSummaryCommand() { return std::make_unique<SummaryCommand>(); }

}  // namespace heapsnap::cli

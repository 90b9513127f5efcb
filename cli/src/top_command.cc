// heapsnap top SNAP [--by retained|self] [--type NAME] [--limit N] [--json]: the largest objects
// and types, by what they keep alive (the dominator view) or by their own size, with each
// object's path from its root.
#include <cstdint>
#include <iomanip>

#include "command.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/queries.h"
#include "json.h"

namespace heapsnap::cli {
namespace {

struct TopResult {
  const Analysis* analysis = nullptr;
  std::vector<NodeIndex> objects;
  std::vector<const TypeRetained*> types;
};

class TopCommand : public SnapshotCommand<TopResult> {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = AddSubcommand(app, "top", "The largest objects and types by retained size");
    sub->add_option("--by", by_, "retained (what it keeps alive, default) or self")
        ->check(CLI::IsMember({"retained", "self"}));
    sub->add_option("--type", type_, "Only objects of this type: Name or module.Name");
    sub->add_option("--limit", limit_, "At most N objects and N types (default 20, 0: all)");
    sub->add_flag("--all", all_,
                  "Also list the roots (sys.modules), modules and module namespaces, which "
                  "retain everything under them and are left out by default");
    AddJsonFlag(sub, "Machine-readable output (see README)");
    return sub;
  }

 private:
  Measure measure() const { return by_ == "retained" ? Measure::kRetained : Measure::kSelf; }

  StatusOr<TopResult> Compute(const Loaded& loaded) override {
    const Analysis& a = *loaded.analysis;
    const size_t limit = limit_ == 0 ? SIZE_MAX : limit_;
    TopResult r;
    r.analysis = &a;
    std::vector<NodeIndex> candidates;
    std::vector<uint8_t> type_match;  // empty: every type
    if (!type_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(TypeSelection selection, SelectType(loaded.snapshot, type_));
      candidates = std::move(selection.objects);
      type_match = std::move(selection.match);
    } else {
      candidates = all_ ? AllObjects(loaded.snapshot) : AllButStructural(a);
    }
    r.objects = LargestObjects(a, std::move(candidates), measure(), limit);
    r.types = LargestTypes(a, type_match, measure(), limit);
    return r;
  }

  void PrintJson(const TopResult& r, std::ostream& out) const override {
    const Analysis& a = *r.analysis;
    const Snapshot& s = a.snapshot();
    JsonWriter j(out);
    j.BeginObject().Key("objects").BeginArray();
    for (NodeIndex n : r.objects) {
      j.BeginObject();
      j.Key("id").String(FormatAddress(s.address[n.value()]));
      j.Key("type").String(s.TypeQualname(n));
      j.Key("self_bytes").Uint(s.size[n.value()]);
      j.Key("retained_bytes").Uint(a.retained[n.value()]);
      j.Key("path").String(PathText(a, a.PathTo(n)));
      j.EndObject();
    }
    j.EndArray().Key("types").BeginArray();
    for (const TypeRetained* t : r.types) {
      j.BeginObject();
      j.Key("type").String(s.String(s.types[t->type.value()].qualname));
      j.Key("count").Uint(t->count);
      j.Key("self_bytes").Uint(t->self_bytes);
      j.Key("retained_bytes").Uint(t->retained_bytes);
      j.EndObject();
    }
    j.EndArray().EndObject();
  }

  void PrintText(const TopResult& r, std::ostream& out) const override {
    const Analysis& a = *r.analysis;
    const Snapshot& s = a.snapshot();
    const char* by = measure() == Measure::kRetained ? "retained" : "self";
    out << "Largest objects by " << by << " size"
        << (all_ || !type_.empty() ? "" : " (roots, modules and module namespaces left out: --all)")
        << ":\n";
    out << std::setw(12) << "retained" << std::setw(12) << "self"
        << "  object\n";
    for (NodeIndex n : r.objects) {
      out << std::setw(12) << FormatBytes(a.retained[n.value()]) << std::setw(12)
          << FormatBytes(s.size[n.value()]) << "  " << s.TypeQualname(n) << " "
          << FormatAddress(s.address[n.value()]) << "\n"
          << std::setw(26) << "" << PathText(a, a.PathTo(n)) << "\n";
    }
    out << "\nTypes by " << by << " size (retained counts nested instances once):\n";
    out << std::setw(12) << "count" << std::setw(12) << "self" << std::setw(12) << "retained"
        << "  type\n";
    for (const TypeRetained* t : r.types) {
      out << std::setw(12) << FormatCount(t->count) << std::setw(12) << FormatBytes(t->self_bytes)
          << std::setw(12) << FormatBytes(t->retained_bytes) << "  "
          << s.String(s.types[t->type.value()].qualname) << "\n";
    }
  }

  std::string by_ = "retained";
  std::string type_;
  bool all_ = false;
  size_t limit_ = 20;
};

}  // namespace

std::unique_ptr<Command> MakeTopCommand() { return std::make_unique<TopCommand>(); }

}  // namespace heapsnap::cli

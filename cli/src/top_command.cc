// heapsnap top SNAP [--by retained|self] [--type NAME] [--limit N] [--json]: the largest objects
// and types, by what they keep alive (the dominator view) or by their own size, with each
// object's path from its root.
#include <algorithm>
#include <iomanip>
#include <iostream>

#include "command.h"
#include "heapsnap/analyze/paths.h"
#include "json.h"
#include "loaded.h"

namespace heapsnap::cli {
namespace {

class TopCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand("top", "The largest objects and types by retained size");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    sub->add_option("--by", by_, "retained (what it keeps alive, default) or self")
        ->check(CLI::IsMember({"retained", "self"}));
    sub->add_option("--type", type_, "Only objects of this type: Name or module.Name");
    sub->add_option("--limit", limit_, "At most N objects and N types (default 20, 0: all)");
    sub->add_flag("--all", all_,
                  "Also list the roots (sys.modules), modules and module namespaces, which "
                  "retain everything under them and are left out by default");
    sub->add_flag("--json", json_, "Machine-readable output (see README)");
    return sub;
  }

  StatusOr<int> Run() override {
    auto loaded = LoadAndAnalyze(path_);
    if (!loaded.ok()) return loaded.status();
    const Snapshot& s = (*loaded)->snapshot;
    const Analysis& a = (*loaded)->analysis;
    const bool by_retained = by_ == "retained";
    if (limit_ == 0) limit_ = SIZE_MAX;
    auto key = [&](uint32_t n) { return by_retained ? a.retained[n] : s.size[n]; };

    std::vector<uint32_t> objects;
    std::vector<uint8_t> type_match;
    if (!type_.empty()) {
      auto of_type = ObjectsOfType(s, type_);
      if (!of_type.ok()) return of_type.status();
      for (NodeIndex n : *of_type) objects.push_back(n.value());
      type_match = std::move(MatchTypes(s, type_)).value();
    } else {
      // The capture's roots, modules and their namespaces retain all that is under them: first
      // by retained size on every heap, and never what a user looks for.
      auto structural = [&](uint32_t n) {
        if (a.parent_edge[n] == Analysis::kIsRoot && a.root_of_node[n] >= 0 &&
            static_cast<size_t>(a.root_of_node[n]) < s.captured_roots) {
          return true;
        }
        if (s.TypeName(NodeIndex(n)) == "module") return true;
        const uint64_t e = a.parent_edge[n];
        if (e == Analysis::kIsRoot || e == Analysis::kNoParent) return false;
        return s.edge_label_kind[e] == LabelKind::kField &&
               s.String(StringId(static_cast<uint32_t>(s.LabelValue(e)))) == "__dict__" &&
               s.TypeName(NodeIndex(static_cast<uint32_t>(a.EdgeSource(e)))) == "module";
      };
      objects.reserve(s.object_count());
      for (uint32_t n = 0; n < s.object_count(); ++n) {
        if (all_ || !structural(n)) objects.push_back(n);
      }
    }
    const size_t count = std::min(objects.size(), limit_);
    std::partial_sort(objects.begin(), objects.begin() + static_cast<std::ptrdiff_t>(count),
                      objects.end(), [&](uint32_t x, uint32_t y) {
                        return key(x) != key(y) ? key(x) > key(y) : s.address[x] < s.address[y];
                      });
    objects.resize(count);

    std::vector<const TypeRetained*> types;
    for (const TypeRetained& t : a.types) {
      if (t.count == 0) continue;
      if (!type_.empty() && !type_match[t.type.value()]) continue;
      types.push_back(&t);
    }
    auto type_key = [&](const TypeRetained* t) {
      return by_retained ? t->retained_bytes : t->self_bytes;
    };
    std::sort(types.begin(), types.end(), [&](const TypeRetained* x, const TypeRetained* y) {
      return type_key(x) != type_key(y) ? type_key(x) > type_key(y) : x->type < y->type;
    });
    if (types.size() > limit_) types.resize(limit_);

    auto path_text = [&](uint32_t n) {
      RetainerPath p = a.PathTo(NodeIndex(n));
      if (!p.found) return std::string(p.garbage ? "<unreachable garbage>" : "<no path>");
      return RenderPath(a, p).text;
    };
    if (json_) {
      JsonWriter j(std::cout);
      j.BeginObject().Key("objects").BeginArray();
      for (uint32_t n : objects) {
        j.BeginObject();
        j.Key("id").String(FormatAddress(s.address[n]));
        j.Key("type").String(s.TypeQualname(NodeIndex(n)));
        j.Key("self_bytes").Uint(s.size[n]);
        j.Key("retained_bytes").Uint(a.retained[n]);
        j.Key("path").String(path_text(n));
        j.EndObject();
      }
      j.EndArray().Key("types").BeginArray();
      for (const TypeRetained* t : types) {
        j.BeginObject();
        j.Key("type").String(s.String(s.types[t->type.value()].qualname));
        j.Key("count").Uint(t->count);
        j.Key("self_bytes").Uint(t->self_bytes);
        j.Key("retained_bytes").Uint(t->retained_bytes);
        j.EndObject();
      }
      j.EndArray().EndObject();
      std::cout << "\n";
      return 0;
    }
    std::cout << "Largest objects by " << (by_retained ? "retained" : "self") << " size"
              << (all_ || !type_.empty()
                      ? ""
                      : " (roots, modules and module namespaces left out: --all)")
              << ":\n";
    std::cout << std::setw(12) << "retained" << std::setw(12) << "self"
              << "  object\n";
    for (uint32_t n : objects) {
      std::cout << std::setw(12) << FormatBytes(a.retained[n]) << std::setw(12)
                << FormatBytes(s.size[n]) << "  " << s.TypeQualname(NodeIndex(n)) << " "
                << FormatAddress(s.address[n]) << "\n"
                << std::setw(26) << "" << path_text(n) << "\n";
    }
    std::cout << "\nTypes by " << (by_retained ? "retained" : "self")
              << " size (retained counts nested instances once):\n";
    std::cout << std::setw(12) << "count" << std::setw(12) << "self" << std::setw(12) << "retained"
              << "  type\n";
    for (const TypeRetained* t : types) {
      std::cout << std::setw(12) << FormatCount(t->count) << std::setw(12)
                << FormatBytes(t->self_bytes) << std::setw(12) << FormatBytes(t->retained_bytes)
                << "  " << s.String(s.types[t->type.value()].qualname) << "\n";
    }
    return 0;
  }

 private:
  std::string path_;
  std::string by_ = "retained";
  std::string type_;
  bool all_ = false;
  size_t limit_ = 20;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeTopCommand() { return std::make_unique<TopCommand>(); }

}  // namespace heapsnap::cli

// heapsnap objects SNAP (--id ADDR... | --type NAME) [--limit N] [--json]: the objects
// themselves, with their references out, their referrers and the roots that name them.
#include <algorithm>
#include <iostream>
#include <unordered_map>

#include "command.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/snapshot.h"
#include "json.h"
#include "loaded.h"

namespace heapsnap::cli {
namespace {

// A value preview as text: the raw bytes of a bytes object escaped (EscapeBytes); str, int
// and float previews are text already.
std::string ValueText(const Snapshot& s, NodeIndex node, const ValueRecord& v) {
  return s.TypeName(node) == "bytes" ? EscapeBytes(v.text) : v.text;
}

std::vector<std::string> FlagNames(uint32_t flags) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {object_flags::kGcTracked, "gc_tracked"},
      {object_flags::kImmortal, "immortal"},
      {object_flags::kFrozen, "frozen"},
      {object_flags::kFinalized, "finalized"},
      {object_flags::kHasFinalizer, "has_finalizer"},
      {object_flags::kHasLegacyDel, "has_legacy_del"},
      {object_flags::kInGcGarbage, "in_gc_garbage"},
      {object_flags::kSynthetic, "synthetic"},
      {object_flags::kGcType, "gc_type"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) out.emplace_back(name);
  }
  return out;
}

class ObjectsCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand(
        "objects", "Show objects: their fields, references, referrers and roots");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    sub->add_option("--id", ids_, "Object id (id() in Python; hex with 0x, or decimal)");
    sub->add_option("--type", type_, "All objects of a type: its name (Node) or qualified name");
    sub->add_option("--limit", limit_, "At most N objects (default 50, 0: all)");
    sub->add_flag("--json", json_, "Machine-readable output");
    return sub;
  }

  StatusOr<int> Run() override {
    if (ids_.empty() && type_.empty()) return InvalidArgument("objects: give --id or --type");
    StatusOr<Snapshot> loaded = LoadSnapshot(path_);
    if (!loaded.ok()) return loaded.status();
    const Snapshot& s = *loaded;
    std::vector<uint32_t> selected;
    for (const std::string& text : ids_) {
      auto address = ParseAddress(text);
      if (!address.ok()) return address.status();
      auto node = s.FindAddress(*address);
      if (!node) return NotFound(path_ + ": no object with id " + text);
      selected.push_back(node->value());
    }
    uint64_t of_type_total = 0;  // all objects of --type, shown or not
    uint64_t of_type_shown = 0;
    if (!type_.empty()) {
      auto of_type = ObjectsOfType(s, type_, limit_);
      if (!of_type.ok()) return of_type.status();
      for (NodeIndex n : *of_type) selected.push_back(n.value());
      of_type_shown = of_type->size();
      const std::vector<uint8_t> match = std::move(MatchTypes(s, type_)).value();
      for (uint32_t i = 0; i < s.object_count(); ++i) of_type_total += match[s.type[i].value()];
    }
    const uint64_t not_shown = of_type_total - std::min(of_type_total, of_type_shown);
    auto referrers = FindReferrers(s, selected);
    // The loader derived the references from outside the graph as EXTERNAL roots.
    std::unordered_map<uint32_t, uint64_t> external;
    for (size_t r = s.captured_roots; r < s.roots.size(); ++r) {
      if (s.roots[r].kind == RootKind::kExternal)
        external[s.roots[r].node.value()] = s.roots[r].count;
    }
    auto external_refs = [&](uint32_t n) {
      auto it = external.find(n);
      return it == external.end() ? uint64_t{0} : it->second;
    };
    if (json_) {
      JsonWriter j(std::cout);
      j.BeginObject().Key("objects").BeginArray();
      for (uint32_t n : selected) {
        NodeIndex node(n);
        j.BeginObject();
        j.Key("id").String(FormatAddress(s.address[n]));
        j.Key("type").String(s.TypeName(node));
        j.Key("qualtype").String(s.TypeQualname(node));
        j.Key("size").Uint(s.size[n]);
        j.Key("refcount").Uint(s.refcount[n]);
        j.Key("external_refs").Uint(external_refs(n));
        j.Key("generation").Uint(s.generation[n]);
        j.Key("flags").BeginArray();
        for (const auto& f : FlagNames(s.flags[n])) j.String(f);
        j.EndArray();
        if (const ValueRecord* v = s.Value(node)) {
          j.Key("value").String(ValueText(s, node, *v));
          j.Key("length").Uint(v->length);
        }
        if (const NameRecord* nm = s.Name(node)) {
          j.Key("name").String(s.String(nm->name));
          j.Key("file").String(s.String(nm->file));
          j.Key("line").Uint(nm->line);
        }
        j.Key("edges").BeginArray();
        for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
          NodeIndex t(s.edge_target[e]);
          j.BeginObject();
          j.Key("label").String(CutLabel(s.EdgeLabel(e)));
          j.Key("kind").String(EdgeKindName(s.edge_kind[e]));
          j.Key("target").String(FormatAddress(s.address[t.value()]));
          j.Key("target_type").String(s.TypeName(t));
          j.EndObject();
        }
        j.EndArray();
        j.Key("referrers").BeginArray();
        for (const auto& [e, src] : referrers[n]) {
          j.BeginObject();
          j.Key("label").String(CutLabel(s.EdgeLabel(e)));
          j.Key("kind").String(EdgeKindName(s.edge_kind[e]));
          j.Key("source").String(FormatAddress(s.address[src.value()]));
          j.Key("source_type").String(s.TypeName(src));
          j.EndObject();
        }
        j.EndArray();
        j.Key("roots").BeginArray();
        for (const SnapshotRoot& r : s.roots) {
          if (r.node.value() != n) continue;
          j.BeginObject();
          j.Key("kind").String(RootKindName(r.kind));
          j.Key("label").String(RootDescription(s, r));
          j.Key("depth").Uint(r.depth);
          if (r.kind == RootKind::kExternal) j.Key("count").Uint(r.count);
          j.EndObject();
        }
        j.EndArray();
        j.EndObject();
      }
      j.EndArray().EndObject();
      std::cout << "\n";
      return 0;
    }
    for (uint32_t n : selected) {
      NodeIndex node(n);
      std::cout << FormatAddress(s.address[n]) << "  " << s.TypeQualname(node) << "  "
                << FormatBytes(s.size[n]) << "  refcount " << s.refcount[n];
      if (external_refs(n) > 0) std::cout << " (" << external_refs(n) << " from outside the graph)";
      for (const auto& f : FlagNames(s.flags[n])) std::cout << "  " << f;
      std::cout << "\n";
      if (const NameRecord* nm = s.Name(node)) {
        std::cout << "    " << s.String(nm->name);
        if (nm->file.valid()) std::cout << " (" << s.String(nm->file) << ":" << nm->line << ")";
        std::cout << "\n";
      }
      if (const ValueRecord* v = s.Value(node)) {
        std::cout << "    value: " << ValueText(s, node, *v)
                  << (v->text.size() < v->length ? "..." : "") << "\n";
      }
      for (const SnapshotRoot& r : s.roots) {
        if (r.node.value() == n) std::cout << "    root: " << RootDescription(s, r) << "\n";
      }
      for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
        NodeIndex t(s.edge_target[e]);
        std::cout << "    -> " << CutLabel(s.EdgeLabel(e)) << "  " << s.TypeName(t) << " "
                  << FormatAddress(s.address[t.value()]);
        if (s.edge_kind[e] != EdgeKind::kTraverse)
          std::cout << "  (" << EdgeKindName(s.edge_kind[e]) << ")";
        std::cout << "\n";
      }
      for (const auto& [e, src] : referrers[n]) {
        std::cout << "    <- " << s.TypeName(src) << " " << FormatAddress(s.address[src.value()])
                  << " " << CutLabel(s.EdgeLabel(e));
        if (s.edge_kind[e] != EdgeKind::kTraverse)
          std::cout << "  (" << EdgeKindName(s.edge_kind[e]) << ")";
        std::cout << "\n";
      }
    }
    if (not_shown > 0) {
      std::cout << "... " << FormatCount(not_shown) << " more objects of type " << type_
                << " (--limit 0 shows all)\n";
    }
    return 0;
  }

 private:
  std::string path_;
  std::vector<std::string> ids_;
  std::string type_;
  size_t limit_ = 50;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeObjectsCommand() { return std::make_unique<ObjectsCommand>(); }

}  // namespace heapsnap::cli

// heapsnap objects SNAP (--id ADDR... | --type NAME) [--limit N] [--json]: the objects
// themselves, with their references out, their referrers and the roots that name them.
#include <algorithm>
#include <unordered_map>

#include "command.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/queries.h"
#include "heapsnap/analyze/snapshot.h"
#include "json.h"
#include "object_ids.h"

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

struct ObjectsResult {
  const Snapshot* snapshot = nullptr;
  std::vector<NodeIndex> selected;
  std::unordered_map<uint32_t, std::vector<Referrer>> referrers;
  // The roots that name each selected object (the loader derived the references from outside
  // the graph as EXTERNAL roots), gathered in one pass over the roots.
  std::unordered_map<uint32_t, std::vector<const SnapshotRoot*>> roots;
  std::unordered_map<uint32_t, uint64_t> external;
  uint64_t not_shown = 0;  // objects of --type that --limit left out

  uint64_t ExternalRefs(NodeIndex n) const {
    auto it = external.find(n.value());
    return it == external.end() ? uint64_t{0} : it->second;
  }
  const std::vector<const SnapshotRoot*>& RootsOf(NodeIndex n) const {
    static const std::vector<const SnapshotRoot*> kNone;
    auto it = roots.find(n.value());
    return it == roots.end() ? kNone : it->second;
  }
  const std::vector<Referrer>& ReferrersOf(NodeIndex n) const {
    static const std::vector<Referrer> kNone;
    auto it = referrers.find(n.value());
    return it == referrers.end() ? kNone : it->second;
  }
};

// A reference in text: its kind is said unless it is the usual (traversed) one.
std::string KindSuffix(const Snapshot& s, uint64_t e) {
  if (s.edge_kind[e] == EdgeKind::kTraverse) return "";
  return std::string("  (") + EdgeKindName(s.edge_kind[e]) + ")";
}

class ObjectsCommand : public SnapshotCommand<ObjectsResult> {
 public:
  ObjectsCommand() : SnapshotCommand(Analyse::kNo) {}

  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = AddSubcommand(app, "objects",
                                  "Show objects: their fields, references, referrers and roots");
    sub->add_option("--id", ids_, "Object id (id() in Python; hex with 0x, or decimal)");
    sub->add_option("--type", type_, "All objects of a type: its name (Node) or qualified name");
    sub->add_option("--limit", limit_, "At most N objects (default 50, 0: all)");
    AddJsonFlag(sub, "Machine-readable output");
    return sub;
  }

 private:
  Status CheckOptions() override {
    if (ids_.empty() && type_.empty()) return InvalidArgument("objects: give --id or --type");
    return Status::Ok();
  }

  StatusOr<ObjectsResult> Compute(const Loaded& loaded) override {
    const Snapshot& s = loaded.snapshot;
    ObjectsResult r;
    r.snapshot = &s;
    HEAPSNAP_ASSIGN_OR_RETURN(r.selected, FindObjects(s, ids_));
    if (!type_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(const TypeSelection of_type, SelectType(s, type_, limit_));
      r.selected.insert(r.selected.end(), of_type.objects.begin(), of_type.objects.end());
      r.not_shown = of_type.total - of_type.objects.size();
    }
    std::vector<uint32_t> nodes;
    for (NodeIndex n : r.selected) nodes.push_back(n.value());
    r.referrers = FindReferrers(s, nodes);
    for (uint32_t n : nodes) r.roots[n];
    for (size_t i = 0; i < s.roots.size(); ++i) {
      auto it = r.roots.find(s.roots[i].node.value());
      if (it == r.roots.end()) continue;
      it->second.push_back(&s.roots[i]);
      if (i >= s.captured_roots && s.roots[i].kind == RootKind::kExternal) {
        r.external[it->first] = s.roots[i].count;
      }
    }
    return r;
  }

  void PrintJson(const ObjectsResult& r, std::ostream& out) const override {
    JsonWriter j(out);
    j.BeginObject().Key("objects").BeginArray();
    for (NodeIndex n : r.selected) PrintJsonObject(r, n, j);
    j.EndArray().EndObject();
  }

  static void PrintJsonObject(const ObjectsResult& r, NodeIndex node, JsonWriter& j) {
    const Snapshot& s = *r.snapshot;
    const uint32_t n = node.value();
    j.BeginObject();
    j.Key("id").String(FormatAddress(s.address[n]));
    j.Key("type").String(s.TypeName(node));
    j.Key("qualtype").String(s.TypeQualname(node));
    j.Key("size").Uint(s.size[n]);
    j.Key("refcount").Uint(s.refcount[n]);
    j.Key("external_refs").Uint(r.ExternalRefs(node));
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
      PrintJsonReference(s, e, "target", NodeIndex(s.edge_target[e]), j);
    }
    j.EndArray();
    j.Key("referrers").BeginArray();
    for (const auto& [e, src] : r.ReferrersOf(node)) PrintJsonReference(s, e, "source", src, j);
    j.EndArray();
    j.Key("roots").BeginArray();
    for (const SnapshotRoot* root : r.RootsOf(node)) {
      j.BeginObject();
      j.Key("kind").String(RootKindName(root->kind));
      j.Key("label").String(RootDescription(s, *root));
      j.Key("depth").Uint(root->depth);
      if (root->kind == RootKind::kExternal) j.Key("count").Uint(root->count);
      j.EndObject();
    }
    j.EndArray();
    j.EndObject();
  }

  // An edge or a referrer: the other end is its "target" or its "source".
  static void PrintJsonReference(const Snapshot& s, uint64_t e, const char* end, NodeIndex other,
                                 JsonWriter& j) {
    j.BeginObject();
    j.Key("label").String(CutLabel(s.EdgeLabel(e)));
    j.Key("kind").String(EdgeKindName(s.edge_kind[e]));
    j.Key(end).String(FormatAddress(s.address[other.value()]));
    j.Key(std::string(end) + "_type").String(s.TypeName(other));
    j.EndObject();
  }

  void PrintText(const ObjectsResult& r, std::ostream& out) const override {
    for (NodeIndex n : r.selected) PrintTextObject(r, n, out);
    if (r.not_shown > 0) {
      out << "... " << FormatCount(r.not_shown) << " more objects of type " << type_
          << " (--limit 0 shows all)\n";
    }
  }

  static void PrintTextObject(const ObjectsResult& r, NodeIndex node, std::ostream& out) {
    const Snapshot& s = *r.snapshot;
    const uint32_t n = node.value();
    out << FormatAddress(s.address[n]) << "  " << s.TypeQualname(node) << "  "
        << FormatBytes(s.size[n]) << "  refcount " << s.refcount[n];
    if (r.ExternalRefs(node) > 0) out << " (" << r.ExternalRefs(node) << " from outside the graph)";
    for (const auto& f : FlagNames(s.flags[n])) out << "  " << f;
    out << "\n";
    if (const NameRecord* nm = s.Name(node)) {
      out << "    " << s.String(nm->name);
      if (nm->file.valid()) out << " (" << s.String(nm->file) << ":" << nm->line << ")";
      out << "\n";
    }
    if (const ValueRecord* v = s.Value(node)) {
      out << "    value: " << ValueText(s, node, *v) << (v->text.size() < v->length ? "..." : "")
          << "\n";
    }
    for (const SnapshotRoot* root : r.RootsOf(node)) {
      out << "    root: " << RootDescription(s, *root) << "\n";
    }
    for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
      const NodeIndex t(s.edge_target[e]);
      out << "    -> " << CutLabel(s.EdgeLabel(e)) << "  " << s.TypeName(t) << " "
          << FormatAddress(s.address[t.value()]) << KindSuffix(s, e) << "\n";
    }
    for (const auto& [e, src] : r.ReferrersOf(node)) {
      out << "    <- " << s.TypeName(src) << " " << FormatAddress(s.address[src.value()]) << " "
          << CutLabel(s.EdgeLabel(e)) << KindSuffix(s, e) << "\n";
    }
  }

  std::vector<std::string> ids_;
  std::string type_;
  size_t limit_ = 50;
};

}  // namespace

std::unique_ptr<Command> MakeObjectsCommand() { return std::make_unique<ObjectsCommand>(); }

}  // namespace heapsnap::cli

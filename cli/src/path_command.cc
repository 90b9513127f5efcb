// heapsnap path SNAP (--id ADDR | --type NAME) [--max N] [--json]: why objects are alive — the
// shortest path from a root, in Python syntax. For a type, its instances grouped by the shape of
// their paths (path_shapes.h: indices, generated keys and repeated steps folded), largest
// retained first, each byte counted once.
#include <algorithm>
#include <optional>

#include "command.h"
#include "heapsnap/analyze/path_shapes.h"
#include "heapsnap/analyze/paths.h"
#include "heapsnap/analyze/queries.h"
#include "json.h"
#include "object_ids.h"

namespace heapsnap::cli {
namespace {

// Groups whose example path is rendered whole; the others show their shape only, so that
// listing every group of a deep tree stays linear.
constexpr size_t kWholeExamples = 10;

struct PathResult {
  const Analysis* analysis = nullptr;
  size_t targets = 0;
  uint64_t total_retained = 0;  // all targets, each byte once
  std::optional<PathShapes> shapes;
  std::vector<ShapeGroup> groups;
  size_t shown = 0;

  std::string ShapeText(const ShapeGroup& g) const {
    if (g.shape != kNoShape) return shapes->Text(g.shape);
    return g.garbage ? kGarbagePathText : "<none>";  // "<none>": no shape, no root reached
  }
  bool Whole(size_t i) const { return groups[i].shape != kNoShape && i < kWholeExamples; }
};

class PathCommand : public SnapshotCommand<PathResult> {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = AddSubcommand(app, "path", "Why objects are alive: retainer paths from roots");
    auto* id = sub->add_option("--id", id_, "Object id (id() in Python; 0x-hex or decimal)");
    auto* type = sub->add_option("--type", type_, "Instances of a type: Name or module.Name");
    id->excludes(type);
    sub->add_option("--max", max_, "At most N distinct paths (default 10, 0: all)");
    AddJsonFlag(sub, "Machine-readable output (see README)");
    return sub;
  }

 private:
  Status CheckOptions() override {
    if (id_.empty() && type_.empty()) return InvalidArgument("path: give --id or --type");
    return Status::Ok();
  }

  StatusOr<PathResult> Compute(const Loaded& loaded) override {
    const Analysis& a = *loaded.analysis;
    std::vector<NodeIndex> targets;
    if (!id_.empty()) {
      HEAPSNAP_ASSIGN_OR_RETURN(targets, FindObjects(loaded.snapshot, {id_}));
    } else {
      HEAPSNAP_ASSIGN_OR_RETURN(targets, ObjectsOfType(loaded.snapshot, type_));
    }
    PathResult r;
    r.analysis = &a;
    r.targets = targets.size();
    r.shapes.emplace(a);
    r.groups = GroupByShape(a, *r.shapes, targets, &r.total_retained);
    r.shown = max_ == 0 ? r.groups.size() : std::min(r.groups.size(), max_);
    return r;
  }

  void PrintJson(const PathResult& r, std::ostream& out) const override {
    JsonWriter j(out);
    j.BeginObject();
    j.Key("count").Uint(r.targets);
    j.Key("retained_bytes").Uint(r.total_retained);
    j.Key("paths").BeginArray();
    for (size_t i = 0; i < r.shown; ++i) PrintJsonGroup(r, i, j);
    j.EndArray().EndObject();
  }

  // One group: the example's whole path for the first groups; past them, the shape's steps
  // (cut to its ends).
  static void PrintJsonGroup(const PathResult& r, size_t i, JsonWriter& j) {
    const Analysis& a = *r.analysis;
    const Snapshot& s = a.snapshot();
    const ShapeGroup& g = r.groups[i];
    const uint32_t n = g.example.value();
    const bool found = g.shape != kNoShape;
    const bool whole = r.Whole(i);
    const RenderedPath example = whole ? RenderPath(a, a.PathTo(g.example)) : RenderedPath();
    const std::vector<std::string> shape_steps =
        found && !whole ? r.shapes->Steps(g.shape) : std::vector<std::string>();
    j.BeginObject();
    j.Key("root").String(whole ? example.root : found ? shape_steps[0] : r.ShapeText(g));
    j.Key("steps").BeginArray();
    for (const RenderedStep& step : example.steps) {
      j.BeginObject().Key("label").String(step.label);
      j.Key("type").String(s.TypeName(step.node)).EndObject();
    }
    for (size_t k = 1; k < shape_steps.size(); ++k) {
      j.BeginObject().Key("label").String(shape_steps[k]).EndObject();
    }
    j.EndArray();
    j.Key("target").BeginObject();
    j.Key("id").String(FormatAddress(s.address[n]));
    j.Key("type").String(s.TypeName(g.example));
    j.Key("retained_bytes").Uint(a.retained[n]);
    j.EndObject();
    j.Key("text").String(whole ? example.text : r.ShapeText(g));
    j.Key("shape").String(r.ShapeText(g));
    j.Key("count").Uint(g.count);
    j.Key("total_retained_bytes").Uint(g.retained_bytes);
    j.EndObject();
  }

  void PrintText(const PathResult& r, std::ostream& out) const override {
    const size_t groups = r.groups.size();
    if (r.targets > 1) {
      out << FormatCount(r.targets) << " objects retain " << FormatBytes(r.total_retained)
          << " (each byte counted once), held in " << FormatCount(groups)
          << (groups == 1 ? " way:\n" : " ways:\n");
    }
    for (size_t i = 0; i < r.shown; ++i) {
      if (r.targets == 1) {
        PrintTextObject(r, r.groups[i], out);
      } else {
        PrintTextGroup(r, i, out);
      }
    }
    if (r.shown < groups) out << "... " << (groups - r.shown) << " more (--max 0 shows all)\n";
  }

  static std::string Describe(const Snapshot& s, NodeIndex n) {
    return s.TypeQualname(n) + " " + FormatAddress(s.address[n.value()]);
  }

  static void PrintTextObject(const PathResult& r, const ShapeGroup& g, std::ostream& out) {
    const Analysis& a = *r.analysis;
    const Snapshot& s = a.snapshot();
    const std::string object = Describe(s, g.example);
    if (g.garbage) {
      out << object << " is unreachable garbage: the next full gc.collect() frees it\n";
    } else if (g.shape == kNoShape) {
      out << object << " has no retainer path\n";
    } else {
      out << RenderPath(a, a.PathTo(g.example)).text << "\n";
    }
    out << "  " << object << " retains " << FormatBytes(a.retained[g.example.value()]) << " (self "
        << FormatBytes(s.size[g.example.value()]) << ")\n";
  }

  static void PrintTextGroup(const PathResult& r, size_t i, std::ostream& out) {
    const Analysis& a = *r.analysis;
    const ShapeGroup& g = r.groups[i];
    out << FormatCount(g.count) << (g.count == 1 ? " object" : " objects") << " retaining "
        << FormatBytes(g.retained_bytes) << (g.garbage ? ": " : " held by:\n  ")
        << (g.garbage ? "unreachable garbage, freed by the next full gc.collect()" : r.ShapeText(g))
        << "\n";
    if (g.count > 1) {
      out << "  e.g. "
          << (r.Whole(i) ? RenderPath(a, a.PathTo(g.example)).text
                         : Describe(a.snapshot(), g.example))
          << " retains " << FormatBytes(a.retained[g.example.value()]) << "\n";
    }
  }

  std::string id_;
  std::string type_;
  size_t max_ = 10;
};

}  // namespace

std::unique_ptr<Command> MakePathCommand() { return std::make_unique<PathCommand>(); }

}  // namespace heapsnap::cli

// heapsnap path SNAP (--id ADDR | --type NAME) [--max N] [--json]: why objects are alive — the
// shortest path from a root, in Python syntax. For a type, its instances grouped by the shape of
// their paths (path_shapes.h: indices, generated keys and repeated steps folded), largest
// retained first, each byte counted once.
#include <algorithm>
#include <iostream>

#include "command.h"
#include "heapsnap/analyze/path_shapes.h"
#include "heapsnap/analyze/paths.h"
#include "json.h"
#include "loaded.h"

namespace heapsnap::cli {
namespace {

// Groups whose example path is rendered whole; the others show their shape only.
constexpr size_t kWholeExamples = 10;

class PathCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    CLI::App* sub = app.add_subcommand("path", "Why objects are alive: retainer paths from roots");
    sub->add_option("snapshot", path_, "Snapshot file")->required();
    auto* id = sub->add_option("--id", id_, "Object id (id() in Python; 0x-hex or decimal)");
    auto* type = sub->add_option("--type", type_, "Instances of a type: Name or module.Name");
    id->excludes(type);
    sub->add_option("--max", max_, "At most N distinct paths (default 10, 0: all)");
    sub->add_flag("--json", json_, "Machine-readable output (see README)");
    return sub;
  }

  StatusOr<int> Run() override {
    if (id_.empty() && type_.empty()) return InvalidArgument("path: give --id or --type");
    auto loaded = LoadAndAnalyze(path_);
    if (!loaded.ok()) return loaded.status();
    const Snapshot& s = (*loaded)->snapshot;
    const Analysis& a = (*loaded)->analysis;
    std::vector<NodeIndex> targets;
    if (!id_.empty()) {
      auto address = ParseAddress(id_);
      if (!address.ok()) return address.status();
      auto node = s.FindAddress(*address);
      if (!node) return NotFound(path_ + ": no object with id " + id_);
      targets.push_back(*node);
    } else {
      auto of_type = ObjectsOfType(s, type_);
      if (!of_type.ok()) return of_type.status();
      targets = std::move(of_type).value();
    }
    const PathShapes shapes(a);
    uint64_t total = 0;
    const std::vector<ShapeGroup> groups = GroupByShape(a, shapes, targets, &total);
    const size_t shown = max_ == 0 ? groups.size() : std::min(groups.size(), max_);
    auto shape_text = [&](const ShapeGroup& g) -> std::string {
      if (g.shape != kNoShape) return shapes.Text(g.shape);
      return g.garbage ? "<unreachable garbage>" : "<none>";
    };
    if (json_) {
      JsonWriter j(std::cout);
      j.BeginObject();
      j.Key("count").Uint(targets.size());
      j.Key("retained_bytes").Uint(total);
      j.Key("paths").BeginArray();
      for (size_t i = 0; i < shown; ++i) {
        const ShapeGroup& g = groups[i];
        const uint32_t n = g.example.value();
        const bool found = g.shape != kNoShape;
        // The example's whole path for the first groups; past them, the shape's steps (cut to
        // its ends), so that listing every group of a deep tree stays linear.
        const bool whole = found && i < kWholeExamples;
        const RenderedPath example = whole ? RenderPath(a, a.PathTo(g.example)) : RenderedPath();
        const std::vector<std::string> shape_steps =
            found && !whole ? shapes.Steps(g.shape) : std::vector<std::string>();
        j.BeginObject();
        j.Key("root").String(whole ? example.root : found ? shape_steps[0] : shape_text(g));
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
        j.Key("text").String(whole ? example.text : shape_text(g));
        j.Key("shape").String(shape_text(g));
        j.Key("count").Uint(g.count);
        j.Key("total_retained_bytes").Uint(g.retained_bytes);
        j.EndObject();
      }
      j.EndArray().EndObject();
      std::cout << "\n";
      return 0;
    }
    if (targets.size() > 1) {
      std::cout << FormatCount(targets.size()) << " objects retain " << FormatBytes(total)
                << " (each byte counted once), held in " << FormatCount(groups.size())
                << (groups.size() == 1 ? " way:\n" : " ways:\n");
    }
    for (size_t i = 0; i < shown; ++i) {
      const ShapeGroup& g = groups[i];
      const uint32_t n = g.example.value();
      const std::string object = s.TypeQualname(g.example) + " " + FormatAddress(s.address[n]);
      if (targets.size() == 1) {
        if (g.garbage) {
          std::cout << object << " is unreachable garbage: the next full gc.collect() frees it\n";
        } else if (g.shape == kNoShape) {
          std::cout << object << " has no retainer path\n";
        } else {
          std::cout << RenderPath(a, a.PathTo(g.example)).text << "\n";
        }
        std::cout << "  " << object << " retains " << FormatBytes(a.retained[n]) << " (self "
                  << FormatBytes(s.size[n]) << ")\n";
        continue;
      }
      std::cout << FormatCount(g.count) << (g.count == 1 ? " object" : " objects") << " retaining "
                << FormatBytes(g.retained_bytes) << (g.garbage ? ": " : " held by:\n  ")
                << (g.garbage ? "unreachable garbage, freed by the next full gc.collect()"
                              : shape_text(g))
                << "\n";
      if (g.count > 1) {
        const bool whole = g.shape != kNoShape && i < kWholeExamples;
        std::cout << "  e.g. " << (whole ? RenderPath(a, a.PathTo(g.example)).text : object)
                  << " retains " << FormatBytes(a.retained[n]) << "\n";
      }
    }
    if (shown < groups.size()) {
      std::cout << "... " << (groups.size() - shown) << " more (--max 0 shows all)\n";
    }
    return 0;
  }

 private:
  std::string path_;
  std::string id_;
  std::string type_;
  size_t max_ = 10;
  bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> MakePathCommand() { return std::make_unique<PathCommand>(); }

}  // namespace heapsnap::cli

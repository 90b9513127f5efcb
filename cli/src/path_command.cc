// heapsnap path SNAP (--id ADDR | --type NAME) [--max N] [--json]: why objects are alive — the
// shortest path from a root, in Python syntax. For a type, the distinct paths of its instances
// (list indices and int keys folded into [*]), largest retained first.
#include <algorithm>
#include <iostream>
#include <map>

#include "command.h"
#include "heapsnap/analyze/paths.h"
#include "json.h"
#include "loaded.h"

namespace heapsnap::cli {
namespace {

struct PathGroup {
  std::string shape;
  RenderedPath example;  // the instance with the largest retained size
  NodeIndex example_node;
  bool garbage = false;
  uint64_t count = 0;
  uint64_t retained = 0;  // sum over the instances (they may overlap)
};

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
      targets = ObjectsOfType(s, type_);
      if (targets.empty()) return NotFound(path_ + ": no object of type " + type_);
    }
    std::map<std::string, PathGroup> groups;
    for (NodeIndex n : targets) {
      RetainerPath p = a.PathTo(n);
      RenderedPath r = RenderPath(a, p);
      std::string shape = p.found ? PathShape(r) : (p.garbage ? "<unreachable garbage>" : "<none>");
      PathGroup& g = groups[shape];
      g.shape = shape;
      g.garbage = !p.found;
      ++g.count;
      g.retained += a.retained[n.value()];
      if (g.count == 1 || a.retained[n.value()] > a.retained[g.example_node.value()]) {
        g.example = r;
        g.example_node = n;
      }
    }
    std::vector<PathGroup> ordered;
    for (auto& [shape, g] : groups) ordered.push_back(std::move(g));
    std::sort(ordered.begin(), ordered.end(), [](const PathGroup& x, const PathGroup& y) {
      return x.retained != y.retained ? x.retained > y.retained : x.shape < y.shape;
    });
    const size_t shown = max_ == 0 ? ordered.size() : std::min(ordered.size(), max_);
    if (json_) {
      JsonWriter j(std::cout);
      j.BeginObject().Key("paths").BeginArray();
      for (size_t i = 0; i < shown; ++i) {
        const PathGroup& g = ordered[i];
        const uint32_t n = g.example_node.value();
        j.BeginObject();
        j.Key("root").String(g.garbage ? g.shape : g.example.root);
        j.Key("steps").BeginArray();
        for (const RenderedStep& step : g.example.steps) {
          j.BeginObject().Key("label").String(step.label);
          j.Key("type").String(s.TypeName(step.node)).EndObject();
        }
        j.EndArray();
        j.Key("target").BeginObject();
        j.Key("id").String(FormatAddress(s.address[n]));
        j.Key("type").String(s.TypeName(g.example_node));
        j.Key("retained_bytes").Uint(a.retained[n]);
        j.EndObject();
        j.Key("text").String(g.garbage ? g.shape : g.example.text);
        j.Key("count").Uint(g.count);
        j.Key("total_retained_bytes").Uint(g.retained);
        j.EndObject();
      }
      j.EndArray().EndObject();
      std::cout << "\n";
      return 0;
    }
    for (size_t i = 0; i < shown; ++i) {
      const PathGroup& g = ordered[i];
      const uint32_t n = g.example_node.value();
      const std::string object = s.TypeQualname(g.example_node) + " " + FormatAddress(s.address[n]);
      if (targets.size() == 1) {
        if (g.garbage) {
          std::cout << object << " is unreachable garbage: the next full gc.collect() frees it\n";
        } else {
          std::cout << g.example.text << "\n";
        }
        std::cout << "  " << object << " retains " << FormatBytes(a.retained[n]) << " (self "
                  << FormatBytes(s.size[n]) << ")\n";
        continue;
      }
      std::cout << FormatCount(g.count) << (g.count == 1 ? " object" : " objects") << " retaining "
                << FormatBytes(g.retained) << (g.garbage ? ": " : " held by:\n  ")
                << (g.garbage ? "unreachable garbage, freed by the next full gc.collect()"
                              : g.shape)
                << "\n";
      if (g.count > 1) {
        std::cout << "  e.g. " << (g.garbage ? object : g.example.text) << " retains "
                  << FormatBytes(a.retained[n]) << "\n";
      }
    }
    if (shown < ordered.size()) {
      std::cout << "... " << (ordered.size() - shown)
                << " more distinct paths (--max 0 shows all)\n";
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

#include "detector_util.h"

#include <algorithm>
#include <cstdio>

#include "heapsnap/analyze/paths.h"

namespace heapsnap {
namespace detect {

Finding FindingGroup::Take(const Analysis& a) {
  CountRetainedTypes(a, members, &finding);
  return std::move(finding);
}

int64_t EdgeTo(const Snapshot& s, NodeIndex node, LabelKind kind, const std::string& label) {
  const uint32_t n = node.value();
  for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
    if (s.edge_label_kind[e] != kind) continue;
    if (LabelHasString(kind) && s.LabelString(e) != label) continue;
    return s.edge_target[e];
  }
  return -1;
}

RetainerPath SetPath(const Analysis& a, NodeIndex node, Finding* f) {
  RetainerPath p = a.PathTo(node);
  if (!p.found) {
    f->path_text = PathText(a, p);
    return p;
  }
  RenderedPath r = RenderPath(a, p);
  f->path.push_back(r.root);
  for (const auto& step : r.steps) f->path.push_back(step.label);
  f->path_text = r.text;
  return p;
}

uint64_t ContainerLength(const Snapshot& s, NodeIndex node) {
  const uint32_t n = node.value();
  uint64_t items = 0;
  for (uint64_t e = s.edge_begin[n]; e < s.edge_begin[n + 1]; ++e) {
    switch (s.edge_label_kind[e]) {
      case LabelKind::kIndex:
      case LabelKind::kDictKey:
      case LabelKind::kDictKeyInt:
      case LabelKind::kDictKeyRef:
      case LabelKind::kSetMember:
        ++items;
        break;
      default:
        break;
    }
  }
  return items;
}

void CountRetainedTypes(const Analysis& a, const std::vector<NodeIndex>& nodes, Finding* f) {
  const Snapshot& s = a.snapshot();
  const auto n = static_cast<uint32_t>(s.object_count());
  std::vector<uint32_t> stack;
  size_t budget = 2000000;  // a finding over a huge subtree counts its first two million objects
  for (NodeIndex start : nodes) {
    stack.push_back(start.value());
    while (!stack.empty() && budget > 0) {
      const uint32_t v = stack.back();
      stack.pop_back();
      --budget;
      if (v < n) ++f->types[s.TypeName(NodeIndex(v))];
      for (uint64_t c = a.dom_child_begin[v]; c < a.dom_child_begin[v + 1]; ++c) {
        stack.push_back(a.dom_children[c]);
      }
    }
    stack.clear();
  }
}

std::string Location(const Snapshot& s, NodeIndex node) {
  const NameRecord* name = s.Name(node);
  if (name == nullptr || !name->file.valid()) return "";
  return s.String(name->file) + ":" + std::to_string(name->line);
}

std::string Percent(uint64_t part, uint64_t whole) {
  char text[32];
  std::snprintf(
      text, sizeof(text), "%.0f%%",
      100.0 * static_cast<double>(part) / static_cast<double>(std::max<uint64_t>(whole, 1)));
  return text;
}

bool InLibrary(const std::string& location) {
  return location.find("/lib/python3") != std::string::npos ||
         location.find("-packages/") != std::string::npos;
}

std::string QualifiedName(const Snapshot& s, NodeIndex node) {
  const NameRecord* name = s.Name(node);
  return name != nullptr ? s.String(name->name) : s.TypeName(node);
}

}  // namespace detect
}  // namespace heapsnap

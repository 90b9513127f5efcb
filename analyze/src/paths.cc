#include "heapsnap/analyze/paths.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "heapsnap/base/hex.h"
#include "heapsnap/base/python_text.h"

namespace heapsnap {
namespace {

// 'name' -> name when the key is a str that is an identifier; "" otherwise.
std::string IdentifierKey(const std::string& repr) {
  if (repr.size() < 3 || repr.front() != '\'' || repr.back() != '\'') return "";
  std::string inner = repr.substr(1, repr.size() - 2);
  return IsIdentifier(inner) ? inner : "";
}

// The label kind and string of an edge, for the rules below.
struct EdgeView {
  const Snapshot& s;
  uint64_t edge;
  LabelKind kind() const { return s.edge_label_kind[edge]; }
  bool Field(const char* name) const { return s.IsField(edge, name); }
  const std::string& Str() const { return s.LabelString(edge); }
};

// Labels that begin with neither `.` nor a bracket get a `.`, so that no two labels glue.
std::string Joinable(std::string label) {
  if (label.empty() || label[0] == '.' || label[0] == '[' || label[0] == '{' || label[0] == ':') {
    return label;
  }
  return "." + label;
}

}  // namespace

std::string CutLabel(const std::string& label) {
  if (label.size() <= kMaxLabelBytes) return label;
  std::string out = label.substr(0, Utf8PrefixBytes(label, kMaxLabelBytes - 3)) + "...";
  // Keep a closing bracket or quote, so that the cut label still reads as one step.
  const char last = label.back();
  if (last == ']' || last == '>' || last == '}') out += last;
  return out;
}

StepText LastStep(const Analysis& a, NodeIndex node) {
  const Snapshot& s = a.snapshot();
  StepText out;
  const uint32_t v = node.value();
  const uint64_t e = a.parent_edge[v];
  const uint32_t u = a.parent[v];
  const EdgeView step{s, e};
  out.base = u;
  out.kind = step.kind();
  const bool u_is_root = a.parent_edge[u] == Analysis::kIsRoot;
  // The step into u, when u has one.
  const bool has_up = !u_is_root && a.parent_edge[u] != Analysis::kNoParent;
  const EdgeView up{s, has_up ? a.parent_edge[u] : 0};
  auto grandparent = [&] { return a.parent[u]; };

  if (Snapshot::IsStrKeyLabel(out.kind)) {
    bool namespace_dict = false;
    if (u_is_root && a.root_of_node[u] >= 0) {
      const RootKind k = s.roots[static_cast<size_t>(a.root_of_node[u])].kind;
      namespace_dict = k == RootKind::kSys || k == RootKind::kBuiltins;
    }
    const bool dunder_dict = has_up && up.Field("__dict__");
    if (namespace_dict || dunder_dict) {
      std::string name = IdentifierKey(s.DictKeyRepr(e));
      if (!name.empty()) {
        out.label = CutLabel("." + name);
        out.name = true;
        if (dunder_dict) out.base = grandparent();
        return out;
      }
    }
  }
  if (out.kind == LabelKind::kClosureVariable && has_up && up.Field("__closure__")) {
    out.label = CutLabel(".<closure " + step.Str() + ">");
    out.base = grandparent();
    return out;
  }
  if (step.Field("cell_contents") && has_up && up.kind() == LabelKind::kClosureVariable) {
    const uint32_t closure = grandparent();
    const uint64_t into_closure = a.parent_edge[closure];
    if (into_closure != Analysis::kIsRoot && into_closure != Analysis::kNoParent &&
        EdgeView{s, into_closure}.Field("__closure__")) {
      return out;  // read as part of `.<closure x>`
    }
  }
  if (out.kind == LabelKind::kParameterDefault && has_up &&
      (up.Field("__defaults__") || up.Field("__kwdefaults__"))) {
    out.label = CutLabel(".<default " + step.Str() + "=>");
    out.base = grandparent();
    return out;
  }
  if (out.kind == LabelKind::kLocalVariable && u_is_root) {
    out.label = CutLabel(": " + step.Str());
    return out;
  }
  out.label = Joinable(CutLabel(s.EdgeLabel(e)));
  return out;
}

StepText NamespaceStep(const Analysis& a, NodeIndex node, uint32_t module) {
  const Snapshot& s = a.snapshot();
  StepText out;
  const uint64_t e = a.parent_edge[node.value()];
  out.kind = s.edge_label_kind[e];
  out.base = module;
  if (!Snapshot::IsStrKeyLabel(out.kind)) return out;
  const std::string name = IdentifierKey(s.DictKeyRepr(e));
  if (name.empty()) return out;
  out.label = CutLabel("." + name);
  out.name = true;
  return out;
}

namespace {

// "thread 'T' f (app.py:12)" -> "thread 'T' f (app.py)": the line being executed names one
// moment, not where objects are held.
std::string WithoutLine(std::string text) {
  if (text.empty() || text.back() != ')') return text;
  size_t i = text.size() - 1;
  while (i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1]))) --i;
  if (i == text.size() - 1 || i == 0 || text[i - 1] != ':') return text;
  return text.substr(0, i - 1) + ")";
}

}  // namespace

std::string RootText(const Analysis& a, int root_index, NodeIndex start, bool address) {
  const Snapshot& s = a.snapshot();
  const uint32_t v = start.value();
  const std::string type = CutLabel(s.TypeName(start));
  const std::string at = address ? " " + FormatAddress(s.address[v]) : "";
  if (root_index < 0) return "<unexplained " + type + at + ">";
  const SnapshotRoot& root = s.roots[static_cast<size_t>(root_index)];
  switch (root.kind) {
    case RootKind::kSys:
      return "sys";
    case RootKind::kBuiltins:
      return "builtins";
    case RootKind::kExternal:
      return "<" + type + at + " held from C code or an extension" +
             (address ? ", " + std::to_string(root.count) +
                            (root.count == 1 ? " reference" : " references") +
                            " nobody in the heap accounts for"
                      : "") +
             ">";
    case RootKind::kImmortal:
      return "<immortal " + type + at + ">";
    case RootKind::kFrozen:
      return "<frozen " + type + at + ">";
    case RootKind::kThreadFrame:
      return CutLabel(address ? RootDescription(s, root) : WithoutLine(RootDescription(s, root)));
    default:
      return CutLabel(RootDescription(s, root));
  }
}

std::string PathText(const Analysis& a, const RetainerPath& path) {
  if (!path.found) return path.garbage ? kGarbagePathText : kNoPathText;
  return RenderPath(a, path).text;
}

RenderedPath RenderPath(const Analysis& a, const RetainerPath& p) {
  RenderedPath out;
  if (!p.found) return out;
  out.root = RootText(a, p.root, p.start, /*address=*/true);
  uint32_t v = p.steps.empty() ? p.start.value() : p.steps.back().node.value();
  uint32_t pending = UINT32_MAX;  // an object whose step reads as part of the one above
  while (a.parent_edge[v] != Analysis::kIsRoot) {
    StepText step = LastStep(a, NodeIndex(v));
    if (step.label.empty()) {
      if (pending == UINT32_MAX) pending = v;
    } else {
      out.steps.push_back({std::move(step.label), NodeIndex(pending != UINT32_MAX ? pending : v)});
      pending = UINT32_MAX;
    }
    v = step.base;
  }
  std::reverse(out.steps.begin(), out.steps.end());
  out.text = out.root;
  for (size_t i = 0; i < out.steps.size();) {
    size_t j = i + 1;
    while (j < out.steps.size() && out.steps[j].label == out.steps[i].label) ++j;
    if (j - i >= kMinRepeat) {
      out.text += out.steps[i].label + "{" + std::to_string(j - i) + "}";
    } else {
      for (size_t k = i; k < j; ++k) out.text += out.steps[k].label;
    }
    i = j;
  }
  return out;
}

}  // namespace heapsnap

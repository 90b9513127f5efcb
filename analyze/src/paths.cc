#include "heapsnap/analyze/paths.h"

#include <cstdio>

namespace heapsnap {
namespace {

bool IsIdentifier(const std::string& s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80 ||
                    (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// 'name' -> name when the key is a str that is an identifier; "" otherwise.
std::string IdentifierKey(const std::string& repr) {
  if (repr.size() < 3 || repr.front() != '\'' || repr.back() != '\'') return "";
  std::string inner = repr.substr(1, repr.size() - 2);
  return IsIdentifier(inner) ? inner : "";
}

std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

RenderedPath RenderPath(const Analysis& a, const RetainerPath& p) {
  const Snapshot& s = a.snapshot();
  RenderedPath out;
  if (!p.found) return out;
  const uint32_t start = p.start.value();
  bool namespace_root = false;  // the root is a namespace dict: ['x'] reads .x
  if (p.root >= 0) {
    const SnapshotRoot& root = s.roots[static_cast<size_t>(p.root)];
    switch (root.kind) {
      case RootKind::kSys:
        out.root = "sys";
        namespace_root = true;
        break;
      case RootKind::kBuiltins:
        out.root = "builtins";
        namespace_root = true;
        break;
      case RootKind::kExternal:
        out.root = "<" + s.TypeName(p.start) + " " + Hex(s.address[start]) +
                   " held from outside the graph x" + std::to_string(root.count) + ">";
        break;
      case RootKind::kImmortal:
        out.root = "<immortal " + s.TypeName(p.start) + " " + Hex(s.address[start]) + ">";
        break;
      case RootKind::kFrozen:
        out.root = "<frozen " + s.TypeName(p.start) + " " + Hex(s.address[start]) + ">";
        break;
      default:
        out.root = RootDescription(s, root);
    }
  } else {
    out.root = "<unexplained " + s.TypeName(p.start) + " " + Hex(s.address[start]) + ">";
  }

  auto kind = [&](size_t i) { return s.edge_label_kind[p.steps[i].edge]; };
  auto str = [&](size_t i) -> const std::string& {
    return s.String(StringId(static_cast<uint32_t>(s.LabelValue(p.steps[i].edge))));
  };
  auto is_field = [&](size_t i, const char* name) {
    return i < p.steps.size() && kind(i) == LabelKind::kField && str(i) == name;
  };
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const NodeIndex node = p.steps[i].node;
    if (i == 0 && namespace_root &&
        (kind(0) == LabelKind::kDictKey || kind(0) == LabelKind::kDictKeyRef)) {
      std::string name = IdentifierKey(s.DictKeyRepr(p.steps[0].edge));
      if (!name.empty()) {
        out.steps.push_back({"." + name, node});
        continue;
      }
    }
    if (is_field(i, "__dict__") && i + 1 < p.steps.size() &&
        (kind(i + 1) == LabelKind::kDictKey || kind(i + 1) == LabelKind::kDictKeyRef)) {
      std::string name = IdentifierKey(s.DictKeyRepr(p.steps[i + 1].edge));
      if (!name.empty()) {
        out.steps.push_back({"." + name, p.steps[i + 1].node});
        ++i;
        continue;
      }
    }
    if (is_field(i, "__closure__") && i + 1 < p.steps.size() &&
        kind(i + 1) == LabelKind::kClosureVariable) {
      std::string label = ".<closure " + str(i + 1) + ">";
      if (is_field(i + 2, "cell_contents")) {
        out.steps.push_back({label, p.steps[i + 2].node});
        i += 2;
      } else {
        out.steps.push_back({label, p.steps[i + 1].node});
        ++i;
      }
      continue;
    }
    if ((is_field(i, "__defaults__") || is_field(i, "__kwdefaults__")) && i + 1 < p.steps.size() &&
        kind(i + 1) == LabelKind::kParameterDefault) {
      out.steps.push_back({".<default " + str(i + 1) + "=>", p.steps[i + 1].node});
      ++i;
      continue;
    }
    if (i == 0 && kind(0) == LabelKind::kLocalVariable) {
      out.steps.push_back({": " + str(0), node});
      continue;
    }
    out.steps.push_back({s.EdgeLabel(p.steps[i].edge), node});
  }
  out.text = out.root;
  for (const auto& step : out.steps) out.text += step.label;
  return out;
}

std::string PathShape(const RenderedPath& path) {
  std::string shape;
  const std::string& t = path.text;
  for (size_t i = 0; i < t.size(); ++i) {
    // [123] and [-4] become [*]; quoted keys stay.
    if (t[i] == '[') {
      size_t j = i + 1;
      if (j < t.size() && t[j] == '-') ++j;
      size_t digits = j;
      while (digits < t.size() && t[digits] >= '0' && t[digits] <= '9') ++digits;
      if (digits > j && digits < t.size() && t[digits] == ']') {
        shape += "[*]";
        i = digits;
        continue;
      }
    }
    shape += t[i];
  }
  return shape;
}

}  // namespace heapsnap

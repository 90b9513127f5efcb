#include "heapsnap/analyze/queries.h"

#include <algorithm>
#include <map>

#include "heapsnap/analyze/human_numbers.h"

namespace heapsnap {

StatusOr<std::vector<uint8_t>> MatchTypes(const Snapshot& s, const std::string& name) {
  std::vector<uint8_t> match(s.types.size(), 0);
  const std::string kBuiltins = "builtins.";
  const bool builtin = name.compare(0, kBuiltins.size(), kBuiltins) == 0;
  bool any = false;
  // A qualified name, as summary and top print it: app.models.Node, or dict for a builtin
  // (also accepted as builtins.dict).
  for (size_t t = 1; t < s.types.size(); ++t) {
    const std::string& qualname = s.String(s.types[t].qualname);
    if (qualname == name || (builtin && qualname == name.substr(kBuiltins.size()) &&
                             qualname.find('.') == std::string::npos)) {
      match[t] = 1;
      any = true;
    }
  }
  if (any) return match;
  // A bare name: fine when it names one class; several are listed, never merged silently.
  std::map<std::string, uint64_t> classes;  // qualified name -> instances
  std::vector<uint64_t> instances(s.types.size(), 0);
  for (uint32_t i = 0; i < s.object_count(); ++i) ++instances[s.type[i].value()];
  // Classes without instances in the snapshot (a protocol, an abstract base) do not count.
  for (size_t t = 1; t < s.types.size(); ++t) {
    if (s.String(s.types[t].name) != name || instances[t] == 0) continue;
    match[t] = 1;
    classes[s.String(s.types[t].qualname)] += instances[t];
  }
  if (classes.size() > 1) {
    std::string list;
    for (const auto& [qualname, count] : classes) {
      list += (list.empty() ? "" : ", ") + qualname + " (" + FormatCount(count) +
              (count == 1 ? " object)" : " objects)");
    }
    return InvalidArgument(s.path + ": --type " + name + " names " +
                           std::to_string(classes.size()) + " classes: " + list +
                           "; give the qualified name of the one you mean");
  }
  if (classes.empty()) return NotFound(s.path + ": no object of type " + name);
  return match;
}

StatusOr<TypeSelection> SelectType(const Snapshot& s, const std::string& name, size_t limit) {
  TypeSelection selection;
  HEAPSNAP_ASSIGN_OR_RETURN(selection.match, MatchTypes(s, name));
  for (uint32_t i = 0; i < s.object_count(); ++i) {
    if (!selection.match[s.type[i].value()]) continue;
    ++selection.total;
    if (limit == 0 || selection.objects.size() < limit) selection.objects.push_back(NodeIndex(i));
  }
  if (selection.objects.empty()) return NotFound(s.path + ": no object of type " + name);
  return selection;
}

StatusOr<std::vector<NodeIndex>> ObjectsOfType(const Snapshot& s, const std::string& name,
                                               size_t limit) {
  HEAPSNAP_ASSIGN_OR_RETURN(TypeSelection selection, SelectType(s, name, limit));
  return std::move(selection.objects);
}

bool IsStructural(const Analysis& a, NodeIndex node) {
  const Snapshot& s = a.snapshot();
  const uint32_t n = node.value();
  if (a.parent_edge[n] == Analysis::kIsRoot && a.root_of_node[n] >= 0 &&
      static_cast<size_t>(a.root_of_node[n]) < s.captured_roots) {
    return true;
  }
  if (s.TypeName(node) == "module") return true;
  const uint64_t e = a.parent_edge[n];
  if (e == Analysis::kIsRoot || e == Analysis::kNoParent) return false;
  return s.IsField(e, "__dict__") &&
         s.TypeName(NodeIndex(static_cast<uint32_t>(a.EdgeSource(e)))) == "module";
}

std::vector<NodeIndex> AllButStructural(const Analysis& a) {
  std::vector<NodeIndex> out;
  out.reserve(a.snapshot().object_count());
  for (uint32_t n = 0; n < a.snapshot().object_count(); ++n) {
    if (!IsStructural(a, NodeIndex(n))) out.push_back(NodeIndex(n));
  }
  return out;
}

std::vector<NodeIndex> AllObjects(const Snapshot& s) {
  std::vector<NodeIndex> out;
  out.reserve(s.object_count());
  for (uint32_t n = 0; n < s.object_count(); ++n) out.push_back(NodeIndex(n));
  return out;
}

std::vector<NodeIndex> LargestObjects(const Analysis& a, std::vector<NodeIndex> candidates,
                                      Measure measure, size_t limit) {
  const Snapshot& s = a.snapshot();
  auto key = [&](NodeIndex n) {
    return measure == Measure::kRetained ? a.retained[n.value()] : s.size[n.value()];
  };
  const size_t count = std::min(candidates.size(), limit);
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count),
                    candidates.end(), [&](NodeIndex x, NodeIndex y) {
                      return key(x) != key(y) ? key(x) > key(y)
                                              : s.address[x.value()] < s.address[y.value()];
                    });
  candidates.resize(count);
  return candidates;
}

std::vector<const TypeRetained*> LargestTypes(const Analysis& a, const std::vector<uint8_t>& match,
                                              Measure measure, size_t limit) {
  std::vector<const TypeRetained*> types;
  for (const TypeRetained& t : a.types) {
    if (t.count == 0) continue;
    if (!match.empty() && !match[t.type.value()]) continue;
    types.push_back(&t);
  }
  auto key = [&](const TypeRetained* t) {
    return measure == Measure::kRetained ? t->retained_bytes : t->self_bytes;
  };
  std::sort(types.begin(), types.end(), [&](const TypeRetained* x, const TypeRetained* y) {
    return key(x) != key(y) ? key(x) > key(y) : x->type < y->type;
  });
  if (types.size() > limit) types.resize(limit);
  return types;
}

}  // namespace heapsnap

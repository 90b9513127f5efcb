#include "heapsnap/export/devtools_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <deque>
#include <unordered_map>
#include <vector>

#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/base/hex.h"
#include "heapsnap/base/utf8.h"
#include "heapsnap/format/writer.h"  // SnapshotWriter::CheckTarget

namespace heapsnap {
namespace {

// Indices into meta.node_types[0] and meta.edge_types[0] (V8's HeapGraphNode::Type and
// HeapGraphEdge::Type).
enum NodeType : uint32_t {
  kHiddenNode = 0,
  kStringNode = 2,
  kObjectNode = 3,
  kCodeNode = 4,
  kClosureNode = 5,
  kNumberNode = 7,
  kSyntheticNode = 9,
};
enum EdgeType : uint32_t {
  kContextEdge = 0,
  kElementEdge = 1,
  kPropertyEdge = 2,
  kInternalEdge = 3,
  kHiddenEdge = 4,
  kWeakEdge = 6,
};

// The snapshot object, up to "nodes", in V8's key order.
constexpr std::string_view kMeta =
    R"({"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count",)"
    R"("trace_node_id","detachedness"],"node_types":[["hidden","array","string","object",)"
    R"("code","closure","regexp","number","native","synthetic","concatenated string",)"
    R"("sliced string","symbol","bigint","object shape"],"string","number","number",)"
    R"("number","number","number"],"edge_fields":["type","name_or_index","to_node"],)"
    R"("edge_types":[["context","element","property","internal","hidden","shortcut","weak"],)"
    R"("string_or_number","node"],"trace_function_info_fields":["function_id","name",)"
    R"("script_name","script_id","line","column"],"trace_node_fields":["id",)"
    R"("function_info_index","count","size","children"],"sample_fields":["timestamp_us",)"
    R"("last_assigned_id"],"location_fields":["object_index","script_id","line","column"]},)";

constexpr size_t kMaxNameChars = 1024;  // V8's cap on names (checked against Node's output)

// The root categories: heapsnap's RootKind values, then the objects reached from no root.
constexpr size_t kUnexplainedCategory = kMaxRootKind + 1;
constexpr std::array<const char*, kMaxRootKind + 2> kCategoryNames = {
    "(other roots)",   "(modules)",      "(sys)",        "(builtins)",
    "(thread frames)", "(thread state)", "(gc.garbage)", "(held from C code)",
    "(immortal)",      "(frozen)",       "(unexplained)"};

// The strings table: views of text that outlives the export (the snapshot's strings and
// values), and names made here, owned and deduplicated. strings[0] is "<dummy>", as in V8.
class StringTable {
 public:
  explicit StringTable(const Snapshot& s) : s_(s), of_id_(s.strings.size(), 0) {
    all_.emplace_back("<dummy>");
  }
  // A string of the snapshot's table, once.
  uint32_t OfId(StringId id) {
    uint32_t& slot = of_id_[id.value()];
    if (slot == 0) slot = Push(s_.String(id));
    return slot;
  }
  // Text that outlives the export, not deduplicated (a str object's value).
  uint32_t View(std::string_view text) { return Push(text); }
  // A name made here, once.
  uint32_t Owned(std::string text) {
    auto it = owned_index_.find(text);
    if (it != owned_index_.end()) return it->second;
    owned_.push_back(std::move(text));
    const uint32_t index = Push(owned_.back());
    owned_index_.emplace(owned_.back(), index);
    return index;
  }
  const std::vector<std::string_view>& all() const { return all_; }

 private:
  uint32_t Push(std::string_view text) {
    all_.push_back(text);
    return static_cast<uint32_t>(all_.size() - 1);
  }
  const Snapshot& s_;
  std::vector<uint32_t> of_id_;
  std::vector<std::string_view> all_;
  std::deque<std::string> owned_;  // a deque: the views in all_ and owned_index_ stay valid
  std::unordered_map<std::string_view, uint32_t> owned_index_;
};

// Buffers the output and hands it to the sink in large pieces.
class Writer {
 public:
  explicit Writer(JsonSink& sink) : sink_(sink) { buffer_.reserve(kChunk + 256); }
  void Raw(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kChunk) Flush();
  }
  void Number(uint64_t v) {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof(digits), v);
    buffer_.append(digits, static_cast<size_t>(r.ptr - digits));
  }
  void Char(char c) { buffer_.push_back(c); }
  void MaybeFlush() {
    if (buffer_.size() >= kChunk) Flush();
  }
  void Flush() {
    if (status_.ok() && !buffer_.empty()) status_ = sink_.Append(buffer_);
    bytes_ += buffer_.size();
    buffer_.clear();
  }
  const Status& status() const { return status_; }
  uint64_t bytes() const { return bytes_ + buffer_.size(); }

 private:
  static constexpr size_t kChunk = 1 << 20;
  JsonSink& sink_;
  std::string buffer_;
  Status status_;
  uint64_t bytes_ = 0;
};

bool IsNamed(const std::string& qualname, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (qualname == n) return true;
  }
  return false;
}

NodeType NodeTypeOf(const Snapshot& s, const TypeRecord& t) {
  const std::string& q = s.String(t.qualname);
  if (q == "str") return kStringNode;
  if (IsNamed(q, {"int", "float", "complex", "bool"})) return kNumberNode;
  if (IsNamed(q, {"function", "builtin_function_or_method", "method", "method-wrapper",
                  "cython_function_or_method"})) {
    return kClosureNode;
  }
  if (q == "code") return kCodeNode;
  if (q == "cell" || (t.flags & type_flags::kSynthetic) != 0) return kHiddenNode;
  return kObjectNode;
}

// A dict key's repr as a property name: 'ada' reads ada, and a str key a --no-values snapshot
// left out keeps its placeholder, <str of 40 chars>; anything else is not a str key.
bool UnquoteStrKey(const std::string& repr, std::string* name) {
  constexpr std::string_view kLeftOut = "<str of ";
  if (repr.compare(0, kLeftOut.size(), kLeftOut) == 0 && repr.back() == '>') {
    *name = repr;
    return true;
  }
  if (repr.size() < 2) return false;
  const char q = repr.front();
  if ((q != '\'' && q != '"') || repr.back() != q) return false;
  *name = repr.substr(1, repr.size() - 2);
  return true;
}

class Exporter {
 public:
  Exporter(const Analysis& a, JsonSink& sink, const DevToolsOptions& options)
      : a_(a), s_(a.snapshot()), options_(options), strings_(s_), out_(sink) {}

  StatusOr<DevToolsStats> Run() {
    PlanSynthetic();
    HEAPSNAP_RETURN_IF_ERROR(CheckLimits());
    out_.Raw(kMeta);
    out_.Raw(R"("node_count":)");
    out_.Number(stats_.nodes);
    out_.Raw(R"(,"edge_count":)");
    out_.Number(stats_.edges);
    out_.Raw(R"(,"trace_function_count":0},)");
    out_.Raw("\n\"nodes\":[");
    WriteNodes();
    out_.Raw("],\n\"edges\":[");
    WriteEdges();
    out_.Raw(
        "],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n"
        "\"locations\":[],\n\"strings\":[");
    HEAPSNAP_RETURN_IF_ERROR(WriteStrings());
    out_.Raw("]}\n");
    out_.Flush();
    HEAPSNAP_RETURN_IF_ERROR(out_.status());
    stats_.strings = strings_.all().size();
    stats_.bytes = out_.bytes();
    Progress("done", 1);
    return stats_;
  }

 private:
  void Progress(const char* phase, double fraction) {
    if (options_.progress) options_.progress(phase, fraction);
  }

  // The synthetic nodes and their edges: which objects are roots of which kind, which are
  // unexplained, which are the garbage's entry points (the pseudo-edges of the analysis).
  void PlanSynthetic() {
    const auto n = static_cast<uint32_t>(s_.object_count());
    for (uint32_t v = 0; v < n; ++v) {
      const int32_t root = a_.root_of_node[v];
      if (root >= 0) {
        const auto kind = static_cast<size_t>(s_.roots[static_cast<size_t>(root)].kind);
        categories_[kind <= kMaxRootKind ? kind : 0].push_back(v);
        if (static_cast<size_t>(root) < s_.captured_roots) user_roots_.push_back(v);
      } else if (a_.parent_edge[v] == Analysis::kIsRoot) {
        categories_[kUnexplainedCategory].push_back(v);
      }
    }
    for (const GarbageGroup& g : a_.garbage_groups) {
      garbage_entries_.insert(garbage_entries_.end(), g.members.begin(), g.members.end());
    }
    uint64_t synthetic_edges = 1 + user_roots_.size();  // root -> (GC roots), user roots
    for (size_t c = 0; c < categories_.size(); ++c) {
      if (categories_[c].empty()) continue;
      present_.push_back(c);
      synthetic_edges += 1 + categories_[c].size();
    }
    if (!garbage_entries_.empty()) synthetic_edges += 1 + garbage_entries_.size();
    stats_.synthetic_nodes = 2 + present_.size() + (garbage_entries_.empty() ? 0 : 1);
    first_object_ = stats_.synthetic_nodes;
    stats_.nodes = stats_.synthetic_nodes + n;
    stats_.edges = synthetic_edges + s_.edge_count();
  }

  Status CheckLimits() const {
    const uint64_t max = options_.limits.max_number;
    auto refuse = [&](const std::string& why) {
      return InvalidArgument(s_.path + ": too large for a Chrome DevTools heap snapshot, whose " +
                             "numbers are 32-bit: " + why);
    };
    const uint64_t last = stats_.nodes - 1;
    if (last > max / kDevToolsNodeFields) {
      return refuse(FormatCount(stats_.nodes) + " nodes; an edge's target (node ordinal x " +
                    std::to_string(kDevToolsNodeFields) + ") must stay below " +
                    FormatCount(max + 1));
    }
    if (last > (max - 1) / 2) {
      return refuse(FormatCount(stats_.nodes) +
                    " nodes; their ids (2 x ordinal + 1) must stay below " + FormatCount(max + 1));
    }
    if (stats_.edges > max / kDevToolsEdgeFields) {
      return refuse(FormatCount(stats_.edges) + " edges; the edges array (3 numbers an edge) " +
                    "must have fewer than " + FormatCount(max + 1) + " numbers");
    }
    for (size_t i = 0; i < s_.object_count(); ++i) {
      if (s_.size[i] > max) {
        return refuse("object " + FormatAddress(s_.address[i]) + " (" +
                      s_.TypeQualname(NodeIndex(static_cast<uint32_t>(i))) + ") has " +
                      FormatCount(s_.size[i]) + " bytes; a node's size must stay below " +
                      FormatCount(max + 1));
      }
    }
    return Status::Ok();
  }

  void Node(uint32_t type, uint32_t name, uint64_t ordinal, uint64_t size, uint64_t edges) {
    if (ordinal != 0) out_.Raw(",\n");
    out_.Number(type);
    out_.Char(',');
    out_.Number(name);
    out_.Char(',');
    out_.Number(2 * ordinal + 1);
    out_.Char(',');
    out_.Number(size);
    out_.Char(',');
    out_.Number(edges);
    out_.Raw(",0,0");  // trace_node_id, detachedness
    out_.MaybeFlush();
  }

  void Edge(uint32_t type, uint64_t name_or_index, uint64_t to_ordinal) {
    if (edges_written_++ != 0) out_.Raw(",\n");
    out_.Number(type);
    out_.Char(',');
    out_.Number(name_or_index);
    out_.Char(',');
    out_.Number(to_ordinal * kDevToolsNodeFields);
    out_.MaybeFlush();
  }

  uint32_t NameOfObject(uint32_t v, NodeType type, const ValueRecord* value,
                        const NameRecord* name) {
    const TypeRecord& t = s_.types[s_.type[v].value()];
    switch (type) {
      case kStringNode:
        if (value == nullptr) break;
        if (!value->text.empty() || value->length == 0) return strings_.View(value->text);
        return strings_.Owned("<str of " + std::to_string(value->length) + " chars>");
      case kNumberNode:
        if (value != nullptr && !value->text.empty()) return strings_.View(value->text);
        break;
      case kClosureNode:
      case kCodeNode:
        if (name != nullptr && name->name.valid()) return strings_.OfId(name->name);
        break;
      default:
        break;
    }
    return strings_.OfId(t.qualname);
  }

  void WriteNodes() {
    Node(kSyntheticNode, strings_.Owned(""), 0, 0,
         1 + (garbage_entries_.empty() ? 0 : 1) + user_roots_.size());
    Node(kSyntheticNode, strings_.Owned("(GC roots)"), 1, 0, present_.size());
    uint64_t ordinal = 2;
    for (size_t c : present_) {
      Node(kSyntheticNode, strings_.Owned(kCategoryNames[c]), ordinal++, 0, categories_[c].size());
    }
    if (!garbage_entries_.empty()) {
      Node(kSyntheticNode, strings_.Owned("(unreachable garbage)"), ordinal++, 0,
           garbage_entries_.size());
    }
    std::vector<uint8_t> type_of_type(s_.types.size());
    for (size_t t = 0; t < s_.types.size(); ++t) {
      type_of_type[t] = static_cast<uint8_t>(NodeTypeOf(s_, s_.types[t]));
    }
    const auto n = static_cast<uint32_t>(s_.object_count());
    node_type_.resize(n);
    node_name_.resize(n);
    size_t next_value = 0;
    size_t next_name = 0;
    for (uint32_t v = 0; v < n; ++v) {
      while (next_value < s_.values.size() && s_.values[next_value].object_index < v) ++next_value;
      while (next_name < s_.names.size() && s_.names[next_name].object_index < v) ++next_name;
      const ValueRecord* value =
          next_value < s_.values.size() && s_.values[next_value].object_index == v
              ? &s_.values[next_value]
              : nullptr;
      const NameRecord* name = next_name < s_.names.size() && s_.names[next_name].object_index == v
                                   ? &s_.names[next_name]
                                   : nullptr;
      auto type = static_cast<NodeType>(type_of_type[s_.type[v].value()]);
      if ((s_.flags[v] & object_flags::kSynthetic) != 0) type = kHiddenNode;
      node_type_[v] = static_cast<uint8_t>(type);
      node_name_[v] = NameOfObject(v, type, value, name);
      Node(type, node_name_[v], first_object_ + v, s_.size[v],
           s_.edge_begin[v + 1] - s_.edge_begin[v]);
      if ((v & 0xFFFFF) == 0) Progress("writing nodes", 0.4 * v / n);
    }
  }

  // An edge's DevTools type and name (a string index) or index.
  struct Mapped {
    uint32_t type;
    uint64_t name_or_index;
  };

  uint32_t Label(uint64_t e) { return strings_.Owned(s_.EdgeLabel(e)); }

  Mapped MapEdge(uint64_t e, uint64_t position) {
    const uint64_t value = s_.LabelValue(e);
    const uint64_t max = options_.limits.max_number;
    auto id = [&] { return StringId(static_cast<uint32_t>(value)); };
    switch (s_.edge_label_kind[e]) {
      case LabelKind::kAttribute:
        return {kPropertyEdge, strings_.OfId(id())};
      case LabelKind::kField:
        return {kInternalEdge, strings_.OfId(id())};
      case LabelKind::kClosureVariable:
      case LabelKind::kLocalVariable:
        return {kContextEdge, strings_.OfId(id())};
      case LabelKind::kDictKey:
        return DictKey(id());
      case LabelKind::kDictKeyRef: {
        const uint64_t key_edge = e + static_cast<uint64_t>(DecodeDictKeyRef(value));
        const uint32_t key = s_.edge_target[key_edge];
        if (node_type_[key] == kStringNode) return {kPropertyEdge, node_name_[key]};
        return {kInternalEdge, Label(e)};
      }
      case LabelKind::kDictKeySelf: {
        const uint32_t key = s_.edge_target[e];
        if (node_type_[key] == kStringNode) return {kInternalEdge, node_name_[key]};
        return {kInternalEdge, Label(e)};
      }
      case LabelKind::kIndex:
        if (value <= max) return {kElementEdge, value};
        return {kInternalEdge, Label(e)};
      case LabelKind::kDictKeyInt: {
        const int64_t key = ZigZagDecode(value);
        if (key >= 0 && static_cast<uint64_t>(key) <= max) {
          return {kElementEdge, static_cast<uint64_t>(key)};
        }
        return {kInternalEdge, Label(e)};
      }
      case LabelKind::kTraverseIndex:
      case LabelKind::kStackSlot:
        if (value <= max) return {kHiddenEdge, value};
        return {kHiddenEdge, position};
      case LabelKind::kSetMember:
      case LabelKind::kNone:
        return {kHiddenEdge, position};
      case LabelKind::kDictKeyObject:
      case LabelKind::kParameterDefault:
      case LabelKind::kDictKeyIntObject:
        return {kInternalEdge, Label(e)};
    }
    return {kHiddenEdge, position};
  }

  // A value under a key whose repr is `repr`: a property when the key is a str, else internal.
  Mapped DictKey(StringId repr) {
    if (dict_key_.empty()) dict_key_.assign(s_.strings.size(), 0);
    uint32_t& slot = dict_key_[repr.value()];
    if (slot == 0) {
      std::string name;
      if (UnquoteStrKey(s_.String(repr), &name)) {
        slot = strings_.Owned(std::move(name)) << 1 | 1;
      } else {
        slot = strings_.Owned("[" + s_.String(repr) + "]") << 1;
      }
    }
    return {(slot & 1) != 0 ? kPropertyEdge : kInternalEdge, slot >> 1};
  }

  void WriteEdges() {
    uint64_t ordinal = 2;
    Edge(kElementEdge, 1, 1);  // root -> (GC roots)
    if (!garbage_entries_.empty()) Edge(kElementEdge, 2, first_object_ - 1);
    for (uint64_t k = 0; k < user_roots_.size(); ++k) {
      Edge(kElementEdge, 3 + k, first_object_ + user_roots_[k]);
    }
    for (uint64_t k = 0; k < present_.size(); ++k) Edge(kElementEdge, k + 1, ordinal + k);
    for (size_t c : present_) {
      uint64_t index = 0;
      for (uint32_t v : categories_[c]) {
        if (c == kUnexplainedCategory) {
          Edge(kElementEdge, index++, first_object_ + v);
        } else {
          const SnapshotRoot& r = s_.roots[static_cast<size_t>(a_.root_of_node[v])];
          Edge(kPropertyEdge, strings_.Owned(RootDescription(s_, r)), first_object_ + v);
        }
      }
    }
    uint64_t index = 0;
    for (uint32_t v : garbage_entries_) Edge(kElementEdge, index++, first_object_ + v);

    const auto n = static_cast<uint32_t>(s_.object_count());
    for (uint32_t v = 0; v < n; ++v) {
      for (uint64_t e = s_.edge_begin[v]; e < s_.edge_begin[v + 1]; ++e) {
        Mapped m = MapEdge(e, e - s_.edge_begin[v]);
        if (!Retains(s_.edge_kind[e])) {
          // Weak edges are named by a string whatever their label.
          if (m.type == kElementEdge || m.type == kHiddenEdge) m.name_or_index = Label(e);
          m.type = kWeakEdge;
        }
        Edge(m.type, m.name_or_index, first_object_ + s_.edge_target[e]);
      }
      if ((v & 0xFFFFF) == 0) Progress("writing edges", 0.4 + 0.5 * v / n);
    }
  }

  Status WriteStrings() {
    Progress("writing strings", 0.9);
    const auto& all = strings_.all();
    uint64_t chars = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      const std::string literal = DevToolsJsonString(all[i], kMaxNameChars);
      chars += literal.size() + 2;  // and ",\n"
      if (chars > options_.limits.max_strings_chars) {
        return InvalidArgument(s_.path + ": too large for a Chrome DevTools heap snapshot: its " +
                               FormatCount(all.size()) +
                               " strings (names and values) take more than " +
                               FormatCount(options_.limits.max_strings_chars) +
                               " characters, the longest string DevTools and memlab can parse");
      }
      if (i != 0) out_.Raw(",\n");
      out_.Raw(literal);
    }
    return Status::Ok();
  }

  const Analysis& a_;
  const Snapshot& s_;
  const DevToolsOptions& options_;
  StringTable strings_;
  Writer out_;
  DevToolsStats stats_;
  std::array<std::vector<uint32_t>, kCategoryNames.size()> categories_;
  std::vector<size_t> present_;  // categories with objects, in order
  std::vector<uint32_t> garbage_entries_;
  // The capture's own roots (sys.modules, running frames...), also held by the root itself, as
  // V8's root holds the global objects: DevTools then gives what they hold user distances
  // (what only synthetic nodes reach counts as "system").
  std::vector<uint32_t> user_roots_;
  uint64_t first_object_ = 0;  // ordinal of object 0
  uint64_t edges_written_ = 0;
  std::vector<uint8_t> node_type_;   // per object
  std::vector<uint32_t> node_name_;  // per object: its name's string index
  std::vector<uint32_t> dict_key_;   // per snapshot string: (index << 1) | is_str_key, 0 unset
};

// The output file: private, under a temporary name beside the target, renamed when complete.
class FileSink : public JsonSink {
 public:
  ~FileSink() override {
    if (file_ != nullptr) std::fclose(file_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }
  Status Open(const std::string& path) {
    HEAPSNAP_RETURN_IF_ERROR(SnapshotWriter::CheckTarget(path));
    path_ = path;
    std::string temp = path + ".tmp-XXXXXX";
    const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
    if (fd < 0) return IoError(path + ": cannot create: " + std::strerror(errno));
    temp_ = temp;
    // A heap holds secrets; the export holds its values too.
    if (::fchmod(fd, S_IRUSR | S_IWUSR) != 0) {
      const int error = errno;
      ::close(fd);
      return IoError(path + ": cannot make it private (chmod 0600): " + std::strerror(error));
    }
    file_ = ::fdopen(fd, "wb");
    if (file_ == nullptr) {
      const int error = errno;
      ::close(fd);
      return IoError(path + ": cannot create: " + std::strerror(error));
    }
    return Status::Ok();
  }
  Status Append(std::string_view bytes) override {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return IoError(path_ + ": cannot write: " + std::strerror(errno));
    }
    return Status::Ok();
  }
  Status Commit() {
    if (std::fflush(file_) != 0 || ::fsync(::fileno(file_)) != 0) {
      return IoError(path_ + ": cannot write: " + std::strerror(errno));
    }
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) return IoError(path_ + ": cannot write: " + std::strerror(errno));
    HEAPSNAP_RETURN_IF_ERROR(SnapshotWriter::CheckTarget(path_));
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
      return IoError(path_ + ": cannot rename " + temp_ + " into place: " + std::strerror(errno));
    }
    temp_.clear();
    return Status::Ok();
  }

 private:
  std::string path_;
  std::string temp_;  // removed by the destructor unless renamed
  FILE* file_ = nullptr;
};

}  // namespace

std::string DevToolsJsonString(std::string_view text, size_t max_chars) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  auto escape = [&out](uint32_t unit) {
    const char e[6] = {'\\',
                       'u',
                       kHexDigits[(unit >> 12) & 15],
                       kHexDigits[(unit >> 8) & 15],
                       kHexDigits[(unit >> 4) & 15],
                       kHexDigits[unit & 15]};
    out.append(e, 6);
  };
  size_t chars = 0;
  for (size_t i = 0; i < text.size() && chars < max_chars; ++i, ++chars) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t n = Utf8SequenceAt(text, i);
      if (n == 0) {
        escape(0xFFFD);
        continue;
      }
      uint32_t cp = c & (0x7F >> n);
      for (size_t k = 1; k < n; ++k)
        cp = cp << 6 | (static_cast<unsigned char>(text[i + k]) & 0x3F);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        escape(0xD800 + (cp >> 10));
        escape(0xDC00 + (cp & 0x3FF));
      } else {
        escape(cp);
      }
      i += n - 1;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          escape(c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

StatusOr<DevToolsStats> WriteDevToolsSnapshot(const Analysis& analysis, JsonSink& sink,
                                              const DevToolsOptions& options) {
  return Exporter(analysis, sink, options).Run();
}

StatusOr<DevToolsStats> ExportDevToolsSnapshot(const Analysis& analysis, const std::string& path,
                                               const DevToolsOptions& options) {
  FileSink file;
  HEAPSNAP_RETURN_IF_ERROR(file.Open(path));
  HEAPSNAP_ASSIGN_OR_RETURN(DevToolsStats stats, WriteDevToolsSnapshot(analysis, file, options));
  HEAPSNAP_RETURN_IF_ERROR(file.Commit());
  return stats;
}

}  // namespace heapsnap

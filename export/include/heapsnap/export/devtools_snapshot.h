// A Chrome DevTools heap snapshot (.heapsnapshot, the JSON that V8's HeapSnapshotJSONSerializer
// writes) of a whole analysed heapsnap snapshot: loadable by Chrome DevTools' Memory panel
// (Load) and by memlab (`memlab view-heap --snapshot F`, `getFullHeapFromFile(F)`).
//
//   StatusOr<Snapshot> snap = LoadSnapshot("app.heapsnap");
//   Analysis a = Analyze(*snap);
//   StatusOr<DevToolsStats> stats = ExportDevToolsSnapshot(a, "app.heapsnapshot");
//
// The format, as V8 writes it and DevTools (HeapSnapshotLoader.ts) reads it as a stream: the
// keys in V8's order with "strings" last; every number a uint32; nodes of 7 fields (type, name,
// id, self_size, edge_count, trace_node_id, detachedness), edges of 3 (type, name_or_index,
// to_node, the target's node ordinal times 7), grouped by source in node order; name_or_index
// an integer index for element and hidden edges, else a string index; strings[0] "<dummy>";
// names cut to 1024 characters, non-ASCII written as \uXXXX.
//
// The graph, so that DevTools' and memlab's dominators and retained sizes equal heapsnap's:
// - Node 0 is the synthetic root (id 1). It holds "(GC roots)" (id 3), whose synthetic children
//   are the kinds of heapsnap's roots ("(modules)", "(thread frames)", "(held from C code)",
//   "(immortal)", ... and "(unexplained)"), each holding its root objects by `property` edges
//   named as heapsnap describes the root; and, when there is garbage, "(unreachable garbage)",
//   which holds the entry points of the unreachable cycles. These are exactly the pseudo-edges
//   of heapsnap's dominator tree (analysis.h): synthetic nodes of size 0 between the root and
//   the same objects change no object's dominator. The root also holds the capture's own roots
//   (sys.modules, running frames, ...) directly, by `element` edges, as V8's root holds the
//   global objects: DevTools gives only what a non-synthetic child of the root reaches a
//   distance of its own (else "system").
// - Edges that retain (Retains(): TRAVERSE, STRONG) get a retaining DevTools type; weak and
//   borrowed references (and unknown ones) are `weak`, which DevTools and memlab never follow
//   for dominators. No `shortcut` edges: from non-root nodes DevTools ignores them, and from
//   the root they would mark "page-owned" nodes whose other retainers DevTools then ignores.
// - Edge types: `property` for attributes and str dict keys; `element` (with the index) for
//   list/tuple items and int keys; `context` for closure variables and frame locals;
//   `internal` for fields (__dict__, __class__, ...), other keys, defaults; `hidden` (with the
//   position) for set members, stack slots and unlabelled tp_traverse references.
// - Node types: str `string` (named by its value), int/float/complex/bool `number` (named by
//   its value), functions and methods `closure` (named by their qualified name), code `code`,
//   cells and heapsnap's synthetic objects `hidden`, everything else `object` named by its
//   type's qualified name (DevTools' Summary groups objects by name).
// - Ids are odd and dense, 2 * ordinal + 1 (V8 gives heap objects odd ids; DevTools counts only
//   odd ids as JS objects; memlab takes id 1 for the root). Addresses are not kept: ids do not
//   match across exports of different snapshots.
//
// Streaming: nodes and edges are written as they are made; only the strings table (views into
// the snapshot's own strings, plus the few names made here) is kept until the end.
// Complexity O(n + m), memory about 8 bytes per object plus 16 per distinct string.
//
// Limits: a graph too large for the format is refused before anything is written (node
// ordinal * 7, ids, edge count * 3 and sizes above 2^32 - 1); the strings section must fit in
// one JavaScript string (2^29 - 24 characters), as DevTools and memlab JSON.parse it whole.
#ifndef HEAPSNAP_EXPORT_DEVTOOLS_SNAPSHOT_H_
#define HEAPSNAP_EXPORT_DEVTOOLS_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "heapsnap/analyze/analysis.h"
#include "heapsnap/base/status.h"

namespace heapsnap {

// V8's field layout.
inline constexpr uint32_t kDevToolsNodeFields = 7;
inline constexpr uint32_t kDevToolsEdgeFields = 3;

struct DevToolsLimits {
  uint64_t max_number = UINT32_MAX;  // every number in "nodes" and "edges"
  // V8's String::kMaxLength on 64-bit targets: DevTools and memlab JSON.parse the part of the
  // file from "strings" on (memlab: everything but nodes, edges and locations) as one string.
  uint64_t max_strings_chars = (uint64_t{1} << 29) - 24;
};

struct DevToolsOptions {
  // Called with a phase and the fraction done; may be empty.
  std::function<void(const char* phase, double fraction)> progress;
  DevToolsLimits limits;
};

struct DevToolsStats {
  uint64_t nodes = 0;  // objects plus the synthetic nodes
  uint64_t synthetic_nodes = 0;
  uint64_t edges = 0;
  uint64_t strings = 0;
  uint64_t bytes = 0;  // of the JSON
};

// Where the JSON goes: a file (ExportDevToolsSnapshot) or memory (tests).
class JsonSink {
 public:
  virtual ~JsonSink() = default;
  [[nodiscard]] virtual Status Append(std::string_view bytes) = 0;
};

class StringJsonSink : public JsonSink {
 public:
  Status Append(std::string_view bytes) override {
    text.append(bytes);
    return Status::Ok();
  }
  std::string text;
};

// Writes the JSON to `sink`. Fails (InvalidArgument, naming `name`) when the graph is too large
// for the format; then nothing has been written when a count is too large, and the sink holds
// a partial document when the strings are.
StatusOr<DevToolsStats> WriteDevToolsSnapshot(const Analysis& analysis, JsonSink& sink,
                                              const DevToolsOptions& options = {});

// Writes the JSON to `path` whole or not at all: a private (0600) temporary file created
// beside it, renamed into place when complete; any failure removes it. `path` must not exist
// or be a regular file.
StatusOr<DevToolsStats> ExportDevToolsSnapshot(const Analysis& analysis, const std::string& path,
                                               const DevToolsOptions& options = {});

// The JSON string literal of `text` as V8 writes names: quoted, ASCII only (\uXXXX, with
// surrogate pairs above U+FFFF; invalid UTF-8 as U+FFFD), cut to `max_chars` code points.
std::string DevToolsJsonString(std::string_view text, size_t max_chars = 1024);

}  // namespace heapsnap

#endif  // HEAPSNAP_EXPORT_DEVTOOLS_SNAPSHOT_H_

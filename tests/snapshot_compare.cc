// snapshot_compare A B: whether two snapshots describe the same heap, object by object: the
// same objects (by address) with the same type, size, refcount, flags, generation, value
// preview and name, the same edges in the same order (label, kind, target), and the same
// captured roots. The header (time, reason, pid) is not compared. Prints the first
// differences; exit 0 when equal, 1 when not, 2 when a file cannot be read.
// Used by the end-to-end tests of the fork capture (tests/test_running_capture.py).
#include <cstdio>
#include <iostream>
#include <string>

#include "heapsnap/analyze/snapshot.h"

namespace {

using heapsnap::NodeIndex;
using heapsnap::Snapshot;

std::string ValueText(const Snapshot& s, NodeIndex n) {
  const heapsnap::ValueRecord* value = s.Value(n);
  if (value == nullptr) return "(none)";
  return value->text + " len=" + std::to_string(value->length);
}

std::string NameText(const Snapshot& s, NodeIndex n) {
  const heapsnap::NameRecord* name = s.Name(n);
  return name == nullptr
             ? "(none)"
             : s.String(name->name) + " " + s.String(name->file) + ":" + std::to_string(name->line);
}

std::string RootText(const Snapshot& s, const heapsnap::SnapshotRoot& root) {
  return std::to_string(static_cast<int>(root.kind)) + " " + s.String(root.label) + " thread " +
         std::to_string(root.thread_id) + " depth " + std::to_string(root.depth) + " -> " +
         std::to_string(s.address[root.node.value()]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: snapshot_compare A B\n";
    return 2;
  }
  auto a = heapsnap::LoadSnapshot(argv[1]);
  auto b = heapsnap::LoadSnapshot(argv[2]);
  if (!a.ok() || !b.ok()) {
    std::cerr << (a.ok() ? b.status().message() : a.status().message()) << "\n";
    return 2;
  }
  uint64_t differences = 0;
  auto differ = [&](const std::string& what) {
    if (++differences <= 40) std::cout << what << "\n";
  };
  if (a->object_count() != b->object_count()) {
    differ("objects: " + std::to_string(a->object_count()) +
           " != " + std::to_string(b->object_count()));
  }
  if (a->edge_count() != b->edge_count()) {
    differ("edges: " + std::to_string(a->edge_count()) + " != " + std::to_string(b->edge_count()));
  }
  for (size_t i = 0; i < a->object_count(); ++i) {
    const NodeIndex na(static_cast<uint32_t>(i));
    const uint64_t address = a->address[i];
    const auto found = b->FindAddress(address);
    char hex[32];
    std::snprintf(hex, sizeof(hex), "0x%llx", static_cast<unsigned long long>(address));
    if (!found) {
      differ(std::string(hex) + " (" + a->TypeQualname(na) + "): only in A");
      continue;
    }
    const NodeIndex nb = *found;
    const size_t j = nb.value();
    auto field = [&](const char* name, const std::string& x, const std::string& y) {
      if (x == y) return;
      std::string line = hex;
      line.append(" ").append(name).append(": ").append(x).append(" != ").append(y);
      differ(line);
    };
    field("type", a->TypeQualname(na), b->TypeQualname(nb));
    field("size", std::to_string(a->size[i]), std::to_string(b->size[j]));
    field("refcount", std::to_string(a->refcount[i]), std::to_string(b->refcount[j]));
    field("flags", std::to_string(a->flags[i]), std::to_string(b->flags[j]));
    field("generation", std::to_string(a->generation[i]), std::to_string(b->generation[j]));
    field("value", ValueText(*a, na), ValueText(*b, nb));
    field("name", NameText(*a, na), NameText(*b, nb));
    const uint64_t ea = a->edge_begin[i + 1] - a->edge_begin[i];
    const uint64_t eb = b->edge_begin[j + 1] - b->edge_begin[j];
    if (ea != eb) {
      differ(std::string(hex) + " edges: " + std::to_string(ea) + " != " + std::to_string(eb));
      continue;
    }
    for (uint64_t k = 0; k < ea; ++k) {
      const uint64_t x = a->edge_begin[i] + k;
      const uint64_t y = b->edge_begin[j] + k;
      field("edge label", a->EdgeLabel(x), b->EdgeLabel(y));
      field("edge kind", std::to_string(static_cast<int>(a->edge_kind[x])),
            std::to_string(static_cast<int>(b->edge_kind[y])));
      field("edge target", std::to_string(a->address[a->edge_target[x]]),
            std::to_string(b->address[b->edge_target[y]]));
    }
  }
  if (a->captured_roots != b->captured_roots) {
    differ("roots: " + std::to_string(a->captured_roots) +
           " != " + std::to_string(b->captured_roots));
    for (size_t r = 0; r < a->captured_roots; ++r) differ("  A: " + RootText(*a, a->roots[r]));
    for (size_t r = 0; r < b->captured_roots; ++r) differ("  B: " + RootText(*b, b->roots[r]));
  } else {
    for (size_t r = 0; r < a->captured_roots; ++r) {
      const std::string x = RootText(*a, a->roots[r]);
      const std::string y = RootText(*b, b->roots[r]);
      if (x == y) continue;
      std::string line = "root " + std::to_string(r);
      line.append(": ").append(x).append(" != ").append(y);
      differ(line);
    }
  }
  std::cout << (differences == 0 ? "equal" : "different") << ": " << a->object_count()
            << " objects, " << a->edge_count() << " edges, " << a->captured_roots << " roots; "
            << differences << " differences\n";
  return differences == 0 ? 0 : 1;
}

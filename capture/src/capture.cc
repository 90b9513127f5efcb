#include "capture.h"

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <unistd.h>

#include <chrono>
// clang-format on

#include "heapsnap/format/writer.h"
#include "value_text.h"
#include "walker.h"

namespace heapsnap::capture {
namespace {

// Keeps the collector off while it lives (a collection would change the heap under the walk,
// and run finalizers), and puts it back as it found it.
class GcDisabled {
 public:
  GcDisabled() : was_enabled_(hs_gc_set_enabled(0) != 0) {}
  ~GcDisabled() { hs_gc_set_enabled(was_enabled_ ? 1 : 0); }
  GcDisabled(const GcDisabled&) = delete;
  GcDisabled& operator=(const GcDisabled&) = delete;
  bool was_enabled() const { return was_enabled_; }

 private:
  const bool was_enabled_;
};

HeaderInfo BuildHeader(const CaptureConfig& config, bool gc_enabled) {
  HeaderInfo header;
  header.python_version = Py_GetVersion();
  header.python_implementation = "cpython";
  header.python_hexversion = PY_VERSION_HEX;
  header.pid = config.pid != 0 ? config.pid : static_cast<int64_t>(getpid());
  header.time_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  PyObject* executable = PySys_GetObject("executable");  // borrowed
  header.executable = Utf8(executable);
  PyErr_Clear();
  header.values = config.values;
  header.max_preview_bytes = config.values ? config.max_preview_bytes : 0;
  header.gc_enabled = gc_enabled;
  long long thresholds[3];
  long long counts[3];
  hs_gc_info(thresholds, counts);
  header.gc_thresholds.assign(thresholds, thresholds + 3);
  header.gc_counts.assign(counts, counts + 3);
  PyObject* garbage = hs_gc_garbage();
  header.gc_garbage_length = garbage != nullptr && PyList_Check(garbage)
                                 ? static_cast<uint64_t>(PyList_GET_SIZE(garbage))
                                 : 0;
  header.pointer_size = sizeof(void*);
  header.reason = config.reason;
  header.capture_version = config.capture_version;
  return header;
}

}  // namespace

Status CaptureHeap(const CaptureConfig& config, CaptureStats* stats) {
  const GcDisabled gc_disabled;
  SnapshotWriter::Options options;
  // Checksums and file writes on a third thread: blocking writes never stall the emitter.
  options.background = config.parallel;
  HEAPSNAP_ASSIGN_OR_RETURN(
      std::unique_ptr<SnapshotWriter> writer,
      SnapshotWriter::Create(config.path, BuildHeader(config, gc_disabled.was_enabled()), options));
  if (config.temporary_created) config.temporary_created(writer->temporary_path());
  {
    Walker walker(writer.get(), config);
    HEAPSNAP_RETURN_IF_ERROR(walker.Run(stats));
  }
  return writer->Finish();
}

}  // namespace heapsnap::capture

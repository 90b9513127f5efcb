#include "roots.h"

// clang-format off
#include <frameobject.h>
// clang-format on

#include "object_address.h"
#include "value_text.h"
#include "walker.h"

namespace heapsnap::capture {

void ThreadNames::Read() {
  // Only dict and instance-attribute reads (hs_dict_lookup, hs_instance_attribute).
  PyObject* threading_name = PyUnicode_InternFromString("threading");
  PyObject* active_name = PyUnicode_InternFromString("_active");
  PyObject* thread_name = PyUnicode_InternFromString("_name");
  PyObject* threading = threading_name != nullptr ? PyImport_GetModule(threading_name) : nullptr;
  PyObject* module_dict =
      threading != nullptr && PyModule_Check(threading) ? PyModule_GetDict(threading) : nullptr;
  PyObject* active = module_dict != nullptr && active_name != nullptr
                         ? hs_dict_lookup(module_dict, active_name)
                         : nullptr;
  if (active != nullptr && PyDict_Check(active) && thread_name != nullptr) {
    Py_ssize_t pos = 0;
    PyObject* key = nullptr;
    PyObject* thread = nullptr;
    while (PyDict_Next(active, &pos, &key, &thread)) {
      long long ident = 0;
      if (!PyLong_Check(key) || !hs_long_value(key, &ident)) continue;
      PyObject* name = hs_instance_attribute(thread, thread_name);
      if (name != nullptr && PyUnicode_Check(name)) {
        names_.emplace_back(static_cast<unsigned long>(ident), Utf8(name, 200));
      }
    }
  }
  Py_XDECREF(threading);
  Py_XDECREF(threading_name);
  Py_XDECREF(active_name);
  Py_XDECREF(thread_name);
  PyErr_Clear();
}

std::string ThreadNames::Name(unsigned long ident) const {
  for (const auto& [id, name] : names_) {
    if (id == ident) return name;
  }
  if (ident == hs_main_thread_id()) return "MainThread";
  return "thread-" + std::to_string(ident);
}

void CollectRoots(const ThreadNames& threads, std::vector<PendingRoot>* roots) {
  auto add = [&](RootKind kind, PyObject* op, const std::string& label, unsigned long thread) {
    if (op != nullptr) roots->push_back({kind, AddressOf(op), label, thread, 0});
  };
  add(RootKind::kModules, PyImport_GetModuleDict(), "sys.modules", 0);
  add(RootKind::kSys, hs_interp_sysdict(), "sys.__dict__", 0);
  add(RootKind::kBuiltins, hs_interp_builtins(), "builtins.__dict__", 0);
  add(RootKind::kGcGarbage, hs_gc_garbage(), "gc.garbage", 0);
  PyInterpreterState* interp = PyThreadState_GET()->interp;
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts != nullptr;
       ts = PyThreadState_Next(ts)) {
    auto id = static_cast<unsigned long>(ts->thread_id);
    std::string prefix = "thread '" + threads.Name(id) + "' ";
#if PY_VERSION_HEX >= 0x030C0000
    add(RootKind::kThreadState, ts->current_exception, prefix + "current exception", id);
#else
    add(RootKind::kThreadState, ts->curexc_type, prefix + "current exception type", id);
    add(RootKind::kThreadState, ts->curexc_value, prefix + "current exception", id);
    add(RootKind::kThreadState, ts->curexc_traceback, prefix + "current traceback", id);
#endif
    add(RootKind::kThreadState, ts->exc_state.exc_value, prefix + "handled exception", id);
#if PY_VERSION_HEX < 0x030B0000
    add(RootKind::kThreadState, ts->exc_state.exc_type, prefix + "handled exception type", id);
    add(RootKind::kThreadState, ts->exc_state.exc_traceback, prefix + "handled traceback", id);
#endif
    add(RootKind::kThreadState, ts->dict, prefix + "state dict", id);
    add(RootKind::kThreadState, ts->context, prefix + "contextvars context", id);
    add(RootKind::kThreadState, ts->async_gen_firstiter, prefix + "async_gen_firstiter", id);
    add(RootKind::kThreadState, ts->async_gen_finalizer, prefix + "async_gen_finalizer", id);
    add(RootKind::kThreadState, ts->c_profileobj, prefix + "profile function", id);
    add(RootKind::kThreadState, ts->c_traceobj, prefix + "trace function", id);
  }
}

PendingRoot RunningFrameRoot(const hs_frame_view& frame, int depth, unsigned long thread_id,
                             const std::string& thread_name) {
  std::string where = "thread '" + thread_name + "'";
  if (frame.code != nullptr) {
    auto* co = reinterpret_cast<PyCodeObject*>(frame.code);
    where += " " + Utf8(hs_code_qualname(frame.code)) + " (" + Utf8(co->co_filename) + ":" +
             std::to_string(frame.line) + ")";
  }
  return {RootKind::kThreadFrame, AddressOf(frame.address), std::move(where), thread_id,
          static_cast<uint32_t>(depth)};
}

// ---- the walk's part: roots are objects to write like any other ----

void Walker::RegisterRoots() {
  for (const PendingRoot& r : roots_) Register(PointerAt<PyObject>(r.address));
}

// The thread whose frames WriteRunningFrames is writing.
struct Walker::RunningThread {
  Walker* walker;
  TypeId synthetic;  // the type of running frames that are not objects (3.11+)
  unsigned long id;
  std::string name;
};

void Walker::WriteRunningFrames() {
  // 3.11+: running frames live on the threads' data stacks, invisible to tp_traverse. Each
  // becomes a synthetic node whose local variables are strong (not traversed) edges: exactly
  // the references gc counts as "from outside". On 3.8–3.10 frames are ordinary objects and
  // only need roots.
  TypeId synthetic;
  if (!hs_frames_are_objects()) {
    PendingType t;
    t.name = "frame";
    t.qualname = "<running frame>";
    t.record.flags = type_flags::kSynthetic;
    synthetic = types_.AddSynthetic(std::move(t), &batch_->types);
  }
  PyInterpreterState* interp = PyThreadState_GET()->interp;
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts != nullptr;
       ts = PyThreadState_Next(ts)) {
    const auto id = static_cast<unsigned long>(ts->thread_id);
    RunningThread thread{this, synthetic, id, thread_names_.Name(id)};
    hs_foreach_thread_frame(ts, &Walker::VisitRunningFrame, &thread);
  }
}

int Walker::VisitRunningFrame(const hs_frame_view* frame, int depth, void* arg) {
  const auto* thread = static_cast<const RunningThread*>(arg);
  thread->walker->WriteRunningFrame(*frame, depth, *thread);
  return 0;
}

void Walker::WriteRunningFrame(const hs_frame_view& frame, int depth, const RunningThread& thread) {
  if (hs_frames_are_objects()) {
    // 3.8-3.10 run most frames untracked; they are objects all the same.
    Register(static_cast<PyObject*>(frame.address));
  } else {
    ObjectRecord record;
    record.address = AddressOf(frame.address);
    record.type = thread.synthetic;
    record.size = static_cast<uint64_t>(frame.size);
    record.refcount = 0;
    record.flags = object_flags::kSynthetic;
    BeginObject(record);
    labels_.LabelFrameView(frame, !frame.owned_by_generator);
    if (frame.code != nullptr) {
      auto* co = reinterpret_cast<PyCodeObject*>(frame.code);
      batch_->SetName(hs_code_qualname(frame.code), co->co_filename,
                      static_cast<uint32_t>(frame.line));
    }
    EndObject();
  }
  roots_.push_back(RunningFrameRoot(frame, depth, thread.id, thread.name));
}

}  // namespace heapsnap::capture

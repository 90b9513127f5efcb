// The CPython extension module. Built once per interpreter as heapsnap/_heapsnap_<hexversion>;
// heapsnap/__init__.py imports the one whose name matches sys.hexversion.
#include <Python.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "capture.h"
#include "fork_capture.h"
#include "heapsnap/format/file_names.h"
#include "hold.h"
#include "module_init.h"
#include "triggers.h"

#ifndef HEAPSNAP_VERSION
#error "HEAPSNAP_VERSION must be defined by the build"
#endif

namespace {

// The arguments dump() and fork_dump() share: path, values, reason, max_preview_bytes.
bool ParseCaptureArgs(PyObject* const* args, heapsnap::capture::CaptureConfig* config) {
  {
    PyObject* encoded = nullptr;
    if (!PyUnicode_FSConverter(args[0], &encoded)) return false;
    config->path.assign(PyBytes_AS_STRING(encoded), static_cast<size_t>(PyBytes_GET_SIZE(encoded)));
    Py_DECREF(encoded);
  }
  int values = PyObject_IsTrue(args[1]);
  if (values < 0) return false;
  config->values = values != 0;
  if (!PyUnicode_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError, "reason must be a str");
    return false;
  }
  const char* reason = PyUnicode_AsUTF8(args[2]);
  if (reason == nullptr) return false;
  config->reason = reason;
  long max_preview = PyLong_AsLong(args[3]);
  if (max_preview == -1 && PyErr_Occurred()) return false;
  if (max_preview < 0 || max_preview > (1 << 20)) {
    PyErr_SetString(PyExc_ValueError, "max_preview_bytes must be between 0 and 1048576");
    return false;
  }
  config->max_preview_bytes = static_cast<uint32_t>(max_preview);
  config->capture_version = HEAPSNAP_VERSION;
  // A knob for benchmarks and debugging: HEAPSNAP_CAPTURE_THREADS=1 keeps the whole capture
  // on the calling thread.
  const char* threads = std::getenv("HEAPSNAP_CAPTURE_THREADS");
  config->parallel = threads == nullptr || std::strcmp(threads, "1") != 0;
  return true;
}

// A failed capture as a Python exception: OSError for I/O, RuntimeError otherwise.
PyObject* RaiseStatus(const heapsnap::Status& status) {
  PyObject* type =
      status.code() == heapsnap::StatusCode::kIoError ? PyExc_OSError : PyExc_RuntimeError;
  PyErr_SetString(type, ("heapsnap: " + status.message()).c_str());
  return nullptr;
}

// dump(path: str | bytes, values: bool, reason: str, max_preview_bytes: int[, hold: bool])
//   -> (objects, edges, roots, seconds), or with hold (objects, edges, roots, seconds, hold):
//   a hold (hold.h) on every object the snapshot describes, for release_hold().
// Positional only and METH_FASTCALL, so that the call allocates no argument tuple that would
// show up in the snapshot. heapsnap.dump() is the documented wrapper; heapsnap.testing holds.
PyObject* Dump(PyObject* /*module*/, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 && nargs != 5) {
    PyErr_SetString(PyExc_TypeError,
                    "dump() takes path, values, reason, max_preview_bytes[, hold]");
    return nullptr;
  }
  heapsnap::capture::CaptureConfig config;
  if (!ParseCaptureArgs(args, &config)) return nullptr;
  int hold = 0;
  if (nargs == 5 && (hold = PyObject_IsTrue(args[4])) < 0) return nullptr;
  heapsnap::capture::PodVector<const void*> written;
  if (hold) config.written = &written;

  heapsnap::capture::CaptureStats stats;
  heapsnap::Status status = heapsnap::capture::CaptureHeap(config, &stats);
  if (!status.ok()) return RaiseStatus(status);
  const auto objects = static_cast<unsigned long long>(stats.objects);
  const auto edges = static_cast<unsigned long long>(stats.edges);
  const auto roots = static_cast<unsigned long long>(stats.roots);
  if (nargs == 4) return Py_BuildValue("(KKKd)", objects, edges, roots, stats.seconds);
  // Taken before anything else allocates: the written objects are all still alive.
  if (!hold) return Py_BuildValue("(KKKdO)", objects, edges, roots, stats.seconds, Py_None);
  PyObject* taken = heapsnap::capture::TakeHold(&written);
  if (taken == nullptr) return nullptr;
  return Py_BuildValue("(KKKdN)", objects, edges, roots, stats.seconds, taken);
}

// release_hold(hold) -> the number of references dropped (0 if it was released already).
PyObject* ReleaseHold(PyObject* /*module*/, PyObject* hold) {
  const Py_ssize_t released = heapsnap::capture::ReleaseHold(hold);
  return released < 0 ? nullptr : PyLong_FromSsize_t(released);
}

// fork_dump(path, values, reason, max_preview_bytes[, also_in_parent]) -> (pid, pause_seconds)
//   forks a child that writes the snapshot (fork_capture.h) and returns at once. also_in_parent
//   (tests only): the parent captures the same heap state to that path before returning.
// Positional only and METH_FASTCALL, like dump(): the child's snapshot holds no argument tuple.
PyObject* ForkDump(PyObject* /*module*/, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 4 && nargs != 5) {
    PyErr_SetString(PyExc_TypeError,
                    "fork_dump() takes path, values, reason, max_preview_bytes[, also_in_parent]");
    return nullptr;
  }
  heapsnap::capture::CaptureConfig config;
  if (!ParseCaptureArgs(args, &config)) return nullptr;
  std::string also_in_parent;
  if (nargs == 5 && args[4] != Py_None) {
    PyObject* encoded = nullptr;
    if (!PyUnicode_FSConverter(args[4], &encoded)) return nullptr;
    also_in_parent.assign(PyBytes_AS_STRING(encoded),
                          static_cast<size_t>(PyBytes_GET_SIZE(encoded)));
    Py_DECREF(encoded);
  }
  heapsnap::StatusOr<heapsnap::capture::ForkStarted> started =
      heapsnap::capture::StartForkCapture(config, nullptr, also_in_parent);
  if (!started.ok()) return RaiseStatus(started.status());
  return Py_BuildValue("(id)", static_cast<int>(started->pid), started->pause_seconds);
}

// fork_result(pid, timeout) -> None while the child runs (after waiting at most timeout
//   seconds; negative: until it ends), else (objects, edges, roots, capture_seconds,
//   child_seconds); raises RuntimeError with the child's reason if it failed, ValueError for a
//   pid fork_dump() did not make.
PyObject* ForkResult(PyObject* /*module*/, PyObject* args) {
  int pid = 0;
  double timeout = -1;
  if (!PyArg_ParseTuple(args, "id:fork_result", &pid, &timeout)) return nullptr;
  heapsnap::capture::ForkOutcome outcome;
  Py_BEGIN_ALLOW_THREADS;
  outcome = heapsnap::capture::WaitForkCapture(static_cast<pid_t>(pid), timeout);
  Py_END_ALLOW_THREADS;
  using State = heapsnap::capture::ForkOutcome::State;
  switch (outcome.state) {
    case State::kRunning:
      Py_RETURN_NONE;
    case State::kWritten:
      return Py_BuildValue("(KKKdd)", static_cast<unsigned long long>(outcome.stats.objects),
                           static_cast<unsigned long long>(outcome.stats.edges),
                           static_cast<unsigned long long>(outcome.stats.roots),
                           outcome.stats.seconds, outcome.child_seconds);
    case State::kFailed:
      PyErr_SetString(PyExc_RuntimeError, ("heapsnap: " + outcome.error).c_str());
      return nullptr;
    case State::kUnknown:
      break;
  }
  PyErr_Format(PyExc_ValueError, "heapsnap: pid %d is not a fork capture of this process", pid);
  return nullptr;
}

// arm_triggers(output, values, max_preview_bytes, signal, every, fork): snapshots on a signal
//   (0: none) and every `every` seconds (0: none), numbered (triggers.h).
PyObject* ArmTriggers(PyObject* /*module*/, PyObject* args) {
  PyObject* output = nullptr;
  int values = 1;
  int max_preview = 100;
  int signal_number = 0;
  double every = 0;
  int fork = 0;
  if (!PyArg_ParseTuple(args, "O&piidp:arm_triggers", PyUnicode_FSConverter, &output, &values,
                        &max_preview, &signal_number, &every, &fork)) {
    return nullptr;
  }
  heapsnap::capture::TriggerConfig config;
  config.output.assign(PyBytes_AS_STRING(output), static_cast<size_t>(PyBytes_GET_SIZE(output)));
  Py_DECREF(output);
  config.values = values != 0;
  config.max_preview_bytes = static_cast<uint32_t>(max_preview < 0 ? 0 : max_preview);
  config.capture_version = HEAPSNAP_VERSION;
  config.signal_number = signal_number;
  config.every_seconds = every;
  config.fork = fork != 0;
  const heapsnap::Status status = heapsnap::capture::ArmTriggers(config);
  if (!status.ok()) {
    PyErr_SetString(PyExc_ValueError, ("heapsnap: " + status.message()).c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

// per_process_path(base, pid) -> the base of a forked child's numbered snapshots.
PyObject* PerProcessPath(PyObject* /*module*/, PyObject* args) {
  PyObject* base = nullptr;
  long long pid = 0;
  if (!PyArg_ParseTuple(args, "O&L:per_process_path", PyUnicode_FSConverter, &base, &pid)) {
    return nullptr;
  }
  const std::string path = heapsnap::PerProcessSnapshotPath(
      std::string(PyBytes_AS_STRING(base), static_cast<size_t>(PyBytes_GET_SIZE(base))), pid);
  Py_DECREF(base);
  return PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size()));
}

// disarm_triggers() -> the number of snapshots they took.
PyObject* DisarmTriggers(PyObject* /*module*/, PyObject* /*unused*/) {
  return PyLong_FromUnsignedLongLong(heapsnap::capture::DisarmTriggers());
}

// next_triggered_path() -> the next numbered path, or None when no triggers were armed.
PyObject* NextTriggeredPath(PyObject* /*module*/, PyObject* /*unused*/) {
  const std::string path = heapsnap::capture::NextTriggeredPath();
  if (path.empty()) Py_RETURN_NONE;
  return PyUnicode_DecodeFSDefaultAndSize(path.data(), static_cast<Py_ssize_t>(path.size()));
}

PyMethodDef kMethods[] = {
    {"dump", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Dump)), METH_FASTCALL,
     "dump(path, values, reason, max_preview_bytes[, hold]): write a heap snapshot."},
    {"release_hold", ReleaseHold, METH_O,
     "release_hold(hold): drop the references a dump(..., True) hold took."},
    {"fork_dump", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(ForkDump)),
     METH_FASTCALL,
     "fork_dump(path, values, reason, max_preview_bytes[, also_in_parent]): a child writes the "
     "snapshot; returns (pid, pause_seconds) at once."},
    {"fork_result", ForkResult, METH_VARARGS,
     "fork_result(pid, timeout): the outcome of a fork_dump() child, or None while it runs."},
    {"arm_triggers", ArmTriggers, METH_VARARGS,
     "arm_triggers(output, values, max_preview_bytes, signal, every, fork): numbered snapshots "
     "on a signal and a period."},
    {"per_process_path", PerProcessPath, METH_VARARGS,
     "per_process_path(base, pid): the base of a forked child's numbered snapshots."},
    {"disarm_triggers", DisarmTriggers, METH_NOARGS,
     "disarm_triggers(): stop the triggers; returns how many snapshots they took."},
    {"next_triggered_path", NextTriggeredPath, METH_NOARGS,
     "next_triggered_path(): the next numbered snapshot path, or None."},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef kModule = {
    PyModuleDef_HEAD_INIT,
    HEAPSNAP_MODULE_NAME_TEXT,
    "heapsnap capture module for one exact CPython version.",
    -1,
    kMethods,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace

HEAPSNAP_MODULE_INIT {
  // The module reads private interpreter structures, so it must run only under the exact
  // interpreter version it was compiled against.
  PyObject* hexversion = PySys_GetObject("hexversion");  // borrowed
  unsigned long running = hexversion != nullptr ? PyLong_AsUnsignedLong(hexversion) : 0;
  if (running != static_cast<unsigned long>(PY_VERSION_HEX)) {
    PyErr_Format(PyExc_ImportError,
                 "heapsnap capture module built for Python hexversion 0x%08lx cannot run under "
                 "0x%08lx",
                 static_cast<unsigned long>(PY_VERSION_HEX), running);
    return nullptr;
  }
  PyObject* m = PyModule_Create(&kModule);
  if (m == nullptr) return nullptr;
  if (PyModule_AddIntConstant(m, "built_for_hexversion", PY_VERSION_HEX) < 0 ||
      PyModule_AddStringConstant(m, "version", HEAPSNAP_VERSION) < 0) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}

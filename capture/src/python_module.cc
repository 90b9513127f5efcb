// The CPython extension module. Built once per interpreter as heapsnap/_heapsnap_<hexversion>;
// heapsnap/__init__.py imports the one whose name matches sys.hexversion.
#include <Python.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "capture.h"
#include "hold.h"
#include "module_init.h"

#ifndef HEAPSNAP_VERSION
#error "HEAPSNAP_VERSION must be defined by the build"
#endif

namespace {

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
  {
    PyObject* encoded = nullptr;
    if (!PyUnicode_FSConverter(args[0], &encoded)) return nullptr;
    config.path.assign(PyBytes_AS_STRING(encoded), static_cast<size_t>(PyBytes_GET_SIZE(encoded)));
    Py_DECREF(encoded);
  }
  int values = PyObject_IsTrue(args[1]);
  if (values < 0) return nullptr;
  config.values = values != 0;
  if (!PyUnicode_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError, "reason must be a str");
    return nullptr;
  }
  const char* reason = PyUnicode_AsUTF8(args[2]);
  if (reason == nullptr) return nullptr;
  config.reason = reason;
  long max_preview = PyLong_AsLong(args[3]);
  if (max_preview == -1 && PyErr_Occurred()) return nullptr;
  if (max_preview < 0 || max_preview > (1 << 20)) {
    PyErr_SetString(PyExc_ValueError, "max_preview_bytes must be between 0 and 1048576");
    return nullptr;
  }
  config.max_preview_bytes = static_cast<uint32_t>(max_preview);
  config.capture_version = HEAPSNAP_VERSION;
  // A knob for benchmarks and debugging: HEAPSNAP_CAPTURE_THREADS=1 keeps the whole capture
  // on the calling thread.
  const char* threads = std::getenv("HEAPSNAP_CAPTURE_THREADS");
  config.parallel = threads == nullptr || std::strcmp(threads, "1") != 0;
  int hold = 0;
  if (nargs == 5 && (hold = PyObject_IsTrue(args[4])) < 0) return nullptr;
  heapsnap::capture::PodVector<const void*> written;
  if (hold) config.written = &written;

  heapsnap::capture::CaptureStats stats;
  heapsnap::Status status = heapsnap::capture::CaptureHeap(config, &stats);
  if (!status.ok()) {
    PyObject* type =
        status.code() == heapsnap::StatusCode::kIoError ? PyExc_OSError : PyExc_RuntimeError;
    PyErr_SetString(type, ("heapsnap: " + status.message()).c_str());
    return nullptr;
  }
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

PyMethodDef kMethods[] = {
    {"dump", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Dump)), METH_FASTCALL,
     "dump(path, values, reason, max_preview_bytes[, hold]): write a heap snapshot."},
    {"release_hold", ReleaseHold, METH_O,
     "release_hold(hold): drop the references a dump(..., True) hold took."},
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

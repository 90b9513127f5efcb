// A test-only extension module (Memray's _memray_test_utils pattern): value_text's functions
// called on real Python objects, so that tests/test_value_text.py can hold their output against
// Python's own repr() under every interpreter. Built beside the build tree's tests, never
// installed.
// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <string>
// clang-format on

#include "module_init.h"
#include "value_text.h"

namespace {

using heapsnap::capture::Preview;

PyObject* Text(const std::string& text) {
  return PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
}

// key_repr(key, values) -> the text heapsnap writes between [ ] for that dict key.
PyObject* KeyRepr(PyObject* /*self*/, PyObject* args) {
  PyObject* key = nullptr;
  int values = 1;
  if (!PyArg_ParseTuple(args, "Op", &key, &values)) return nullptr;
  std::string out;
  heapsnap::capture::AppendKeyRepr(key, values != 0, 0, &out);
  return Text(out);
}

// preview(value, max_bytes) -> (text, full length), or None when there is nothing to show.
PyObject* ValuePreview(PyObject* /*self*/, PyObject* args) {
  PyObject* value = nullptr;
  Py_ssize_t max_bytes = 0;
  if (!PyArg_ParseTuple(args, "On", &value, &max_bytes)) return nullptr;
  Preview kind = Preview::kNone;
  if (PyBool_Check(value)) {
    kind = Preview::kBool;
  } else if (PyUnicode_Check(value)) {
    kind = Preview::kStr;
  } else if (PyBytes_Check(value)) {
    kind = Preview::kBytes;
  } else if (PyLong_Check(value)) {
    kind = Preview::kInt;
  } else if (PyFloat_Check(value)) {
    kind = Preview::kFloat;
  }
  std::string out;
  uint64_t full_length = 0;
  if (!heapsnap::capture::AppendPreview(value, kind, static_cast<size_t>(max_bytes), &out,
                                        &full_length)) {
    Py_RETURN_NONE;
  }
  PyObject* text = Text(out);
  if (text == nullptr) return nullptr;
  return Py_BuildValue("(NK)", text, static_cast<unsigned long long>(full_length));
}

// kept_without_values(name) -> whether a snapshot without values keeps this key's text.
PyObject* KeptWithoutValues(PyObject* /*self*/, PyObject* arg) {
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(arg, &size);
  if (text == nullptr) return nullptr;
  return PyBool_FromLong(
      heapsnap::capture::KeptWithoutValues(std::string_view(text, static_cast<size_t>(size))));
}

PyMethodDef kMethods[] = {
    {"key_repr", KeyRepr, METH_VARARGS, "The text heapsnap writes for a dict key."},
    {"preview", ValuePreview, METH_VARARGS, "A value's preview and full length, or None."},
    {"kept_without_values", KeptWithoutValues, METH_O,
     "Whether --no-values keeps this key's text."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT,
                       HEAPSNAP_MODULE_NAME_TEXT,
                       "value_text, for tests",
                       -1,
                       kMethods,
                       nullptr,
                       nullptr,
                       nullptr,
                       nullptr};

}  // namespace

HEAPSNAP_MODULE_INIT { return PyModule_Create(&kModule); }

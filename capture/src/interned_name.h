// InternedName: a str the capture makes before the walk and looks things up with during it
// (hs_type_lookup, hs_dict_lookup need a str whose hash is computed).
#ifndef HEAPSNAP_CAPTURE_INTERNED_NAME_H_
#define HEAPSNAP_CAPTURE_INTERNED_NAME_H_

// Python.h must come before any other header.
#include <Python.h>

namespace heapsnap::capture {

// Held as a borrowed pointer when something else keeps the str alive (the names used are keys
// of the builtin types' dicts), so that the snapshot does not count the capture's own
// reference; released with the InternedName otherwise.
class InternedName {
 public:
  InternedName() = default;
  ~InternedName() {
    if (owned_) Py_DECREF(str_);
  }
  InternedName(const InternedName&) = delete;
  InternedName& operator=(const InternedName&) = delete;

  // Makes the str; false (with the error cleared) when it cannot.
  bool Init(const char* text) {
    str_ = PyUnicode_InternFromString(text);
    if (str_ == nullptr) {
      PyErr_Clear();
      return false;
    }
    (void)PyObject_Hash(str_);  // computed once, here: lookups read it
    owned_ = Py_REFCNT(str_) == 1;
    if (!owned_) Py_DECREF(str_);
    return true;
  }
  PyObject* get() const { return str_; }

 private:
  PyObject* str_ = nullptr;
  bool owned_ = false;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_INTERNED_NAME_H_

/* The sizes sys.getsizeof reports, for the builtin types whose __sizeof__ the capture mirrors
 * (so that the walk never calls into Python); see cpython_internals.h. Nothing here allocates
 * Python objects or runs Python code. */
#include "cpython_internal_headers.h"

/* ---- sizes (mirrors of the builtin __sizeof__ implementations) -------------------------- */

static Py_ssize_t str_sizeof(PyObject* op) {
  Py_ssize_t size;
#if PY_VERSION_HEX < 0x030C0000
  if (!PyUnicode_IS_READY(op)) {
    size = sizeof(PyUnicodeObject);
  } else
#endif
      if (PyUnicode_IS_COMPACT_ASCII(op)) {
    size = sizeof(PyASCIIObject) + PyUnicode_GET_LENGTH(op) + 1;
  } else if (PyUnicode_IS_COMPACT(op)) {
    size = sizeof(PyCompactUnicodeObject) + (PyUnicode_GET_LENGTH(op) + 1) * PyUnicode_KIND(op);
  } else {
    size = sizeof(PyUnicodeObject);
    if (((PyUnicodeObject*)op)->data.any != NULL) {
      size += (PyUnicode_GET_LENGTH(op) + 1) * PyUnicode_KIND(op);
    }
  }
#if PY_VERSION_HEX < 0x030C0000
  {
    PyASCIIObject* a = (PyASCIIObject*)op;
    if (a->wstr != NULL && (!PyUnicode_IS_READY(op) || (void*)a->wstr != PyUnicode_DATA(op))) {
      Py_ssize_t wlen =
          PyUnicode_IS_COMPACT_ASCII(op) ? a->length : ((PyCompactUnicodeObject*)op)->wstr_length;
      size += (wlen + 1) * (Py_ssize_t)sizeof(wchar_t);
    }
  }
#endif
  if (!PyUnicode_IS_COMPACT_ASCII(op)) {
    PyCompactUnicodeObject* c = (PyCompactUnicodeObject*)op;
    if (c->utf8 != NULL && (void*)c->utf8 != PyUnicode_DATA(op)) size += c->utf8_length + 1;
  }
  return size;
}

static Py_ssize_t int_sizeof(PyObject* op) {
#if PY_VERSION_HEX >= 0x030C0000
  Py_ssize_t ndigits = (Py_ssize_t)(((PyLongObject*)op)->long_value.lv_tag >> 3);
  if (ndigits < 1) ndigits = 1;
  return (Py_ssize_t)offsetof(PyLongObject, long_value.ob_digit) +
         ndigits * (Py_ssize_t)sizeof(digit);
#else
  Py_ssize_t n = Py_SIZE(op);
  if (n < 0) n = -n;
  return (Py_ssize_t)offsetof(PyLongObject, ob_digit) + n * (Py_ssize_t)sizeof(digit);
#endif
}

Py_ssize_t hs_sizeof(PyObject* op, int kind) {
  PyTypeObject* tp = Py_TYPE(op);
  Py_ssize_t size;
  switch (kind) {
    case HS_SIZE_DEFAULT:
      size = tp->tp_basicsize;
      if (tp->tp_itemsize > 0) size += Py_SIZE(op) * tp->tp_itemsize;
      break;
    case HS_SIZE_LIST:
      size = tp->tp_basicsize + ((PyListObject*)op)->allocated * (Py_ssize_t)sizeof(void*);
      break;
    case HS_SIZE_DICT:
      size = _PyDict_SizeOf((PyDictObject*)op);
      break;
    case HS_SIZE_SET: {
      PySetObject* so = (PySetObject*)op;
      size = tp->tp_basicsize;
      if (so->table != so->smalltable) size += (so->mask + 1) * (Py_ssize_t)sizeof(setentry);
      break;
    }
    case HS_SIZE_STR:
      size = str_sizeof(op);
      break;
    case HS_SIZE_INT:
      size = int_sizeof(op);
      break;
    case HS_SIZE_BYTEARRAY:
      size = tp->tp_basicsize + ((PyByteArrayObject*)op)->ob_alloc;
      break;
    default:
      return -1;
  }
  return size + hs_preheader_size(op);
}

/* The digits of an int, read in place (no exception state is touched, so this is safe on the
 * capture's second thread while the walking thread holds the GIL). */
static const digit* long_digits(PyObject* op, Py_ssize_t* ndigits, int* negative) {
#if PY_VERSION_HEX >= 0x030C0000
  uintptr_t tag = ((PyLongObject*)op)->long_value.lv_tag;
  *ndigits = (Py_ssize_t)(tag >> 3);
  *negative = (tag & 3) == 2;
  return ((PyLongObject*)op)->long_value.ob_digit;
#else
  Py_ssize_t n = Py_SIZE(op);
  *negative = n < 0;
  *ndigits = n < 0 ? -n : n;
  return ((PyLongObject*)op)->ob_digit;
#endif
}

int hs_long_value(PyObject* op, long long* out) {
  Py_ssize_t n;
  int negative;
  const digit* d = long_digits(op, &n, &negative);
  unsigned long long acc = 0;
  for (Py_ssize_t i = n - 1; i >= 0; --i) {
    if (acc >> (64 - PyLong_SHIFT)) return 0;
    acc = (acc << PyLong_SHIFT) | d[i];
  }
  if (negative) {
    if (acc > (unsigned long long)LLONG_MAX + 1) return 0;
    *out = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)acc;
  } else {
    if (acc > (unsigned long long)LLONG_MAX) return 0;
    *out = (long long)acc;
  }
  return 1;
}

unsigned long long hs_long_bits(PyObject* op) {
  Py_ssize_t n;
  int negative;
  const digit* d = long_digits(op, &n, &negative);
  if (n == 0) return 0;
  unsigned long long bits = (unsigned long long)(n - 1) * PyLong_SHIFT;
  for (digit top = d[n - 1]; top != 0; top >>= 1) ++bits;
  return bits;
}

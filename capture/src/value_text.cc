#include "value_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "heapsnap/base/hex.h"
#include "heapsnap/base/python_text.h"
#include "object_address.h"

namespace heapsnap::capture {
namespace {

void AppendInt(long long v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

}  // namespace

bool AppendUtf8(PyObject* s, size_t max_bytes, std::string* out, bool* truncated) {
#if PY_VERSION_HEX < 0x030C0000
  if (!PyUnicode_IS_READY(s)) return false;
#endif
  const Py_ssize_t len = PyUnicode_GET_LENGTH(s);
  const int kind = PyUnicode_KIND(s);
  const void* data = PyUnicode_DATA(s);
  *truncated = false;
  if (PyUnicode_IS_ASCII(s)) {
    size_t n = std::min(static_cast<size_t>(len), max_bytes);
    out->append(static_cast<const char*>(data), n);
    *truncated = n < static_cast<size_t>(len);
    return true;
  }
  const size_t start = out->size();
  for (Py_ssize_t i = 0; i < len; ++i) {
    Py_UCS4 c = PyUnicode_READ(kind, data, i);
    char buf[12];
    size_t n = 0;
    if (c < 0x80) {
      buf[n++] = static_cast<char>(c);
    } else if (c < 0x800) {
      buf[n++] = static_cast<char>(0xC0 | (c >> 6));
      buf[n++] = static_cast<char>(0x80 | (c & 0x3F));
    } else if (c >= 0xD800 && c <= 0xDFFF) {
      n = static_cast<size_t>(std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c)));
    } else if (c < 0x10000) {
      buf[n++] = static_cast<char>(0xE0 | (c >> 12));
      buf[n++] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      buf[n++] = static_cast<char>(0x80 | (c & 0x3F));
    } else {
      buf[n++] = static_cast<char>(0xF0 | (c >> 18));
      buf[n++] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      buf[n++] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      buf[n++] = static_cast<char>(0x80 | (c & 0x3F));
    }
    if (out->size() - start + n > max_bytes) {
      *truncated = true;
      break;
    }
    out->append(buf, n);
  }
  return true;
}

std::string Utf8(PyObject* s, size_t max_bytes) {
  std::string out;
  bool truncated = false;
  if (s == nullptr || !PyUnicode_Check(s) || !AppendUtf8(s, max_bytes, &out, &truncated)) {
    return std::string();
  }
  return out;
}

bool KeptWithoutValues(std::string_view text) {
  return text.size() <= kMaxKeptNameBytes &&
         std::none_of(text.begin(), text.end(),
                      [](char c) { return static_cast<unsigned char>(c) >= 0x80; }) &&
         IsIdentifier(text);
}

bool IsProgramName(PyObject* s) {
  // The compiler interns the names in code (attributes, variables, keywords, identifier-like
  // constants), and setattr interns the names it is given. Data made at run time (request
  // tokens, session ids, keys parsed from files) is not, whatever it looks like.
  return PyUnicode_CHECK_INTERNED(s) != 0;
}

void AppendRedactedStr(PyObject* s, std::string* out) {
  out->append("<str of " + std::to_string(PyUnicode_GET_LENGTH(s)) + " chars>");
}

void AppendDouble(double d, std::string* out) {
  if (std::isnan(d)) {
    out->append("nan");
    return;
  }
  if (std::isinf(d)) {
    out->append(d > 0 ? "inf" : "-inf");
    return;
  }
  // Whole numbers below 1e15 print as Python does ("3.0") without the shortest-round-trip
  // search, which costs ten times more.
  if (d == std::trunc(d) && std::fabs(d) < 1e15) {
    if (d == 0 && std::signbit(d)) {
      out->append("-0.0");
      return;
    }
    AppendInt(static_cast<long long>(d), out);
    out->append(".0");
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  out->append(buf, r.ptr);
  static constexpr char kMarks[] = {'.', 'e', 'n'};  // a float's text has one of these
  if (std::find_first_of(buf, r.ptr, std::begin(kMarks), std::end(kMarks)) == r.ptr) {
    out->append(".0");
  }
}

namespace {

// The key repr of a str: quoted, or redacted without values (KeptWithoutValues).
void AppendStrKeyRepr(PyObject* key, bool values, std::string* out) {
  const size_t quote = out->size();
  out->push_back('\'');
  const size_t body = out->size();
  bool truncated = false;
  // Cut while encoding (never inside a character or an escape): KeyPrefixBytes's rule.
  if (!AppendUtf8(key, kMaxKeyBytes, out, &truncated)) {
    out->resize(quote);
    out->append("<str>");
    return;
  }
  if (!values && (!IsProgramName(key) || !KeptWithoutValues(std::string_view(*out).substr(body)))) {
    out->resize(quote);
    AppendRedactedStr(key, out);
    return;
  }
  FinishQuotedKey(out, body, truncated);
}

void AppendBytesKeyRepr(PyObject* key, bool values, std::string* out) {
  if (!values) {
    out->append("<bytes of " + std::to_string(PyBytes_GET_SIZE(key)) + ">");
    return;
  }
  out->append("b'");
  Py_ssize_t n = std::min<Py_ssize_t>(PyBytes_GET_SIZE(key), 60);
  for (Py_ssize_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(PyBytes_AS_STRING(key)[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out->push_back(static_cast<char>(c));
    } else {
      AppendHexEscape(c, out);
    }
  }
  if (n < PyBytes_GET_SIZE(key)) out->append("...");
  out->push_back('\'');
}

}  // namespace

void AppendKeyRepr(PyObject* key, bool values, int depth, std::string* out) {
  if (key == Py_None) {
    out->append("None");
    return;
  }
  if (key == Py_True || key == Py_False) {
    out->append(key == Py_True ? "True" : "False");
    return;
  }
  if (PyUnicode_Check(key)) {
    AppendStrKeyRepr(key, values, out);
    return;
  }
  if (PyLong_Check(key)) {
    long long v = 0;
    if (values && hs_long_value(key, &v)) {
      AppendInt(v, out);
    } else {
      out->append("<int>");
    }
    return;
  }
  if (PyFloat_Check(key)) {
    if (values) {
      AppendDouble(PyFloat_AS_DOUBLE(key), out);
    } else {
      out->append("<float>");
    }
    return;
  }
  if (PyBytes_Check(key)) {
    AppendBytesKeyRepr(key, values, out);
    return;
  }
  if (PyTuple_CheckExact(key) && depth < 2 && PyTuple_GET_SIZE(key) <= 8) {
    out->push_back('(');
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(key); ++i) {
      if (i > 0) out->append(", ");
      AppendKeyRepr(PyTuple_GET_ITEM(key, i), values, depth + 1, out);
    }
    if (PyTuple_GET_SIZE(key) == 1) out->push_back(',');
    out->push_back(')');
    return;
  }
  if (PyType_Check(key)) {
    out->append("<class ");
    out->append(reinterpret_cast<PyTypeObject*>(key)->tp_name);
    out->push_back('>');
    return;
  }
  out->push_back('<');
  out->append(Py_TYPE(key)->tp_name);
  out->push_back(' ');
  out->append(FormatAddress(AddressOf(key)));
  out->push_back('>');
}

bool AppendPreview(PyObject* op, Preview kind, size_t max_bytes, std::string* out,
                   uint64_t* full_length) {
  switch (kind) {
    case Preview::kNone:
      return false;
    case Preview::kStr: {
      bool truncated = false;
      const size_t start = out->size();
      if (!AppendUtf8(op, max_bytes, out, &truncated)) {
        out->resize(start);
        return false;
      }
      *full_length = static_cast<uint64_t>(PyUnicode_GET_LENGTH(op));
      return true;
    }
    case Preview::kBytes: {
      const auto size = static_cast<size_t>(PyBytes_GET_SIZE(op));
      out->append(PyBytes_AS_STRING(op), std::min(size, max_bytes));
      *full_length = size;
      return true;
    }
    case Preview::kBool:
      out->append(op == Py_True ? "True" : "False");
      *full_length = op == Py_True ? 4 : 5;
      return true;
    case Preview::kInt: {
      long long v = 0;
      if (hs_long_value(op, &v)) {
        *full_length = AppendIntPreview(v, out);
      } else {
        const unsigned long long bits = hs_long_bits(op);
        out->append("<int of " + std::to_string(bits) + " bits>");
        *full_length = static_cast<uint64_t>(static_cast<double>(bits) * 0.30102999566398120) + 1;
      }
      return true;
    }
    case Preview::kFloat:
      *full_length = AppendFloatPreview(PyFloat_AS_DOUBLE(op), out);
      return true;
  }
  return false;
}

uint64_t AppendIntPreview(long long v, std::string* out) {
  const size_t start = out->size();
  AppendInt(v, out);
  return out->size() - start - (v < 0 ? 1 : 0);  // digits
}

uint64_t AppendFloatPreview(double d, std::string* out) {
  const size_t start = out->size();
  AppendDouble(d, out);
  return out->size() - start;
}

}  // namespace heapsnap::capture

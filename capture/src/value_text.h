// Text of Python values, read in place: no Python object is created, no exception state is
// touched and no Python API that needs a thread state is called. That makes these functions
// safe both in the middle of the walk and on the emitter thread, which reads objects without
// holding the GIL while the walking thread holds it and changes nothing.
#ifndef HEAPSNAP_CAPTURE_VALUE_TEXT_H_
#define HEAPSNAP_CAPTURE_VALUE_TEXT_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
// clang-format on

namespace heapsnap::capture {

// Appends the UTF-8 of str s, at most max_bytes of it (never a partial character; lone
// surrogates become \udXXX). *truncated tells whether something was left out. Returns false
// for a str whose data is not ready (legacy strings before 3.12).
bool AppendUtf8(PyObject* s, size_t max_bytes, std::string* out, bool* truncated);

// The UTF-8 of a str (empty for NULL or anything else), at most max_bytes.
std::string Utf8(PyObject* s, size_t max_bytes = 4096);

// Whether str s is a name of the program, whose text a snapshot without values keeps as an
// attribute or variable name, and as a dict key if it also looks like an identifier: an
// interned str. Any other str keeps only its length (AppendRedactedStr).
bool IsProgramName(PyObject* s);
void AppendRedactedStr(PyObject* s, std::string* out);  // "<str of N chars>"

// The policy for a str key's UTF-8 text in a snapshot without values, beyond IsProgramName:
// kept only when it reads as a name and cannot carry data, an identifier (base's
// IsIdentifier) of ASCII only and at most kMaxKeptNameBytes long.
constexpr size_t kMaxKeptNameBytes = 64;
bool KeptWithoutValues(std::string_view text);

// repr() of a float as Python prints it ("3.0", "1e+100", "nan"), appended to out.
void AppendDouble(double d, std::string* out);

// The text between [ ] for a dict key, as Python would write it: 'name', 42, (1, 'a'),
// b'raw', <class C>, <Foo 0x7f..>. With values off, only str keys that are names of the
// program (IsProgramName) and KeptWithoutValues keep their text. Appended to out.
void AppendKeyRepr(PyObject* key, bool values, int depth, std::string* out);

// Preview of a str, bytes, bool, int or float (at most max_bytes of str and bytes), appended
// to out, with the full length of the value (characters, bytes or decimal digits). Returns
// false, leaving out as it was, when there is nothing to show.
enum class Preview : uint8_t { kNone, kStr, kBytes, kBool, kInt, kFloat };
bool AppendPreview(PyObject* op, Preview kind, size_t max_bytes, std::string* out,
                   uint64_t* full_length);

// The previews of an int that fits in a long long and of a float, from the value alone (the
// emitter formats them from the numbers the walk read). Return the full length.
uint64_t AppendIntPreview(long long v, std::string* out);
uint64_t AppendFloatPreview(double d, std::string* out);

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_VALUE_TEXT_H_

/* The interpreter's internal headers, for the C files that read CPython's private structures
 * (cpython_internals.c, cpython_sizes.c). Compiled once per interpreter with that
 * interpreter's headers; capture/DESIGN.md explains what each version's part relies on. */
#ifndef HEAPSNAP_CAPTURE_CPYTHON_INTERNAL_HEADERS_H_
#define HEAPSNAP_CAPTURE_CPYTHON_INTERNAL_HEADERS_H_

/* cpython_internals.h brings Python.h, which must come before any other header. */
/* clang-format off */
#define Py_BUILD_CORE 1
#include "cpython_internals.h"

#include <frameobject.h>
#include <limits.h>
#include <stddef.h>
#include <structmember.h>
/* clang-format on */

#if PY_VERSION_HEX >= 0x03090000
#include "internal/pycore_gc.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#else
#include "internal/pycore_pystate.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_frame.h"
#include "internal/pycore_object.h"
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include "internal/pycore_genobject.h"
#endif

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030E0000
#error "heapsnap capture supports CPython 3.8 to 3.13"
#endif
#ifdef Py_GIL_DISABLED
#error "free-threaded builds are not supported yet"
#endif

#endif /* HEAPSNAP_CAPTURE_CPYTHON_INTERNAL_HEADERS_H_ */

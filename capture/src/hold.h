// A hold: strong references to every object one snapshot described, taken right after the
// capture, so that none of them can be freed and its address given to a new object while the
// hold lives. heapsnap.testing holds the heap of snapshot S(i-1) while the body runs, so an
// object at an address of S(i-1) in S(i) is the same object, never a newcomer on a reused
// address (CPython's freelists hand a freed address to the next object of the same type).
//
// The hold is a capsule ("heapsnap.hold"); release_hold() drops its references at once (the
// capsule's destructor does it too, if nobody did). It is released before the next snapshot is
// taken, so no snapshot ever counts the hold's references: refcounts stay exact.
// Immortal objects (3.12+) are held like any other: Py_INCREF and Py_DECREF leave them as they
// are, so the pair is balanced whether an object was immortal at either end or not.
#ifndef HEAPSNAP_CAPTURE_HOLD_H_
#define HEAPSNAP_CAPTURE_HOLD_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstddef>
// clang-format on

#include "pod_vector.h"

namespace heapsnap::capture {

// Takes a reference to each of `objects` (which must all be alive: call it with the GIL held,
// with no Python code run since they were found) and returns the capsule that owns them; the
// vector is emptied. nullptr with a Python error set if the capsule cannot be made (then
// nothing is held).
PyObject* TakeHold(PodVector<const void*>* objects);

// Drops the hold's references (each object may be freed, and run finalizers, here); a hold
// already released releases nothing. Returns how many references were dropped, or -1 with a
// Python error set if `capsule` is not a hold.
Py_ssize_t ReleaseHold(PyObject* capsule);

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_HOLD_H_

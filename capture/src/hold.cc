#include "hold.h"

#include <new>

#include "object_address.h"

namespace heapsnap::capture {
namespace {

constexpr const char* kCapsuleName = "heapsnap.hold";

struct Hold {
  PodVector<const void*> objects;
};

// Drops every reference, leaving the hold empty. Decrefs may free objects, whose finalizers may
// run Python code that releases this same hold again: the objects are moved out first.
size_t Release(Hold* hold) {
  PodVector<const void*> objects;
  objects.swap(hold->objects);
  for (size_t i = 0; i < objects.size(); ++i) Py_DECREF(PointerAt<PyObject>(objects[i]));
  return objects.size();
}

void DestroyCapsule(PyObject* capsule) {
  auto* hold = static_cast<Hold*>(PyCapsule_GetPointer(capsule, kCapsuleName));
  if (hold == nullptr) {
    PyErr_Clear();
    return;
  }
  Release(hold);
  delete hold;
}

}  // namespace

PyObject* TakeHold(PodVector<const void*>* objects) {
  auto* hold = new (std::nothrow) Hold;
  if (hold == nullptr) return PyErr_NoMemory();
  // The capsule first: once it exists, every reference taken below has an owner.
  PyObject* capsule = PyCapsule_New(hold, kCapsuleName, DestroyCapsule);
  if (capsule == nullptr) {
    delete hold;
    return nullptr;
  }
  hold->objects.swap(*objects);
  for (size_t i = 0; i < hold->objects.size(); ++i) {
    Py_INCREF(PointerAt<PyObject>(hold->objects[i]));
  }
  return capsule;
}

Py_ssize_t ReleaseHold(PyObject* capsule) {
  auto* hold = static_cast<Hold*>(PyCapsule_GetPointer(capsule, kCapsuleName));
  if (hold == nullptr) return -1;  // PyCapsule_GetPointer set a ValueError
  return static_cast<Py_ssize_t>(Release(hold));
}

}  // namespace heapsnap::capture

/* The layouts of extension types whose object fields tp_traverse reports without names and
 * tp_members does not declare: functools' lru_cache wrapper, threading.local, asyncio's C
 * Future and Task (their structs differ in every version 3.8-3.13), and numpy's ndarray (not
 * gc-tracked, no tp_traverse: its base is invisible to the collector). Compiled once per
 * interpreter, like cpython_internals.c. Nothing here allocates, runs Python code or imports
 * anything: the walker finds the types in sys.modules and passes them in. Every reader checks
 * that the type's tp_basicsize is the one its layout has, and reads nothing otherwise. */
#ifndef HEAPSNAP_CAPTURE_EXTENSION_TYPES_H_
#define HEAPSNAP_CAPTURE_EXTENSION_TYPES_H_

#include <Python.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  HS_EXT_LRU_CACHE = 1, /* functools._lru_cache_wrapper */
  HS_EXT_THREAD_LOCAL,  /* _thread._local */
  HS_EXT_FUTURE,        /* _asyncio.Future */
  HS_EXT_TASK,          /* _asyncio.Task (its own fields; the Future ones are its base's) */
  HS_EXT_TASK_STEP,     /* _asyncio's TaskStepMethWrapper: a scheduled step of a Task */
  HS_EXT_TASK_WAKEUP,   /* _asyncio's TaskWakeupMethWrapper (3.8-3.11): a Task's wake-up */
  HS_EXT_FUTURE_ITER,   /* _asyncio.FutureIter: what `await future` iterates */
};
/* The kind of the asyncio helper type named tp_name (they are not in _asyncio's namespace),
 * 0 if none. */
int hs_ext_asyncio_helper(const char* tp_name);

/* An object field: a PyObject* at offset, named as Python code would see it. attribute: the
 * name is a Python attribute (labelled .name as an attribute), else an interpreter field. */
typedef struct {
  Py_ssize_t offset;
  const char* name;
  int attribute;
} hs_field;

/* The object fields of kind's layout on this interpreter, declared by `type` itself (the exact
 * extension type, not a subclass). Returns how many were written to out (at most max), 0 if
 * the type's tp_basicsize is not the layout's. */
int hs_ext_fields(int kind, PyTypeObject* type, hs_field* out, int max);

/* lru_cache wrappers with a bounded cache keep each entry in a link that is not tracked and has
 * no tp_traverse; the wrapper reports the links' keys and results itself. Iterates the links
 * from the most recent: start with *link = NULL; returns 0 at the end of the list. */
int hs_lru_next_link(PyObject* wrapper, void** link, PyObject** key, PyObject** result);
/* The number of entries of the wrapper's cache dict (0 if it has none). */
Py_ssize_t hs_lru_cache_size(PyObject* wrapper);

/* threading.local: the dict that holds the per-thread dicts (3.8-3.12 keyed by a weakref to
 * each thread's dummy object, 3.13 by each thread's threading_local_key), borrowed. */
PyObject* hs_local_dicts(PyObject* local);
/* 3.8-3.12: if value is a thread's dummy object for a local (the values of the thread state's
 * dict), the local's dict for that thread (borrowed pointer, not to be dereferenced: the
 * dummy does not own it), else NULL. */
PyObject* hs_local_dummy_dict(PyObject* value);
/* 3.13: the key of the thread's per-thread dicts in every local's dict, NULL if none (and
 * always NULL before 3.13). */
PyObject* hs_thread_local_key(PyThreadState* ts);

/* numpy.ndarray, read through its public struct (numpy/ndarraytypes.h PyArrayObject_fields,
 * unchanged from numpy 1.7 to 2.x). hs_ndarray_layout_ok: the type (ndarray or a subclass)
 * is big enough to hold it. hs_ndarray_refs: the array's base (what owns its data, for views;
 * NULL for an array that owns its data) and its dtype, both strong; returns 0 when the object
 * does not look like an array of that layout (dimensions out of range, unknown flags, a descr
 * that is not an instance of dtype_type). */
int hs_ndarray_layout_ok(PyTypeObject* type);
int hs_ndarray_refs(PyObject* array, PyTypeObject* dtype_type, PyObject** base, PyObject** descr);
/* An array of Python objects (dtype object) that owns its data owns a reference to each
 * element (views own none: their base does). For such an array (checked by hs_ndarray_refs
 * first), calls cb with each element that is set and its flat index in C order, and returns
 * 1; returns 0 for any other array. */
typedef void (*hs_ndarray_item_cb)(PyObject* item, Py_ssize_t index, void* arg);
int hs_ndarray_object_items(PyObject* array, hs_ndarray_item_cb cb, void* arg);

#ifdef __cplusplus
}
#endif

#endif /* HEAPSNAP_CAPTURE_EXTENSION_TYPES_H_ */

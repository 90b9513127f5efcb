/* Layouts of extension types heapsnap labels; see extension_types.h. The structs mirror CPython's
 * Modules/_functoolsmodule.c, Modules/_threadmodule.c and Modules/_asynciomodule.c at the
 * v3.8-v3.13 tags (each type's tp_basicsize on every interpreter was checked against them), and
 * numpy's ndarraytypes.h. Only pointer fields are read; nothing is written. */
#include "extension_types.h"

#include <stddef.h>
#include <string.h>

#define HS_FIELD(type, member, name, attribute) \
  { offsetof(type, member), (name), (attribute) }

/* ---- functools._lru_cache_wrapper ---- */

typedef struct hs_lru_link {
  PyObject_HEAD struct hs_lru_link* prev;
  struct hs_lru_link* next;
  Py_hash_t hash;
  PyObject* key;
  PyObject* result;
} hs_lru_link;

typedef struct {
  hs_lru_link root; /* the list's sentinel, embedded */
  void* wrapper;    /* a C function pointer */
  int typed;
  PyObject* cache;
  Py_ssize_t hits;
  PyObject* func;
  Py_ssize_t maxsize;
  Py_ssize_t misses;
#if PY_VERSION_HEX >= 0x030A0000
  PyObject* kwd_mark;
  PyTypeObject* lru_list_elem_type;
#endif
  PyObject* cache_info_type;
  PyObject* dict;
#if PY_VERSION_HEX >= 0x03090000
  PyObject* weakreflist;
#endif
} hs_lru_cache;

static const hs_field lru_fields[] = {
    HS_FIELD(hs_lru_cache, cache, "cache", 0),
    HS_FIELD(hs_lru_cache, func, "__wrapped__", 0),
#if PY_VERSION_HEX >= 0x030A0000
    HS_FIELD(hs_lru_cache, kwd_mark, "kwd_mark", 0),
    HS_FIELD(hs_lru_cache, lru_list_elem_type, "lru_list_elem_type", 0),
#endif
    HS_FIELD(hs_lru_cache, cache_info_type, "cache_info_type", 0),
    HS_FIELD(hs_lru_cache, dict, "__dict__", 0),
};

/* ---- _thread._local ---- */

#if PY_VERSION_HEX >= 0x030D0000
typedef struct {
  PyObject_HEAD PyObject* args;
  PyObject* kw;
  PyObject* weakreflist;
  PyObject* localdicts; /* {thread's threading_local_key: dict} */
  PyObject* thread_watchdogs;
} hs_local;
static const hs_field local_fields[] = {
    HS_FIELD(hs_local, args, "init_args", 0),
    HS_FIELD(hs_local, kw, "init_kwargs", 0),
    HS_FIELD(hs_local, localdicts, "localdicts", 0),
    HS_FIELD(hs_local, thread_watchdogs, "thread_watchdogs", 0),
};
#else
typedef struct {
  PyObject_HEAD PyObject* key; /* the key of the thread's dummy in each thread state dict */
  PyObject* args;
  PyObject* kw;
  PyObject* weakreflist;
  PyObject* dummies; /* {weakref to a thread's dummy: dict} */
  PyObject* wr_callback;
} hs_local;
typedef struct {
  PyObject_HEAD PyObject* localdict; /* borrowed */
  PyObject* weakreflist;
} hs_local_dummy;
static const hs_field local_fields[] = {
    HS_FIELD(hs_local, key, "key", 0),
    HS_FIELD(hs_local, args, "init_args", 0),
    HS_FIELD(hs_local, kw, "init_kwargs", 0),
    HS_FIELD(hs_local, dummies, "localdicts", 0),
    HS_FIELD(hs_local, wr_callback, "wr_callback", 0),
};
#endif

/* ---- _asyncio.Future and _asyncio.Task ---- */

#if PY_VERSION_HEX >= 0x030D0000
#define HS_FUTURE_HEAD(prefix)                                                        \
  PyObject_HEAD PyObject* prefix##_loop;                                              \
  PyObject* prefix##_callback0;                                                       \
  PyObject* prefix##_context0;                                                        \
  PyObject* prefix##_callbacks;                                                       \
  PyObject* prefix##_exception;                                                       \
  PyObject* prefix##_exception_tb;                                                    \
  PyObject* prefix##_result;                                                          \
  PyObject* prefix##_source_tb;                                                       \
  PyObject* prefix##_cancel_msg;                                                      \
  PyObject* prefix##_cancelled_exc;                                                   \
  int prefix##_state;                                                                 \
  /* the Task's bit fields continue these (CPython keeps them at the end for that) */ \
  unsigned prefix##_log_tb : 1;                                                       \
  unsigned prefix##_blocking : 1;
typedef struct {
  HS_FUTURE_HEAD(fut)
} hs_future;
typedef struct {
  HS_FUTURE_HEAD(task)
  unsigned task_must_cancel : 1;
  unsigned task_log_destroy_pending : 1;
  int task_num_cancels_requested;
  PyObject* task_fut_waiter;
  PyObject* task_coro;
  PyObject* task_name;
  PyObject* task_context;
} hs_task;
#else
#if PY_VERSION_HEX >= 0x030B0000
#define HS_FUTURE_CANCELLED(prefix) PyObject* prefix##_cancelled_exc;
#elif PY_VERSION_HEX >= 0x03090000
#define HS_FUTURE_CANCELLED(prefix) _PyErr_StackItem prefix##_cancelled_exc_state;
#else
#define HS_FUTURE_CANCELLED(prefix)
#endif
#if PY_VERSION_HEX >= 0x030A0000
#define HS_FUTURE_EXCEPTION_TB(prefix) PyObject* prefix##_exception_tb;
#else
#define HS_FUTURE_EXCEPTION_TB(prefix)
#endif
#if PY_VERSION_HEX >= 0x03090000
#define HS_FUTURE_CANCEL_MSG(prefix) PyObject* prefix##_cancel_msg;
#else
#define HS_FUTURE_CANCEL_MSG(prefix)
#endif
#define HS_FUTURE_HEAD(prefix)           \
  PyObject_HEAD PyObject* prefix##_loop; \
  PyObject* prefix##_callback0;          \
  PyObject* prefix##_context0;           \
  PyObject* prefix##_callbacks;          \
  PyObject* prefix##_exception;          \
  HS_FUTURE_EXCEPTION_TB(prefix)         \
  PyObject* prefix##_result;             \
  PyObject* prefix##_source_tb;          \
  HS_FUTURE_CANCEL_MSG(prefix)           \
  int prefix##_state;                    \
  int prefix##_log_tb;                   \
  int prefix##_blocking;                 \
  PyObject* dict;                        \
  PyObject* prefix##_weakreflist;        \
  HS_FUTURE_CANCELLED(prefix)
typedef struct {
  HS_FUTURE_HEAD(fut)
} hs_future;
typedef struct {
  HS_FUTURE_HEAD(task)
  PyObject* task_fut_waiter;
  PyObject* task_coro;
  PyObject* task_name;
  PyObject* task_context;
  int task_must_cancel;
  int task_log_destroy_pending;
#if PY_VERSION_HEX >= 0x030B0000
  int task_num_cancels_requested;
#endif
} hs_task;
#endif

/* Named as the pure-Python asyncio.Future and Task name their attributes. */
static const hs_field future_fields[] = {
    HS_FIELD(hs_future, fut_loop, "_loop", 1),
    HS_FIELD(hs_future, fut_callback0, "_callback0", 1),
    HS_FIELD(hs_future, fut_context0, "_context0", 1),
    HS_FIELD(hs_future, fut_callbacks, "_callbacks", 1),
    HS_FIELD(hs_future, fut_exception, "_exception", 1),
#if PY_VERSION_HEX >= 0x030A0000
    HS_FIELD(hs_future, fut_exception_tb, "_exception_tb", 1),
#endif
    HS_FIELD(hs_future, fut_result, "_result", 1),
    HS_FIELD(hs_future, fut_source_tb, "_source_traceback", 1),
#if PY_VERSION_HEX >= 0x03090000
    HS_FIELD(hs_future, fut_cancel_msg, "_cancel_message", 1),
#endif
#if PY_VERSION_HEX >= 0x030B0000
    HS_FIELD(hs_future, fut_cancelled_exc, "_cancelled_exc", 1),
#elif PY_VERSION_HEX >= 0x03090000
    HS_FIELD(hs_future, fut_cancelled_exc_state.exc_type, "_cancelled_exc_type", 1),
    HS_FIELD(hs_future, fut_cancelled_exc_state.exc_value, "_cancelled_exc", 1),
    HS_FIELD(hs_future, fut_cancelled_exc_state.exc_traceback, "_cancelled_exc_tb", 1),
#endif
#if PY_VERSION_HEX < 0x030D0000
    HS_FIELD(hs_future, dict, "__dict__", 0),
#endif
};

static const hs_field task_fields[] = {
    HS_FIELD(hs_task, task_fut_waiter, "_fut_waiter", 1),
    HS_FIELD(hs_task, task_coro, "_coro", 1),
    HS_FIELD(hs_task, task_name, "_name", 1),
    HS_FIELD(hs_task, task_context, "_context", 1),
};

typedef struct {
  PyObject_HEAD PyObject* sw_task;
  PyObject* sw_arg;
} hs_task_step;
typedef struct {
  PyObject_HEAD PyObject* ww_task;
} hs_task_wakeup;
typedef struct {
  PyObject_HEAD PyObject* future;
} hs_future_iter;

/* They stand for the bound methods task.__step and task.__wakeup of the pure-Python Task. */
static const hs_field task_step_fields[] = {
    HS_FIELD(hs_task_step, sw_task, "__self__", 0),
    HS_FIELD(hs_task_step, sw_arg, "arg", 0),
};
static const hs_field task_wakeup_fields[] = {
    HS_FIELD(hs_task_wakeup, ww_task, "__self__", 0),
};
static const hs_field future_iter_fields[] = {
    HS_FIELD(hs_future_iter, future, "future", 0),
};

int hs_ext_asyncio_helper(const char* tp_name) {
  if (tp_name == NULL) return 0;
  if (strcmp(tp_name, "TaskStepMethWrapper") == 0 ||
      strcmp(tp_name, "_asyncio.TaskStepMethWrapper") == 0) {
    return HS_EXT_TASK_STEP;
  }
  if (strcmp(tp_name, "TaskWakeupMethWrapper") == 0 ||
      strcmp(tp_name, "_asyncio.TaskWakeupMethWrapper") == 0) {
    return HS_EXT_TASK_WAKEUP;
  }
  if (strcmp(tp_name, "_asyncio.FutureIter") == 0) return HS_EXT_FUTURE_ITER;
  return 0;
}

static int copy_fields(const hs_field* fields, int n, PyTypeObject* type, size_t basicsize,
                       hs_field* out, int max) {
  if (type == NULL || type->tp_basicsize != (Py_ssize_t)basicsize) return 0;
  int written = 0;
  for (int i = 0; i < n && written < max; ++i) out[written++] = fields[i];
  return written;
}

#define HS_COPY(fields, layout) \
  copy_fields((fields), (int)(sizeof(fields) / sizeof((fields)[0])), type, sizeof(layout), out, max)

int hs_ext_fields(int kind, PyTypeObject* type, hs_field* out, int max) {
  switch (kind) {
    case HS_EXT_LRU_CACHE:
      return HS_COPY(lru_fields, hs_lru_cache);
    case HS_EXT_THREAD_LOCAL:
      return HS_COPY(local_fields, hs_local);
    case HS_EXT_FUTURE:
      return HS_COPY(future_fields, hs_future);
    case HS_EXT_TASK:
      return HS_COPY(task_fields, hs_task);
    case HS_EXT_TASK_STEP:
      return HS_COPY(task_step_fields, hs_task_step);
    case HS_EXT_TASK_WAKEUP:
      return HS_COPY(task_wakeup_fields, hs_task_wakeup);
    case HS_EXT_FUTURE_ITER:
      return HS_COPY(future_iter_fields, hs_future_iter);
    default:
      return 0;
  }
}

int hs_lru_next_link(PyObject* wrapper, void** link, PyObject** key, PyObject** result) {
  hs_lru_cache* lru = (hs_lru_cache*)wrapper;
  hs_lru_link* next = *link == NULL ? lru->root.next : ((hs_lru_link*)*link)->next;
  /* An unbounded or uncached wrapper never links its root: both pointers stay NULL. */
  if (next == NULL || next == &lru->root) return 0;
  *link = next;
  *key = next->key;
  *result = next->result;
  return 1;
}

Py_ssize_t hs_lru_cache_size(PyObject* wrapper) {
  PyObject* cache = ((hs_lru_cache*)wrapper)->cache;
  return cache != NULL && PyDict_Check(cache) ? PyDict_GET_SIZE(cache) : 0;
}

PyObject* hs_local_dicts(PyObject* local) {
#if PY_VERSION_HEX >= 0x030D0000
  return ((hs_local*)local)->localdicts;
#else
  return ((hs_local*)local)->dummies;
#endif
}

PyObject* hs_local_dummy_dict(PyObject* value) {
#if PY_VERSION_HEX >= 0x030D0000
  (void)value;
  return NULL;
#else
  PyTypeObject* tp = Py_TYPE(value);
  if (tp->tp_name == NULL || strcmp(tp->tp_name, "_thread._localdummy") != 0 ||
      tp->tp_basicsize != (Py_ssize_t)sizeof(hs_local_dummy)) {
    return NULL;
  }
  return ((hs_local_dummy*)value)->localdict;
#endif
}

PyObject* hs_thread_local_key(PyThreadState* ts) {
#if PY_VERSION_HEX >= 0x030D0000
  return ts->threading_local_key;
#else
  (void)ts;
  return NULL;
#endif
}

/* ---- numpy.ndarray ---- */

typedef struct {
  PyObject_HEAD char* data;
  int nd;
  Py_intptr_t* dimensions;
  Py_intptr_t* strides;
  PyObject* base;
  PyObject* descr;
  int flags;
  PyObject* weakreflist;
} hs_ndarray;

/* The start of PyArray_Descr, the same in numpy 1.x and 2.x. */
typedef struct {
  PyObject_HEAD PyTypeObject* typeobj;
  char kind;
  char type;
  char byteorder;
  char flags; /* numpy 2.x: a former field, the flags moved further on */
  int type_num;
} hs_descr_head;

#define HS_NPY_OWNDATA 0x0004
#define HS_NPY_OBJECT 17 /* type_num of dtype object, kind 'O' */

/* NPY_MAXDIMS is 32 in numpy 1.x and 64 in 2.x. */
#define HS_NPY_MAXDIMS 64
/* Array flags are bits 0-15; numpy keeps a few private ones in the top bits (WARN_ON_WRITE,
 * the "was a Python literal" marks). Anything else means the layout is not the expected one. */
#define HS_NPY_UNKNOWN_FLAGS 0x0FFF0000

int hs_ndarray_layout_ok(PyTypeObject* type) {
  return type != NULL && type->tp_basicsize >= (Py_ssize_t)sizeof(hs_ndarray);
}

int hs_ndarray_refs(PyObject* array, PyTypeObject* dtype_type, PyObject** base, PyObject** descr) {
  const hs_ndarray* a = (const hs_ndarray*)array;
  if (a->nd < 0 || a->nd > HS_NPY_MAXDIMS || (a->nd > 0 && a->dimensions == NULL) ||
      (a->flags & HS_NPY_UNKNOWN_FLAGS) != 0 || a->descr == NULL || dtype_type == NULL ||
      !PyObject_TypeCheck(a->descr, dtype_type)) {
    return 0;
  }
  *base = a->base;
  *descr = a->descr;
  return 1;
}

int hs_ndarray_object_items(PyObject* array, hs_ndarray_item_cb cb, void* arg) {
  const hs_ndarray* a = (const hs_ndarray*)array;
  const hs_descr_head* d = (const hs_descr_head*)a->descr;
  if (!(a->flags & HS_NPY_OWNDATA) || a->data == NULL || d->kind != 'O' ||
      d->type_num != HS_NPY_OBJECT || (a->nd > 0 && a->strides == NULL)) {
    return 0;
  }
  /* Element k of dimension i is at data + k * strides[i]: walk the index like an odometer. */
  Py_intptr_t index[HS_NPY_MAXDIMS];
  Py_ssize_t count = 1;
  for (int i = 0; i < a->nd; ++i) {
    if (a->dimensions[i] <= 0) return 1;
    if (count > PY_SSIZE_T_MAX / a->dimensions[i]) return 0;
    count *= a->dimensions[i];
    index[i] = 0;
  }
  for (Py_ssize_t flat = 0; flat < count; ++flat) {
    const char* p = a->data;
    for (int i = 0; i < a->nd; ++i) p += index[i] * a->strides[i];
    PyObject* item = *(PyObject* const*)p;
    if (item != NULL) cb(item, flat, arg);
    for (int i = a->nd - 1; i >= 0; --i) {
      if (++index[i] < a->dimensions[i]) break;
      index[i] = 0;
    }
  }
  return 1;
}

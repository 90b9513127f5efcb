/* The capture's only window into CPython internals. Everything here depends on private struct
 * layouts that change between minor versions, so it is written in C (the internal headers do
 * not compile as C++) and compiled once per interpreter against that interpreter's headers.
 * The C++ capture uses only these functions and the public C API. capture/DESIGN.md has the
 * version-by-version background. */
#ifndef HEAPSNAP_CAPTURE_CPYTHON_INTERNALS_H_
#define HEAPSNAP_CAPTURE_CPYTHON_INTERNALS_H_

#include <Python.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Calls cb for every object in the collector's lists: generations 0..2 (generation = 0..2) and
 * the permanent generation of gc.freeze() (generation = 3). Stops early if cb returns non-zero
 * and returns that value. The caller must hold the GIL and must not let Python code run. */
typedef int (*hs_tracked_cb)(PyObject* op, int generation, void* arg);
int hs_foreach_tracked(hs_tracked_cb cb, void* arg);

/* The same objects in the same order, one at a time: hs_tracked_begin, then hs_tracked_next
 * until it returns NULL. The lists must not change meanwhile (same conditions). */
typedef struct {
  int list; /* 0..2 generations, 3 the permanent one, 4 done */
  void* head;
  void* node;
} hs_tracked_cursor;
void hs_tracked_begin(hs_tracked_cursor* c);
PyObject* hs_tracked_next(hs_tracked_cursor* c, int* generation);

int hs_is_finalized(PyObject* op); /* tp_finalize already ran (PEP 442 bit); op must be GC */
int hs_is_immortal(PyObject* op);  /* 3.12+: immortal refcount; always 0 before 3.12 */

/* type.name along the MRO (borrowed, NULL if absent), like _PyType_Lookup but without
 * touching the method cache. name must be an exact str whose hash is already computed. */
PyObject* hs_type_lookup(PyTypeObject* type, PyObject* name);
/* dict[name] for a str name, borrowed or NULL, touching no cache and no refcount. */
PyObject* hs_dict_lookup(PyObject* dict, PyObject* name);
/* obj.name when it is an instance attribute (inline/managed values or __dict__; not a slot,
 * property or class attribute), borrowed or NULL, with no side effect. */
PyObject* hs_instance_attribute(PyObject* obj, PyObject* name);

/* A view of one frame's references, version-neutral. */
typedef struct {
  void* address;          /* the _PyInterpreterFrame (3.11+) or PyFrameObject (<= 3.10) */
  PyObject* code;         /* strong */
  PyObject* function;     /* strong, may be NULL (3.11+) */
  PyObject* globals;      /* borrowed */
  PyObject* builtins;     /* borrowed */
  PyObject* locals;       /* strong, may be NULL */
  PyObject* frame_object; /* strong, may be NULL (3.11+) */
  PyObject** localsplus;  /* local, cell and free variable slots; entries may be NULL */
  int nlocalsplus;
  PyObject** stack; /* valid evaluation-stack entries, NULL if none are visible */
  int stack_depth;
  int line;               /* line being executed, 0 if unknown */
  Py_ssize_t size;        /* bytes the frame occupies on the thread's data stack (3.11+) */
  PyObject* back;         /* frame objects only: f_back (strong), may be NULL */
  PyObject* trace;        /* frame objects only: f_trace (strong), may be NULL */
  int owned_by_generator; /* a running generator's frame: only its locals are reported */
} hs_frame_view;

/* Calls cb for each frame the thread is executing, innermost first (depth 0). Frames that live
 * in a generator are skipped (the generator's traversal reports them) and so are C-stack shims.
 * On 3.8–3.10 frame views describe PyFrameObjects, which are ordinary GC objects. */
typedef int (*hs_frame_cb)(const hs_frame_view* frame, int depth, void* arg);
int hs_foreach_thread_frame(PyThreadState* ts, hs_frame_cb cb, void* arg);
int hs_frames_are_objects(void); /* 1 on 3.8–3.10: running frames are PyFrameObjects */

/* The frame inside a frame object or a generator/coroutine, for labelling their references.
 * Returns 0 when there is no frame with readable locals. */
int hs_frame_object_view(PyObject* frame, hs_frame_view* out);
int hs_generator_frame_view(PyObject* gen, hs_frame_view* out);

/* Name of local slot i of a code object (borrowed str), or NULL. */
PyObject* hs_code_local_name(PyObject* code, int i);
/* Name of free variable i (the i-th cell of __closure__), or NULL. */
PyObject* hs_code_free_name(PyObject* code, int i);
/* Parameter name of positional argument i, or NULL. */
PyObject* hs_code_arg_name(PyObject* code, int i);
int hs_code_argcount(PyObject* code);
PyObject* hs_code_qualname(PyObject* code); /* co_qualname (3.11+) or co_name, borrowed */

/* Strong references a code object holds that its (absent) tp_traverse does not report. */
typedef struct {
  const char* name;
  PyObject* target;
} hs_named_ref;
int hs_code_refs(PyObject* code, hs_named_ref* out, int max);

/* Strong references of a generator, coroutine or async generator other than its frame's. */
int hs_generator_refs(PyObject* gen, hs_named_ref* out, int max);

/* Instance attributes stored without a dict object: 3.11/3.12 managed-dict values and 3.13
 * inline values. Returns the number of slots (0 if none); name_out/value_out get slot i. */
Py_ssize_t hs_inline_attribute_count(PyObject* obj);
int hs_inline_attribute(PyObject* obj, Py_ssize_t i, PyObject** name_out, PyObject** value_out);
/* The instance __dict__ of obj without creating one (NULL if it has none yet). */
PyObject* hs_instance_dict(PyObject* obj);
/* 3.13+: the dict's values live inside their owner object, which owns the references. */
int hs_dict_values_embedded(PyObject* dict);
/* 1 if every key of the dict is an exact str, known from the dict's keys object alone (3.11+
 * keep a per-table kind; before, only split tables are known to); 0 when unknown. */
int hs_dict_has_str_keys(PyObject* dict);

/* Collector state, read and written directly so that nothing is allocated. */
int hs_gc_set_enabled(int enabled); /* returns the previous state */
void hs_gc_info(long long thresholds[3], long long counts[3]);
PyObject* hs_gc_garbage(void); /* gc.garbage, borrowed */

/* sys.getsizeof(op) for the builtin types whose __sizeof__ heapsnap mirrors, without calling
 * it: kind is one of HS_SIZE_*. Returns -1 for an unknown kind. The pre-header is included. */
enum {
  HS_SIZE_DEFAULT = 0, /* object.__sizeof__: tp_basicsize + ob_size * tp_itemsize */
  HS_SIZE_LIST,
  HS_SIZE_DICT,
  HS_SIZE_SET,
  HS_SIZE_STR,
  HS_SIZE_INT,
  HS_SIZE_BYTEARRAY,
};
Py_ssize_t hs_sizeof(PyObject* op, int kind);

/* The value of an int (exact or subclass) if it fits in a long long (returns 1), else 0, and
 * its size in bits. Pure reads: callable without the GIL while the GIL holder does not run. */
int hs_long_value(PyObject* op, long long* out);
unsigned long long hs_long_bits(PyObject* op);

unsigned long hs_main_thread_id(void);
PyObject* hs_interp_sysdict(void);
PyObject* hs_interp_builtins(void);

/* Bytes sys.getsizeof adds before the object: GC header and the 3.11+ pre-header. */
Py_ssize_t hs_preheader_size(PyObject* op);

#ifdef __cplusplus
}
#endif

#endif /* HEAPSNAP_CAPTURE_CPYTHON_INTERNALS_H_ */

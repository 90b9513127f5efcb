/* Version-specific access to CPython internals; see cpython_internals.h. Compiled once per
 * interpreter with that interpreter's internal headers. capture/DESIGN.md ("CPython internals,
 * version by version") explains what each part relies on and why. Nothing here allocates
 * Python objects or runs Python code. */
#include "cpython_internal_headers.h"

#define HS_FROM_GC(g) ((PyObject*)(((PyGC_Head*)(g)) + 1))

#if PY_VERSION_HEX >= 0x03090000
#define HS_GC_NEXT(g) ((PyGC_Head*)(g)->_gc_next)
#else
#define HS_GC_NEXT(g) _PyGCHead_NEXT(g)
#endif

/* Appends a named reference to out[*n] if there is room and the target is set. */
static void add_ref(hs_named_ref* out, int* n, int max, const char* name, void* target) {
  if (target != NULL && *n < max) {
    out[*n].name = name;
    out[*n].target = (PyObject*)target;
    (*n)++;
  }
}
#define HS_ADD(label, field) add_ref(out, &n, max, (label), (void*)(field))

static struct _gc_runtime_state* hs_gc_state(void) {
#if PY_VERSION_HEX >= 0x03090000
  return &PyInterpreterState_Get()->gc;
#else
  return &_PyRuntime.gc;
#endif
}

static int walk_list(PyGC_Head* head, int generation, hs_tracked_cb cb, void* arg) {
  for (PyGC_Head* g = HS_GC_NEXT(head); g != head; g = HS_GC_NEXT(g)) {
    int r = cb(HS_FROM_GC(g), generation, arg);
    if (r != 0) return r;
  }
  return 0;
}

int hs_foreach_tracked(hs_tracked_cb cb, void* arg) {
  struct _gc_runtime_state* gc = hs_gc_state();
  for (int i = 0; i < NUM_GENERATIONS; i++) {
    int r = walk_list(&gc->generations[i].head, i, cb, arg);
    if (r != 0) return r;
  }
  return walk_list(&gc->permanent_generation.head, 3, cb, arg);
}

static PyGC_Head* list_head(int list) {
  struct _gc_runtime_state* gc = hs_gc_state();
  return list < NUM_GENERATIONS ? &gc->generations[list].head : &gc->permanent_generation.head;
}

void hs_tracked_begin(hs_tracked_cursor* c) {
  c->list = 0;
  c->head = list_head(0);
  c->node = c->head;
}

PyObject* hs_tracked_next(hs_tracked_cursor* c, int* generation) {
  while (c->list <= NUM_GENERATIONS) {
    PyGC_Head* next = HS_GC_NEXT((PyGC_Head*)c->node);
    if (next != (PyGC_Head*)c->head) {
      c->node = next;
      *generation = c->list;
      return HS_FROM_GC(next);
    }
    if (++c->list <= NUM_GENERATIONS) {
      c->head = list_head(c->list);
      c->node = c->head;
    }
  }
  return NULL;
}

int hs_is_finalized(PyObject* op) {
  /* The bit in the collector's header, read directly (PyObject_GC_IsFinalized is an exported
   * function: a call per object). The caller has checked that op is a GC object. */
  return _PyGC_FINALIZED(op) != 0;
}

/* The dict of a type: 3.12+ keeps those of static builtin types in the interpreter state. */
static PyObject* type_dict(PyTypeObject* type) {
#if PY_VERSION_HEX >= 0x030C0000
  return _PyType_GetDict(type); /* borrowed */
#else
  return type->tp_dict;
#endif
}

PyObject* hs_type_lookup(PyTypeObject* type, PyObject* name) {
  /* _PyType_Lookup would fill the method cache, which holds references to names (and on 3.8
   * starts out full of None): a lookup mid-walk would change refcounts, and could free a name
   * the cache held last. This walks the MRO and reads each dict instead. Type dicts have only
   * str keys, so no __eq__ runs. */
  Py_hash_t hash = ((PyASCIIObject*)name)->hash;
  if (hash == -1) return NULL; /* the caller hashes name before the walk */
  PyObject* mro = type->tp_mro;
  if (mro != NULL && PyTuple_Check(mro)) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(mro); ++i) {
      PyObject* base = PyTuple_GET_ITEM(mro, i);
      if (!PyType_Check(base)) continue;
      PyObject* dict = type_dict((PyTypeObject*)base);
      PyObject* value = dict != NULL ? _PyDict_GetItem_KnownHash(dict, name, hash) : NULL;
      if (value != NULL) return value;
    }
    return NULL;
  }
  for (PyTypeObject* base = type; base != NULL; base = base->tp_base) {
    PyObject* dict = type_dict(base);
    PyObject* value = dict != NULL ? _PyDict_GetItem_KnownHash(dict, name, hash) : NULL;
    if (value != NULL) return value;
  }
  return NULL;
}

PyObject* hs_dict_lookup(PyObject* dict, PyObject* name) {
  Py_hash_t hash = PyObject_Hash(name); /* cached in the str after the first time */
  if (hash == -1) {
    PyErr_Clear();
    return NULL;
  }
  PyObject* value = _PyDict_GetItem_KnownHash(dict, name, hash);
  if (value == NULL) PyErr_Clear();
  return value;
}

int hs_is_immortal(PyObject* op) {
#if PY_VERSION_HEX >= 0x030C0000
  return _Py_IsImmortal(op);
#elif PY_VERSION_HEX >= 0x030B0000
  /* 3.11's statically allocated objects (deep-frozen code and its constants, small ints,
   * _Py_ID strings) start at _PyObject_IMMORTAL_REFCNT = 999999999 and are never freed; their
   * references to other objects were never counted. Ordinary objects come nowhere near. */
  return Py_REFCNT(op) >= 999999999 / 2;
#else
  (void)op;
  return 0;
#endif
}

int hs_frames_are_objects(void) { return PY_VERSION_HEX < 0x030B0000; }

/* ---- code objects ---------------------------------------------------------------------- */

PyObject* hs_code_local_name(PyObject* code, int i) {
  PyCodeObject* co = (PyCodeObject*)code;
#if PY_VERSION_HEX >= 0x030B0000
  if (i < 0 || i >= PyTuple_GET_SIZE(co->co_localsplusnames)) return NULL;
  return PyTuple_GET_ITEM(co->co_localsplusnames, i);
#else
  Py_ssize_t nvar = PyTuple_GET_SIZE(co->co_varnames);
  Py_ssize_t ncell = PyTuple_GET_SIZE(co->co_cellvars);
  Py_ssize_t nfree = PyTuple_GET_SIZE(co->co_freevars);
  if (i < 0) return NULL;
  if (i < nvar) return PyTuple_GET_ITEM(co->co_varnames, i);
  if (i < nvar + ncell) return PyTuple_GET_ITEM(co->co_cellvars, i - nvar);
  if (i < nvar + ncell + nfree) return PyTuple_GET_ITEM(co->co_freevars, i - nvar - ncell);
  return NULL;
#endif
}

PyObject* hs_code_free_name(PyObject* code, int i) {
  PyCodeObject* co = (PyCodeObject*)code;
#if PY_VERSION_HEX >= 0x030B0000
  int first = co->co_nlocalsplus - co->co_nfreevars;
  if (i < 0 || i >= co->co_nfreevars) return NULL;
  return PyTuple_GET_ITEM(co->co_localsplusnames, first + i);
#else
  if (i < 0 || i >= PyTuple_GET_SIZE(co->co_freevars)) return NULL;
  return PyTuple_GET_ITEM(co->co_freevars, i);
#endif
}

int hs_code_argcount(PyObject* code) { return ((PyCodeObject*)code)->co_argcount; }

PyObject* hs_code_arg_name(PyObject* code, int i) {
  PyCodeObject* co = (PyCodeObject*)code;
  if (i < 0 || i >= co->co_argcount + co->co_kwonlyargcount) return NULL;
  return hs_code_local_name(code, i);
}

PyObject* hs_code_qualname(PyObject* code) {
#if PY_VERSION_HEX >= 0x030B0000
  return ((PyCodeObject*)code)->co_qualname;
#else
  return ((PyCodeObject*)code)->co_name;
#endif
}

int hs_code_refs(PyObject* code, hs_named_ref* out, int max) {
  PyCodeObject* co = (PyCodeObject*)code;
  int n = 0;
  HS_ADD("co_consts", co->co_consts);
  HS_ADD("co_names", co->co_names);
  HS_ADD("co_filename", co->co_filename);
  HS_ADD("co_name", co->co_name);
#if PY_VERSION_HEX >= 0x030B0000
  HS_ADD("co_qualname", co->co_qualname);
  HS_ADD("co_localsplusnames", co->co_localsplusnames);
  HS_ADD("co_localspluskinds", co->co_localspluskinds);
  HS_ADD("co_linetable", co->co_linetable);
  HS_ADD("co_exceptiontable", co->co_exceptiontable);
#else
  HS_ADD("co_code", co->co_code);
  HS_ADD("co_varnames", co->co_varnames);
  HS_ADD("co_freevars", co->co_freevars);
  HS_ADD("co_cellvars", co->co_cellvars);
#if PY_VERSION_HEX >= 0x030A0000
  HS_ADD("co_linetable", co->co_linetable);
#else
  HS_ADD("co_lnotab", co->co_lnotab);
#endif
#endif
#if PY_VERSION_HEX >= 0x030C0000
  if (co->_co_cached != NULL) {
    HS_ADD("co_code", co->_co_cached->_co_code);
    HS_ADD("co_varnames", co->_co_cached->_co_varnames);
    HS_ADD("co_cellvars", co->_co_cached->_co_cellvars);
    HS_ADD("co_freevars", co->_co_cached->_co_freevars);
  }
#elif PY_VERSION_HEX >= 0x030B0000
  HS_ADD("co_code", co->_co_code);
#endif
  return n;
}

/* ---- frames ---------------------------------------------------------------------------- */

#if PY_VERSION_HEX >= 0x030B0000
static PyObject* iframe_code(_PyInterpreterFrame* f) {
#if PY_VERSION_HEX >= 0x030D0000
  return f->f_executable;
#else
  return (PyObject*)f->f_code;
#endif
}

static PyObject* iframe_function(_PyInterpreterFrame* f) {
#if PY_VERSION_HEX >= 0x030C0000
  return f->f_funcobj;
#else
  return (PyObject*)f->f_func;
#endif
}

/* Fills a view of an interpreter frame. `visible_only` limits locals and stack to what
 * _PyFrame_Traverse reports ([0, stacktop)), which is what a generator or frame object's
 * tp_traverse visits; otherwise all local slots are given (a running thread-owned frame). */
static int fill_iframe_view(_PyInterpreterFrame* f, int visible_only, hs_frame_view* v) {
  PyObject* code = iframe_code(f);
  if (code == NULL || !PyCode_Check(code)) return 0;
  PyCodeObject* co = (PyCodeObject*)code;
  memset(v, 0, sizeof(*v));
  v->address = f;
  v->code = code;
  v->function = iframe_function(f);
  v->globals = f->f_globals;
  v->builtins = f->f_builtins;
  v->locals = f->f_locals;
  v->frame_object = (PyObject*)f->frame_obj;
  v->localsplus = f->localsplus;
  int nlocals = co->co_nlocalsplus;
  int top = f->stacktop;
  if (visible_only) {
    v->nlocalsplus = top < 0 ? 0 : (top < nlocals ? top : nlocals);
  } else {
    v->nlocalsplus = nlocals;
  }
  if (top > nlocals) {
    v->stack = f->localsplus + nlocals;
    v->stack_depth = top - nlocals;
  }
  int lasti = _PyInterpreterFrame_LASTI(f);
  v->line =
      lasti < 0 ? co->co_firstlineno : PyCode_Addr2Line(co, lasti * (int)sizeof(_Py_CODEUNIT));
#if PY_VERSION_HEX >= 0x030C0000
  v->size = (Py_ssize_t)co->co_framesize * (Py_ssize_t)sizeof(PyObject*);
#else
  v->size = (Py_ssize_t)(co->co_nlocalsplus + co->co_stacksize + FRAME_SPECIALS_SIZE) *
            (Py_ssize_t)sizeof(PyObject*);
#endif
  return 1;
}
#else
static int fill_frameobject_view(PyFrameObject* f, hs_frame_view* v) {
  PyCodeObject* co = f->f_code;
  memset(v, 0, sizeof(*v));
  v->address = f;
  v->code = (PyObject*)co;
  v->globals = f->f_globals;
  v->builtins = f->f_builtins;
  v->locals = f->f_locals;
  v->localsplus = f->f_localsplus;
  v->nlocalsplus =
      (int)(co->co_nlocals + PyTuple_GET_SIZE(co->co_cellvars) + PyTuple_GET_SIZE(co->co_freevars));
#if PY_VERSION_HEX >= 0x030A0000
  if (f->f_stackdepth > 0) {
    v->stack = f->f_valuestack;
    v->stack_depth = f->f_stackdepth;
  }
#else
  if (f->f_stacktop != NULL) {
    v->stack = f->f_valuestack;
    v->stack_depth = (int)(f->f_stacktop - f->f_valuestack);
  }
#endif
  v->line = PyFrame_GetLineNumber(f);
  v->size = 0;
  v->back = (PyObject*)f->f_back;
  v->trace = f->f_trace;
  return 1;
}
#endif

int hs_foreach_thread_frame(PyThreadState* ts, hs_frame_cb cb, void* arg) {
  int depth = 0;
#if PY_VERSION_HEX >= 0x030B0000
#if PY_VERSION_HEX >= 0x030D0000
  _PyInterpreterFrame* f = ts->current_frame;
#else
  _PyInterpreterFrame* f = ts->cframe != NULL ? ts->cframe->current_frame : NULL;
#endif
  for (; f != NULL; f = f->previous) {
#if PY_VERSION_HEX >= 0x030C0000
    if (f->owner == FRAME_OWNED_BY_CSTACK) continue;
#endif
    hs_frame_view v;
    if (f->owner == FRAME_OWNED_BY_GENERATOR) {
      /* A running generator's frame: its traversal reports the specials but, with stacktop
       * at -1, not the locals. Report only the locals here. */
      if (f->stacktop >= 0) continue;
      if (!fill_iframe_view(f, 0, &v)) continue;
      v.owned_by_generator = 1;
      v.function = NULL;
      v.locals = NULL;
      v.frame_object = NULL;
      v.code = NULL;
      v.globals = NULL;
      v.builtins = NULL;
      v.size = 0;
    } else if (!fill_iframe_view(f, 0, &v)) {
      continue;
    }
    int r = cb(&v, depth++, arg);
    if (r != 0) return r;
  }
#else
  for (PyFrameObject* f = ts->frame; f != NULL; f = f->f_back) {
    hs_frame_view v;
    fill_frameobject_view(f, &v);
    int r = cb(&v, depth++, arg);
    if (r != 0) return r;
  }
#endif
  return 0;
}

int hs_frame_object_view(PyObject* frame, hs_frame_view* out) {
#if PY_VERSION_HEX >= 0x030B0000
  PyFrameObject* f = (PyFrameObject*)frame;
  if (f->f_frame == NULL || f->f_frame->owner != FRAME_OWNED_BY_FRAME_OBJECT) {
    /* A running frame's object reports only its own fields; the running frame itself is
     * reported by the thread walk. */
    memset(out, 0, sizeof(*out));
    out->address = f;
    out->back = (PyObject*)f->f_back;
    out->trace = f->f_trace;
    return 1;
  }
  if (!fill_iframe_view(f->f_frame, 1, out)) return 0;
  out->back = (PyObject*)f->f_back;
  out->trace = f->f_trace;
  return 1;
#else
  return fill_frameobject_view((PyFrameObject*)frame, out);
#endif
}

int hs_generator_frame_view(PyObject* gen, hs_frame_view* out) {
#if PY_VERSION_HEX >= 0x030B0000
  PyGenObject* g = (PyGenObject*)gen;
  if (g->gi_frame_state >= FRAME_CLEARED) return 0;
  return fill_iframe_view((_PyInterpreterFrame*)g->gi_iframe, 1, out);
#else
  (void)gen;
  (void)out;
  return 0; /* gi_frame is a frame object with its own traversal */
#endif
}

int hs_generator_refs(PyObject* gen, hs_named_ref* out, int max) {
  PyGenObject* g = (PyGenObject*)gen;
  int n = 0;
  HS_ADD("__name__", g->gi_name);
  HS_ADD("__qualname__", g->gi_qualname);
#if PY_VERSION_HEX >= 0x030B0000
  HS_ADD("exc_value", g->gi_exc_state.exc_value);
  if (g->gi_frame_state < FRAME_CLEARED) {
    _PyInterpreterFrame* f = (_PyInterpreterFrame*)g->gi_iframe;
    HS_ADD("f_code", iframe_code(f));
    HS_ADD("f_func", iframe_function(f));
    HS_ADD("f_locals", f->f_locals);
    HS_ADD("frame_obj", f->frame_obj);
  }
#else
  HS_ADD("gi_frame", g->gi_frame);
  HS_ADD("gi_code", g->gi_code);
  HS_ADD("exc_type", g->gi_exc_state.exc_type);
  HS_ADD("exc_value", g->gi_exc_state.exc_value);
  HS_ADD("exc_traceback", g->gi_exc_state.exc_traceback);
#endif
  return n;
}

/* ---- instance attributes --------------------------------------------------------------- */

#if PY_VERSION_HEX >= 0x030B0000
static PyDictValues* inline_values(PyObject* obj) {
  PyTypeObject* tp = Py_TYPE(obj);
  if (!(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT)) return NULL;
#if PY_VERSION_HEX >= 0x030D0000
  if (!(tp->tp_flags & Py_TPFLAGS_INLINE_VALUES)) return NULL;
  PyDictValues* values = _PyObject_InlineValues(obj);
  return values->valid ? values : NULL;
#elif PY_VERSION_HEX >= 0x030C0000
  PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
  return _PyDictOrValues_IsValues(dorv) ? _PyDictOrValues_GetValues(dorv) : NULL;
#else
  return *_PyObject_ValuesPointer(obj);
#endif
}
#endif

Py_ssize_t hs_inline_attribute_count(PyObject* obj) {
#if PY_VERSION_HEX >= 0x030B0000
  if (inline_values(obj) == NULL) return 0;
  PyDictKeysObject* keys = ((PyHeapTypeObject*)Py_TYPE(obj))->ht_cached_keys;
  return keys == NULL ? 0 : keys->dk_nentries;
#else
  (void)obj;
  return 0;
#endif
}

int hs_inline_attribute(PyObject* obj, Py_ssize_t i, PyObject** name_out, PyObject** value_out) {
#if PY_VERSION_HEX >= 0x030B0000
  PyDictValues* values = inline_values(obj);
  PyDictKeysObject* keys = ((PyHeapTypeObject*)Py_TYPE(obj))->ht_cached_keys;
  if (values == NULL || keys == NULL || i < 0 || i >= keys->dk_nentries) return 0;
  *name_out = DK_UNICODE_ENTRIES(keys)[i].me_key;
  *value_out = values->values[i];
  return 1;
#else
  (void)obj;
  (void)i;
  (void)name_out;
  (void)value_out;
  return 0;
#endif
}

PyObject* hs_instance_dict(PyObject* obj) {
  PyTypeObject* tp = Py_TYPE(obj);
#if PY_VERSION_HEX >= 0x030B0000
  if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
#if PY_VERSION_HEX >= 0x030D0000
    return (PyObject*)_PyObject_ManagedDictPointer(obj)->dict;
#elif PY_VERSION_HEX >= 0x030C0000
    PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
    return _PyDictOrValues_IsValues(dorv) ? NULL : _PyDictOrValues_GetDict(dorv);
#else
    return *_PyObject_ManagedDictPointer(obj);
#endif
  }
  Py_ssize_t offset = tp->tp_dictoffset;
  if (offset <= 0) return NULL; /* negative offsets (var-sized bases) are left to labels */
  return *(PyObject**)((char*)obj + offset);
#else
  if (tp->tp_dictoffset == 0) return NULL;
  PyObject** ptr = _PyObject_GetDictPtr(obj);
  return ptr == NULL ? NULL : *ptr;
#endif
}

PyObject* hs_instance_attribute(PyObject* obj, PyObject* name) {
  Py_ssize_t n = hs_inline_attribute_count(obj);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* key = NULL;
    PyObject* value = NULL;
    /* Attribute names are interned, as is name: identity is equality here. */
    if (hs_inline_attribute(obj, i, &key, &value) && key == name) return value;
  }
  PyObject* dict = hs_instance_dict(obj);
  return dict != NULL && PyDict_Check(dict) ? hs_dict_lookup(dict, name) : NULL;
}

int hs_dict_has_str_keys(PyObject* dict) {
#if PY_VERSION_HEX >= 0x030B0000
  PyDictObject* d = (PyDictObject*)dict;
  return d->ma_keys != NULL && DK_IS_UNICODE(d->ma_keys);
#else
  /* A split table (an instance __dict__ sharing its class's keys) only ever holds str keys;
   * for combined tables the kind is not recorded. */
  return ((PyDictObject*)dict)->ma_values != NULL;
#endif
}

int hs_dict_values_embedded(PyObject* dict) {
#if PY_VERSION_HEX >= 0x030D0000
  PyDictObject* d = (PyDictObject*)dict;
  return d->ma_values != NULL && d->ma_values->embedded;
#else
  (void)dict;
  return 0;
#endif
}

/* ---- interpreter ----------------------------------------------------------------------- */

unsigned long hs_main_thread_id(void) { return _PyRuntime.main_thread; }

PyObject* hs_interp_sysdict(void) { return PyThreadState_GET()->interp->sysdict; }
PyObject* hs_interp_builtins(void) { return PyThreadState_GET()->interp->builtins; }

Py_ssize_t hs_preheader_size(PyObject* op) {
  /* sys.getsizeof adds no pre-header for static types. */
  if (PyType_Check(op) && !(((PyTypeObject*)op)->tp_flags & Py_TPFLAGS_HEAPTYPE)) return 0;
#if PY_VERSION_HEX >= 0x030B0000
  return (Py_ssize_t)_PyType_PreHeaderSize(Py_TYPE(op));
#else
  return PyObject_IS_GC(op) ? (Py_ssize_t)sizeof(PyGC_Head) : 0;
#endif
}

/* ---- collector state ------------------------------------------------------------------- */

int hs_gc_set_enabled(int enabled) {
#if PY_VERSION_HEX >= 0x030A0000
  return enabled ? PyGC_Enable() : PyGC_Disable();
#else
  struct _gc_runtime_state* gc = hs_gc_state();
  int previous = gc->enabled;
  gc->enabled = enabled;
  return previous;
#endif
}

void hs_gc_info(long long thresholds[3], long long counts[3]) {
  struct _gc_runtime_state* gc = hs_gc_state();
  for (int i = 0; i < 3; i++) {
    thresholds[i] = gc->generations[i].threshold;
    counts[i] = gc->generations[i].count;
  }
}

PyObject* hs_gc_garbage(void) { return hs_gc_state()->garbage; }

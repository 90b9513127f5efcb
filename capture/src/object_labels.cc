#include "object_labels.h"

// clang-format off
#include <frameobject.h>
// clang-format on

#include <utility>

#include "edge_placement.h"
#include "extension_types.h"

namespace heapsnap::capture {

Status ObjectLabels::Prepare(const ThreadNames& threads) {
  if (!name_name_.Init("__name__")) return Internal("cannot create the capture's attribute names");
  ReadThreadLocals(threads);
  return Status::Ok();
}

void ObjectLabels::NoteFunction(PyObject* op) {
  auto* f = reinterpret_cast<PyFunctionObject*>(op);
  if (f->func_code == nullptr) return;
  if (f->func_defaults != nullptr) {
    containers_.Insert(f->func_defaults, {f->func_code, ContainerRole::kDefaults});
  }
  if (f->func_closure != nullptr) {
    containers_.Insert(f->func_closure, {f->func_code, ContainerRole::kClosure});
  }
  if (f->func_kwdefaults != nullptr) {
    containers_.Insert(f->func_kwdefaults, {f->func_code, ContainerRole::kKwdefaults});
  }
}

void ObjectLabels::ReadThreadLocals(const ThreadNames& threads) {
  PyTypeObject* local = types_->extensions().local;
  if (local == nullptr) return;
  PyInterpreterState* interp = PyThreadState_GET()->interp;
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts != nullptr;
       ts = PyThreadState_Next(ts)) {
    const auto index = static_cast<uint32_t>(local_thread_labels_.size());
    bool any = false;
    // 3.13: one key per thread, the same in every local's dicts.
    if (PyObject* key = hs_thread_local_key(ts)) {
      local_owner_.Insert(key, index);
      any = true;
    }
    // 3.8-3.12: the thread state's dict holds a dummy per local, which knows the local's dict
    // for this thread.
    if (ts->dict != nullptr && PyDict_Check(ts->dict)) {
      Py_ssize_t pos = 0;
      PyObject* key = nullptr;
      PyObject* value = nullptr;
      while (PyDict_Next(ts->dict, &pos, &key, &value)) {
        if (PyObject* dict = hs_local_dummy_dict(value)) {
          local_owner_.Insert(dict, index);
          any = true;
        }
      }
    }
    if (any) {
      local_thread_labels_.push_back(
          "<thread '" + threads.Name(static_cast<unsigned long>(ts->thread_id)) + "'>");
    }
  }
  if (local_owner_.size() > 0) local_getattro_ = local->tp_getattro;
}

void ObjectLabels::NoteThreadLocal(PyObject* op) {
  if (!PyType_IsSubtype(Py_TYPE(op), types_->extensions().local)) return;
  PyObject* dicts = hs_local_dicts(op);
  if (dicts != nullptr && PyDict_CheckExact(dicts)) {
    containers_.Insert(dicts, {nullptr, ContainerRole::kThreadLocalDicts});
  }
}

void ObjectLabels::BeforeTraversal(PyObject* op, const TypeEntry& type) {
  switch (type.labeler) {
    case Labeler::kDict:
      LabelDict(op);
      break;
    case Labeler::kList:
      LabelList(op);
      break;
    case Labeler::kTuple:
      LabelTuple(op);
      break;
    case Labeler::kSet:
    case Labeler::kDeque:
      break;  // every traversed edge is a member / index: AfterTraversal
    case Labeler::kFunction:
      LabelFunction(op);
      break;
    case Labeler::kCell:
      AddField(PyCell_GET(op), "cell_contents");
      break;
    case Labeler::kMethod:
      AddField(PyMethod_GET_FUNCTION(op), "__func__");
      AddField(PyMethod_GET_SELF(op), "__self__");
      break;
    case Labeler::kCFunction: {
      auto* c = reinterpret_cast<PyCFunctionObject*>(op);
      AddField(c->m_self, "__self__");
      AddField(c->m_module, "__module__");
      break;
    }
    case Labeler::kType:
      LabelType(op);
      break;
    case Labeler::kModule:
      AddField(PyModule_GetDict(op), "__dict__");
      break;
    case Labeler::kCode: {
      hs_named_ref refs[16];
      AddRefs(refs, hs_code_refs(op, refs, 16));
      break;
    }
    case Labeler::kFrame: {
      hs_frame_view v;
      if (hs_frame_object_view(op, &v)) LabelFrameView(v, true);
      break;
    }
    case Labeler::kGenerator:
      LabelGenerator(op);
      break;
    case Labeler::kWeakref:
      LabelWeakref(op);
      break;
    case Labeler::kException:
      LabelException(op);
      break;
    case Labeler::kTraceback: {
      auto* tb = reinterpret_cast<PyTracebackObject*>(op);
      AddField(tb->tb_next, "tb_next");
      AddField(tb->tb_frame, "tb_frame");
      break;
    }
    case Labeler::kStaticOrClassMethod:
      LabelStaticOrClassMethod(op);
      break;
    case Labeler::kProperty:
      LabelProperty(op);
      break;
    case Labeler::kDescriptor:
      LabelDescriptor(op);
      break;
    case Labeler::kNone:
      break;
  }
  if (type.special == Special::kNdarray) LabelNdarray(op);
  // An lru_cache wrapper is labelled after its traversal (its fields include __dict__).
  if (type.heap && type.labeler != Labeler::kType && type.special != Special::kLruCache) {
    LabelInstance(op, type);
  }
}

void ObjectLabels::AfterTraversal(PyObject* op, const TypeEntry& type) {
  if (type.special == Special::kLruCache) {
    LabelLruCache(op, type);
  } else if (!type.members.empty()) {
    LabelMembers(op, type);
  }
  if (type.labeler == Labeler::kSet || type.labeler == Labeler::kDeque) {
    LabelSetOrDequeMembers(type);
  }
}

void ObjectLabels::LabelInstance(PyObject* op, const TypeEntry& type) {
  for (const auto& [offset, name] : type.slots) {
    PyObject* v = *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(op) + offset);
    AddLabel(v, LabelKind::kAttribute, AddressOf(name), LabelValueKind::kLiteral);
  }
  Py_ssize_t n = hs_inline_attribute_count(op);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* name = nullptr;
    PyObject* value = nullptr;
    if (hs_inline_attribute(op, i, &name, &value) && value != nullptr) {
      AddNamed(value, LabelKind::kAttribute, name);
    }
  }
  AddField(hs_instance_dict(op), "__dict__");
  // Instances of heap types own a reference to their type. For non-GC instances gc cannot see
  // it, and a container may report it for them (3.11's lru_cache visits each link's type), so
  // it is left to the refcount to show.
  if (IsGc(op)) AddField(Py_TYPE(op), "__class__");
}

void ObjectLabels::LabelDict(PyObject* op) {
  const ContainerNames* names = containers_.Find(op);
  if (names != nullptr && names->role == ContainerRole::kThreadLocalDicts) {
    LabelThreadLocalDicts(op);
    return;
  }
  const bool kwdefaults = names != nullptr && names->role == ContainerRole::kKwdefaults;
  // 3.13: values stored inline in their owner object belong to the owner.
  const EdgeKind value_kind = hs_dict_values_embedded(op) ? EdgeKind::kBorrowed : EdgeKind::kStrong;
  const EdgeKind key_kind = DictKeyEdgeKind(IsSplitTable(op));
  // Known from the keys table alone (3.11+): every key is a str.
  const bool str_keys = key_refs_ && hs_dict_has_str_keys(op);
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    if (kwdefaults && PyUnicode_Check(key)) {
      AddLabel(value, LabelKind::kParameterDefault, AddressOf(key), LabelValueKind::kName,
               value_kind);
      AddLabel(key, LabelKind::kDictKeyObject, AddressOf(key),
               key_refs_ ? LabelValueKind::kKeyStr : LabelValueKind::kKey, key_kind);
      continue;
    }
    // Value first, then key: the order dict_traverse visits them in (when it visits keys).
    // The keys themselves are not read here: in a big dict each would be a cache miss (they
    // are written as objects of their own, often long before). A str key's text is its own
    // value preview; the emitter looks at the others.
    const LabelValueKind key_value = str_keys ? LabelValueKind::kKeyStr : LabelValueKind::kKey;
    AddLabel(value, LabelKind::kDictKey, AddressOf(key), key_value, value_kind);
    AddLabel(key, LabelKind::kDictKeyObject, AddressOf(key), key_value, key_kind);
  }
}

void ObjectLabels::LabelThreadLocalDicts(PyObject* op) {
  // A threading.local's per-thread dicts, keyed by a weakref to each thread's dummy object
  // (3.8-3.12) or by each thread's key object (3.13): the key says nothing, the thread does.
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    const uint32_t* thread = local_owner_.Find(value);
    if (thread == nullptr) thread = local_owner_.Find(key);
    if (thread != nullptr) {
      AddLabel(value, LabelKind::kDictKey, AddressOf(local_thread_labels_[*thread].c_str()),
               LabelValueKind::kLiteral);
    } else {
      AddLabel(value, LabelKind::kDictKey, AddressOf(key), LabelValueKind::kKey);
    }
    AddLabel(key, LabelKind::kDictKeyObject, AddressOf(key), LabelValueKind::kKey);
  }
}

void ObjectLabels::LabelList(PyObject* op) {
  // Last item first: list_traverse and tuple_traverse visit them in that order, and the
  // labels pair with the traversal fastest in the same order (LabelMatcher::Match).
  auto* l = reinterpret_cast<PyListObject*>(op);
  for (Py_ssize_t i = Py_SIZE(op) - 1; i >= 0; --i) {
    AddLabel(l->ob_item[i], LabelKind::kIndex, static_cast<uint64_t>(i));
  }
}

void ObjectLabels::LabelTuple(PyObject* op) {
  const ContainerNames* names = containers_.Find(op);
  const Py_ssize_t n = PyTuple_GET_SIZE(op);
  for (Py_ssize_t i = n - 1; i >= 0; --i) {  // last first, as LabelList
    PyObject* item = PyTuple_GET_ITEM(op, i);
    PyObject* name = nullptr;
    if (names != nullptr && names->role == ContainerRole::kDefaults) {
      // __defaults__ fill the last len(defaults) positional parameters.
      int argcount = hs_code_argcount(names->code);
      name = hs_code_arg_name(names->code, argcount - static_cast<int>(n) + static_cast<int>(i));
      if (name != nullptr) AddNamed(item, LabelKind::kParameterDefault, name);
    } else if (names != nullptr && names->role == ContainerRole::kClosure) {
      name = hs_code_free_name(names->code, static_cast<int>(i));
      if (name != nullptr) AddNamed(item, LabelKind::kClosureVariable, name);
    }
    if (name == nullptr) AddLabel(item, LabelKind::kIndex, static_cast<uint64_t>(i));
  }
}

void ObjectLabels::LabelFunction(PyObject* op) {
  auto* f = reinterpret_cast<PyFunctionObject*>(op);
  AddField(f->func_code, "__code__");
  AddField(f->func_globals, "__globals__");
  AddField(f->func_module, "__module__");
  AddField(f->func_defaults, "__defaults__");
  AddField(f->func_kwdefaults, "__kwdefaults__");
  AddField(f->func_doc, "__doc__");
  AddField(f->func_name, "__name__");
  AddField(f->func_dict, "__dict__");
  AddField(f->func_closure, "__closure__");
  AddField(f->func_annotations, "__annotations__");
  AddField(f->func_qualname, "__qualname__");
#if PY_VERSION_HEX >= 0x030A0000
  AddField(f->func_builtins, "__builtins__");
#endif
#if PY_VERSION_HEX >= 0x030C0000
  AddField(f->func_typeparams, "__type_params__");
#endif
}

void ObjectLabels::LabelFrameView(const hs_frame_view& v, bool include_specials) {
  if (include_specials) {
    AddField(v.back, "f_back");
    AddField(v.trace, "f_trace");
    AddField(v.code, "f_code");
    AddField(v.function, "f_func");
    AddField(v.globals, "f_globals",
             hs_frames_are_objects() ? EdgeKind::kStrong : EdgeKind::kBorrowed);
    AddField(v.builtins, "f_builtins",
             hs_frames_are_objects() ? EdgeKind::kStrong : EdgeKind::kBorrowed);
    AddField(v.locals, "f_locals");
    AddField(v.frame_object, "frame_obj");
  }
  for (int i = 0; i < v.nlocalsplus; ++i) {
    PyObject* value = v.localsplus[i];
    if (value == nullptr) continue;
    PyObject* name = v.code != nullptr ? hs_code_local_name(v.code, i) : nullptr;
    if (name != nullptr) {
      AddNamed(value, LabelKind::kLocalVariable, name);
    } else {
      AddLabel(value, LabelKind::kStackSlot, static_cast<uint64_t>(i));
    }
  }
  for (int i = 0; i < v.stack_depth; ++i) {
    AddLabel(v.stack[i], LabelKind::kStackSlot, static_cast<uint64_t>(i));
  }
}

void ObjectLabels::LabelType(PyObject* op) {
  auto* tp = reinterpret_cast<PyTypeObject*>(op);
  if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
    // Static types are not traversed, but own their dict, MRO and bases (3.12+ keeps those of
    // builtin types in the interpreter state and leaves the fields NULL).
    AddField(tp->tp_dict, "__dict__");
    AddField(tp->tp_mro, "__mro__");
    AddField(tp->tp_bases, "__bases__");
    // A static type's tp_base is set in C and was never counted (PyType_Ready counts only
    // the object base it fills in itself).
    AddField(tp->tp_base, "__base__", EdgeKind::kBorrowed);
    return;
  }
  auto* ht = reinterpret_cast<PyHeapTypeObject*>(tp);
  AddField(tp->tp_dict, "__dict__");
  AddField(tp->tp_mro, "__mro__");
  AddField(tp->tp_bases, "__bases__");
  AddField(tp->tp_base, "__base__");
  AddField(ht->ht_name, "__name__");
  AddField(ht->ht_qualname, "__qualname__");
  AddField(ht->ht_slots, "__slots__");
#if PY_VERSION_HEX >= 0x03090000
  AddField(ht->ht_module, "__module_object__");
#endif
  AddField(tp->tp_subclasses, "__subclasses__");
  // A class holds a reference to its metaclass only when the metaclass is a heap type.
  if (Py_TYPE(op)->tp_flags & Py_TPFLAGS_HEAPTYPE) AddField(Py_TYPE(op), "__class__");
}

void ObjectLabels::LabelGenerator(PyObject* op) {
  hs_named_ref refs[16];
  AddRefs(refs, hs_generator_refs(op, refs, 16));
  hs_frame_view v;
  if (hs_generator_frame_view(op, &v)) LabelFrameView(v, false);
}

void ObjectLabels::LabelWeakref(PyObject* op) {
  auto* wr = reinterpret_cast<PyWeakReference*>(op);
  AddField(wr->wr_callback, "__callback__");
  if (wr->wr_object != nullptr && wr->wr_object != Py_None) {
    AddField(wr->wr_object, "__referent__", EdgeKind::kWeak);
  }
}

void ObjectLabels::LabelException(PyObject* op) {
  auto* e = reinterpret_cast<PyBaseExceptionObject*>(op);
  AddField(e->dict, "__dict__");
  AddField(e->args, "args");
  AddField(e->traceback, "__traceback__");
  AddField(e->context, "__context__");
  AddField(e->cause, "__cause__");
#if PY_VERSION_HEX >= 0x030B0000
  AddField(e->notes, "__notes__");
#endif
}

void ObjectLabels::LabelStaticOrClassMethod(PyObject* op) {
  // staticmethod and classmethod share this layout: PyObject_HEAD, sm_callable, sm_dict.
  struct Layout {
    PyObject_HEAD PyObject* callable;
    PyObject* dict;
  };
  auto* sm = reinterpret_cast<Layout*>(op);
  AddField(sm->callable, "__func__");
  AddField(sm->dict, "__dict__");
}

void ObjectLabels::LabelProperty(PyObject* op) {
  struct Layout {
    PyObject_HEAD PyObject* get;
    PyObject* set;
    PyObject* del;
    PyObject* doc;
  };
  auto* p = reinterpret_cast<Layout*>(op);
  AddField(p->get, "fget");
  AddField(p->set, "fset");
  AddField(p->del, "fdel");
  AddField(p->doc, "__doc__");
}

void ObjectLabels::LabelDescriptor(PyObject* op) {
  auto* d = reinterpret_cast<PyDescrObject*>(op);
  AddField(d->d_type, "__objclass__");
  AddField(d->d_name, "__name__");
  AddField(d->d_qualname, "__qualname__");
}

void ObjectLabels::LabelNdarray(PyObject* op) {
  // numpy arrays are not tracked and have no tp_traverse: their base (the array or buffer a
  // view's data belongs to) and dtype are owned references the collector never sees.
  PyObject* base = nullptr;
  PyObject* descr = nullptr;
  if (!hs_ndarray_refs(op, types_->extensions().dtype, &base, &descr)) return;
  AddLabel(base, LabelKind::kAttribute, AddressOf("base"), LabelValueKind::kLiteral);
  AddLabel(descr, LabelKind::kAttribute, AddressOf("dtype"), LabelValueKind::kLiteral);
  // An object array that owns its data owns its elements (a pandas column of strs).
  hs_ndarray_object_items(
      op,
      [](PyObject* item, Py_ssize_t index, void* arg) {
        static_cast<ObjectLabels*>(arg)->AddLabel(item, LabelKind::kIndex,
                                                  static_cast<uint64_t>(index));
      },
      this);
}

void ObjectLabels::LabelMembers(PyObject* op, const TypeEntry& type) {
  if (batch_->traversed.size() == traversed_start_) return;
  for (const MemberField& m : type.members) {
    PyObject* v = *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(op) + m.offset);
    if (v != nullptr) ClaimTraversed(v, m.kind, m.name);
  }
}

void ObjectLabels::ClaimTraversed(const void* target, LabelKind kind, const char* name) {
  // Names a reference to target that tp_traverse reported and no label of the object names
  // yet; never one it did not report (a C field may be borrowed, or reported by someone else).
  const Batch& b = *batch_;
  size_t reported = 0;
  for (size_t k = traversed_start_; k < b.traversed.size(); ++k) {
    reported += b.traversed[k] == target ? 1 : 0;
  }
  if (reported == 0) return;
  size_t named = 0;
  for (size_t i = label_start_; i < b.labels.size() && named < reported; ++i) {
    named += b.labels[i].target == target ? 1 : 0;
  }
  if (named < reported) AddLabel(target, kind, AddressOf(name), LabelValueKind::kLiteral);
}

void ObjectLabels::LabelLruCache(PyObject* op, const TypeEntry& type) {
  // After tp_traverse, in its order, so that even a cache of a million entries needs no
  // matching: the wrapper's type (3.10+), each link's key, result (and, 3.10+, type), then
  // the wrapper's fields. A bounded cache keeps each entry in a link (not tracked, no
  // tp_traverse) that the cache dict maps the key to, and the wrapper reports the links'
  // references: they read as the entries of a mapping, wrapper[key] being the result. The
  // links own them, not the wrapper: should one not be reported, it is borrowed.
  const Batch& b = *batch_;
  const size_t end = b.traversed.size();
  void* link = nullptr;
  PyObject* key = nullptr;
  PyObject* result = nullptr;
  Py_ssize_t budget = hs_lru_cache_size(op);  // a list longer than its dict is not followed
  bool in_link = budget-- > 0 && hs_lru_next_link(op, &link, &key, &result);
  int step = 0;        // of the current link: 0 key, 1 result, 2 its type
  uint64_t named = 0;  // the members already naming a reference
  auto next_link = [&] {
    step = 0;
    in_link = budget-- > 0 && hs_lru_next_link(op, &link, &key, &result);
  };
  for (size_t k = traversed_start_; k < end; ++k) {
    const void* t = b.traversed[k];
    if (in_link && step == 0 && t == key) {
      AddLabel(key, LabelKind::kDictKeyObject, AddressOf(key), LabelValueKind::kKey,
               EdgeKind::kBorrowed);
      step = 1;
      continue;
    }
    if (in_link && step == 1 && t == result) {
      AddLabel(result, LabelKind::kDictKey, AddressOf(key), LabelValueKind::kKey,
               EdgeKind::kBorrowed);
      if (PY_VERSION_HEX >= 0x030A0000) {
        step = 2;
      } else {
        next_link();
      }
      continue;
    }
    if (in_link && step == 2 && t == Py_TYPE(link)) {
      AddField(t, "lru_list_elem_type", EdgeKind::kBorrowed);
      next_link();
      continue;
    }
    if (t == Py_TYPE(op)) {
      AddField(t, "__class__");
      continue;
    }
    for (size_t m = 0; m < type.members.size() && m < 64; ++m) {
      const MemberField& f = type.members[m];
      if ((named >> m & 1) == 0 &&
          *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(op) + f.offset) == t) {
        named |= uint64_t{1} << m;
        AddLabel(t, f.kind, AddressOf(f.name), LabelValueKind::kLiteral);
        break;
      }
    }
  }
}

void ObjectLabels::LabelSetOrDequeMembers(const TypeEntry& type) {
  // Members of a set have no order or name; a deque's traversal is in index order. Their
  // traversed edges are labelled directly, after any instance attributes matched.
  const Batch& b = *batch_;
  const size_t labels_end = b.labels.size();
  const bool set = type.labeler == Labeler::kSet;
  uint64_t k = 0;
  for (size_t j = traversed_start_; j < b.traversed.size(); ++j) {
    const void* t = b.traversed[j];
    bool is_attr = false;
    for (size_t i = label_start_; i < labels_end && !is_attr; ++i) {
      is_attr = b.labels[i].target == t;
    }
    if (is_attr) continue;
    AddLabel(t, set ? LabelKind::kSetMember : LabelKind::kIndex, set ? 0 : k);
    ++k;
  }
}

void ObjectLabels::Name(PyObject* op, const TypeEntry& type) {
  switch (type.labeler) {
    case Labeler::kFunction:
      NameFunction(op);
      break;
    case Labeler::kCode: {
      auto* co = reinterpret_cast<PyCodeObject*>(op);
      batch_->SetName(hs_code_qualname(op), co->co_filename,
                      static_cast<uint32_t>(co->co_firstlineno));
      break;
    }
    case Labeler::kType: {
      // Every class gets a type record, instances or not: its name is the record's qualname.
      const TypeEntry& self = types_->TypeOf(reinterpret_cast<PyTypeObject*>(op), &batch_->types);
      batch_->SetName(nullptr, nullptr, 0, self.qualname);
      break;
    }
    case Labeler::kModule:
      NameModule(op);
      break;
    case Labeler::kFrame: {
      hs_frame_view v;
      if (hs_frame_object_view(op, &v) && v.code != nullptr) {
        auto* co = reinterpret_cast<PyCodeObject*>(v.code);
        batch_->SetName(hs_code_qualname(v.code), co->co_filename, static_cast<uint32_t>(v.line));
      }
      break;
    }
    default:
      break;
  }
}

void ObjectLabels::NameFunction(PyObject* op) {
  auto* f = reinterpret_cast<PyFunctionObject*>(op);
  PyObject* code = f->func_code;
  if (code == nullptr || !PyCode_Check(code)) return;
  auto* co = reinterpret_cast<PyCodeObject*>(code);
  std::string qualname = Utf8(f->func_qualname);
  std::string module = f->func_module != nullptr ? Utf8(f->func_module) : std::string();
  if (!module.empty()) qualname = module + "." + qualname;
  batch_->SetName(nullptr, co->co_filename, static_cast<uint32_t>(co->co_firstlineno),
                  std::move(qualname));
}

void ObjectLabels::NameModule(PyObject* op) {
  PyObject* dict = PyModule_GetDict(op);
  PyObject* name = dict != nullptr ? PyDict_GetItem(dict, name_name_.get()) : nullptr;
  if (name != nullptr && PyUnicode_Check(name)) batch_->SetName(name, nullptr, 0);
}

}  // namespace heapsnap::capture

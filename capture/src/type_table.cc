#include "type_table.h"

// clang-format off
#include <frameobject.h>
#include <structmember.h>
// clang-format on

#include <cstring>

#include "extension_types.h"
#include "object_address.h"

namespace heapsnap::capture {
namespace {

PyCFunction CFunctionOf(PyObject* descr) {
  if (descr == nullptr || Py_TYPE(descr) != &PyMethodDescr_Type) return nullptr;
  PyMethodDef* def = reinterpret_cast<PyMethodDescrObject*>(descr)->d_method;
  return def != nullptr ? def->ml_meth : nullptr;
}

// sys.modules[module].<attr> if the module is imported and that is a type, else null. Names
// are compared, not looked up: no str is made and nothing is imported.
PyTypeObject* ImportedType(const char* module, const char* attr) {
  PyObject* modules = PyImport_GetModuleDict();  // borrowed
  if (modules == nullptr || !PyDict_Check(modules)) return nullptr;
  auto find = [](PyObject* dict, const char* name) -> PyObject* {
    Py_ssize_t pos = 0;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    while (PyDict_Next(dict, &pos, &key, &value)) {
      if (PyUnicode_Check(key) && PyUnicode_CompareWithASCIIString(key, name) == 0) return value;
    }
    return nullptr;
  };
  PyObject* m = find(modules, module);
  PyObject* dict = m != nullptr && PyModule_Check(m) ? PyModule_GetDict(m) : nullptr;
  PyObject* type = dict != nullptr ? find(dict, attr) : nullptr;
  return type != nullptr && PyType_Check(type) ? reinterpret_cast<PyTypeObject*>(type) : nullptr;
}

}  // namespace

Status TypeTable::Prepare() {
  if (!sizeof_name_.Init("__sizeof__") || !module_name_.Init("__module__")) {
    return Internal("cannot create the capture's attribute names");
  }
  PyTypeObject* by_kind[] = {&PyBaseObject_Type, &PyList_Type, &PyDict_Type,     &PySet_Type,
                             &PyUnicode_Type,    &PyLong_Type, &PyByteArray_Type};
  for (int k = HS_SIZE_DEFAULT; k <= HS_SIZE_BYTEARRAY; ++k) {
    sizeof_by_kind_[k] = CFunctionOf(hs_type_lookup(by_kind[k], sizeof_name_.get()));
  }
  FindExtensionTypes();
  return Status::Ok();
}

void TypeTable::FindExtensionTypes() {
  // Each only if its layout is the one extension_types.c knows for this interpreter.
  hs_field fields[16];
  auto known = [&](const char* module, const char* attr, int kind) -> PyTypeObject* {
    PyTypeObject* tp = ImportedType(module, attr);
    return tp != nullptr && hs_ext_fields(kind, tp, fields, 16) > 0 ? tp : nullptr;
  };
  ext_.lru_cache = known("_functools", "_lru_cache_wrapper", HS_EXT_LRU_CACHE);
  ext_.local = known("_thread", "_local", HS_EXT_THREAD_LOCAL);
  ext_.future = known("_asyncio", "Future", HS_EXT_FUTURE);
  ext_.task = ext_.future != nullptr ? known("_asyncio", "Task", HS_EXT_TASK) : nullptr;
  ext_.ndarray = ImportedType("numpy", "ndarray");
  ext_.dtype = ImportedType("numpy", "dtype");
  if (ext_.ndarray == nullptr || ext_.dtype == nullptr || !hs_ndarray_layout_ok(ext_.ndarray)) {
    ext_.ndarray = nullptr;
  }
}

TypeId TypeTable::AddSynthetic(PendingType type, std::vector<PendingType>* new_types) {
  new_types->push_back(std::move(type));
  return TypeId(++type_count_);
}

TypeEntry& TypeTable::Add(PyTypeObject* tp, std::vector<PendingType>* new_types) {
  auto entry = std::make_unique<TypeEntry>();
  entry->heap = (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) != 0;
  PendingType pending = Describe(tp, entry.get());
  entry->id = TypeId(++type_count_);
  entry->qualname = pending.qualname;
  new_types->push_back(std::move(pending));
  entry->preview = PreviewOf(tp);
  FindSize(tp, entry.get());
  entry->labeler = LabelerOf(tp);
  if (entry->heap) BuildSlots(tp, entry.get());
  // C fields name what tp_traverse reports. Types with a labeller of their own (functions,
  // code, frames, ...) already name every field; lists, tuples and sets name their items.
  if (entry->labeler == Labeler::kNone || entry->labeler == Labeler::kException ||
      entry->labeler == Labeler::kDict) {
    BuildMembers(tp, entry.get());
  }
  if (ext_.lru_cache != nullptr && PyType_IsSubtype(tp, ext_.lru_cache)) {
    entry->special = Special::kLruCache;
  } else if (ext_.ndarray != nullptr && PyType_IsSubtype(tp, ext_.ndarray) &&
             hs_ndarray_layout_ok(tp)) {
    entry->special = Special::kNdarray;
  }
  index_.Insert(tp, static_cast<uint32_t>(types_.size()));
  types_.push_back(std::move(entry));
  return *types_.back();
}

PendingType TypeTable::Describe(PyTypeObject* tp, TypeEntry* entry) const {
  PendingType t;
  TypeRecord& record = t.record;
  record.address = AddressOf(tp);
  record.basicsize = static_cast<uint64_t>(tp->tp_basicsize);
  record.itemsize = static_cast<uint64_t>(tp->tp_itemsize);
  if (entry->heap) record.flags |= type_flags::kHeap;
  if (tp->tp_flags & Py_TPFLAGS_HAVE_GC) record.flags |= type_flags::kGc;
  if (tp->tp_finalize != nullptr) {
    record.flags |= type_flags::kHasFinalizer;
    entry->object_flags |= object_flags::kHasFinalizer;
  }
  if (tp->tp_del != nullptr) {
    record.flags |= type_flags::kHasLegacyDel;
    entry->object_flags |= object_flags::kHasLegacyDel;
  }
  if (entry->heap) {
    // The qualname a class statement gives, after its module unless that is builtins.
    auto* ht = reinterpret_cast<PyHeapTypeObject*>(tp);
    t.name = Utf8(ht->ht_name);
    std::string module;
    if (tp->tp_dict != nullptr) {
      PyObject* m = PyDict_GetItem(tp->tp_dict, module_name_.get());  // borrowed, no allocation
      if (m != nullptr && PyUnicode_Check(m)) module = Utf8(m);
    }
    t.qualname = Utf8(ht->ht_qualname);
    if (!module.empty() && module != "builtins") t.qualname = module + "." + t.qualname;
  } else {
    // A static type's tp_name is "module.Name" (or just "Name" for builtins).
    const char* tp_name = tp->tp_name != nullptr ? tp->tp_name : "?";
    const char* dot = std::strrchr(tp_name, '.');
    t.name = dot != nullptr ? dot + 1 : tp_name;
    t.qualname = tp_name;
  }
  return t;
}

Preview TypeTable::PreviewOf(PyTypeObject* tp) const {
  if (!values_) return Preview::kNone;
  if (tp == &PyBool_Type) return Preview::kBool;
  if (PyType_IsSubtype(tp, &PyUnicode_Type)) return Preview::kStr;
  if (PyType_IsSubtype(tp, &PyBytes_Type)) return Preview::kBytes;
  if (PyType_IsSubtype(tp, &PyLong_Type)) return Preview::kInt;
  if (PyType_IsSubtype(tp, &PyFloat_Type)) return Preview::kFloat;
  return Preview::kNone;
}

void TypeTable::FindSize(PyTypeObject* tp, TypeEntry* entry) const {
  // Mirror the builtin __sizeof__ implementations; defer other C ones until after the walk;
  // never run a Python-level __sizeof__ (that would run user code inside the program).
  PyObject* descr = hs_type_lookup(tp, sizeof_name_.get());
  entry->size_kind = HS_SIZE_DEFAULT;
  if (descr == nullptr || Py_TYPE(descr) != &PyMethodDescr_Type) return;
  PyCFunction meth = CFunctionOf(descr);
  bool mirrored = meth == sizeof_by_kind_[HS_SIZE_DEFAULT];
  for (int k = HS_SIZE_LIST; k <= HS_SIZE_BYTEARRAY && !mirrored; ++k) {
    if (meth == sizeof_by_kind_[k]) {
      entry->size_kind = k;
      mirrored = true;
    }
  }
  if (!mirrored) entry->deferred_sizeof = descr;
}

Labeler TypeTable::LabelerOf(PyTypeObject* tp) {
  if (PyType_IsSubtype(tp, &PyDict_Type)) return Labeler::kDict;
  if (PyType_IsSubtype(tp, &PyList_Type)) return Labeler::kList;
  if (PyType_IsSubtype(tp, &PyTuple_Type)) return Labeler::kTuple;
  if (PyType_IsSubtype(tp, &PySet_Type) || PyType_IsSubtype(tp, &PyFrozenSet_Type)) {
    return Labeler::kSet;
  }
  if (tp == &PyFunction_Type) return Labeler::kFunction;
  if (tp == &PyCell_Type) return Labeler::kCell;
  if (tp == &PyMethod_Type) return Labeler::kMethod;
  if (PyType_IsSubtype(tp, &PyCFunction_Type)) return Labeler::kCFunction;
  if (PyType_IsSubtype(tp, &PyType_Type)) return Labeler::kType;
  if (PyType_IsSubtype(tp, &PyModule_Type)) return Labeler::kModule;
  if (tp == &PyCode_Type) return Labeler::kCode;
  if (tp == &PyFrame_Type) return Labeler::kFrame;
  if (tp == &PyGen_Type || tp == &PyCoro_Type || tp == &PyAsyncGen_Type) {
    return Labeler::kGenerator;
  }
  if (PyType_IsSubtype(tp, &_PyWeakref_RefType) || tp == &_PyWeakref_ProxyType ||
      tp == &_PyWeakref_CallableProxyType) {
    return Labeler::kWeakref;
  }
  if (PyType_IsSubtype(tp, reinterpret_cast<PyTypeObject*>(PyExc_BaseException))) {
    return Labeler::kException;
  }
  if (tp == &PyTraceBack_Type) return Labeler::kTraceback;
  if (tp == &PyStaticMethod_Type || tp == &PyClassMethod_Type) {
    return Labeler::kStaticOrClassMethod;
  }
  if (tp == &PyProperty_Type) return Labeler::kProperty;
  if (tp == &PyMethodDescr_Type || tp == &PyClassMethodDescr_Type || tp == &PyGetSetDescr_Type ||
      tp == &PyMemberDescr_Type || tp == &PyWrapperDescr_Type) {
    return Labeler::kDescriptor;
  }
  if (tp->tp_name != nullptr && std::strcmp(tp->tp_name, "collections.deque") == 0) {
    return Labeler::kDeque;
  }
  return Labeler::kNone;
}

void TypeTable::BuildSlots(PyTypeObject* tp, TypeEntry* entry) {
  // traverse_slots() visits the T_OBJECT_EX members of each heap type in the tp_base chain.
  for (PyTypeObject* base = tp; base != nullptr; base = base->tp_base) {
    if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE)) continue;
    Py_ssize_t n = Py_SIZE(base);
    // PyHeapType_GET_MEMBERS (private from 3.11): the members follow the type object.
    auto* members =
        reinterpret_cast<PyMemberDef*>(reinterpret_cast<char*>(base) + Py_TYPE(base)->tp_basicsize);
    for (Py_ssize_t i = 0; i < n; ++i) {
      const PyMemberDef& m = members[i];
      if (m.name == nullptr) break;
      if ((m.type == T_OBJECT_EX || m.type == T_OBJECT) && !(m.flags & READONLY)) {
        entry->slots.emplace_back(m.offset, m.name);
      }
    }
  }
}

void TypeTable::BuildMembers(PyTypeObject* tp, TypeEntry* entry) const {
  // The layout bases only (tp_base): their fields are at the same offsets in every instance;
  // the other bases of the MRO add no fields.
  for (PyTypeObject* base = tp; base != nullptr; base = base->tp_base) {
    const bool heap = (base->tp_flags & Py_TPFLAGS_HEAPTYPE) != 0;
    for (const PyMemberDef* m = base->tp_members; m != nullptr && m->name != nullptr; ++m) {
      if (m->type != T_OBJECT && m->type != T_OBJECT_EX) continue;
      // A heap type's writable object members are its __slots__ (BuildSlots).
      if (heap && !(m->flags & READONLY)) continue;
      if (m->offset < static_cast<Py_ssize_t>(sizeof(PyObject)) ||
          m->offset + static_cast<Py_ssize_t>(sizeof(PyObject*)) > tp->tp_basicsize) {
        continue;
      }
      entry->members.push_back({m->offset, m->name, LabelKind::kAttribute});
    }
    const int kind = ExtensionKind(base, tp);
    if (kind == 0) continue;
    hs_field fields[16];
    const int n = hs_ext_fields(kind, base, fields, 16);
    for (int i = 0; i < n; ++i) {
      entry->members.push_back({fields[i].offset, fields[i].name,
                                fields[i].attribute ? LabelKind::kAttribute : LabelKind::kField});
    }
  }
}

int TypeTable::ExtensionKind(PyTypeObject* base, PyTypeObject* tp) const {
  if (base == ext_.lru_cache) return HS_EXT_LRU_CACHE;
  if (base == ext_.local) return HS_EXT_THREAD_LOCAL;
  if (base == ext_.task) return HS_EXT_TASK;
  if (base == ext_.future) return HS_EXT_FUTURE;
  if (ext_.future != nullptr && base == tp) {
    // Not in _asyncio's namespace: known by name (a wrong name could only misname a
    // reference: fields are compared with what tp_traverse reported, never followed).
    return hs_ext_asyncio_helper(base->tp_name);
  }
  return 0;
}

}  // namespace heapsnap::capture

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <frameobject.h>
#include <structmember.h>
// clang-format on
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "batch.h"
#include "emitter.h"
#include "extension_types.h"
#include "heapsnap/format/writer.h"
#include "ptr_map.h"
#include "pytext.h"
#include "walker.h"

namespace heapsnap::capture {
namespace {

// PyObject_IS_GC, inlined: it runs for every object.
inline bool IsGc(PyObject* op) {
  PyTypeObject* tp = Py_TYPE(op);
  return (tp->tp_flags & Py_TPFLAGS_HAVE_GC) != 0 && (tp->tp_is_gc == nullptr || tp->tp_is_gc(op));
}

// The set of objects already written or queued, as one bit per 16 bytes of address space in
// 64 KiB regions. Every edge tests it, so it must be cheap: objects allocated together sit
// together in the bitmap (good locality, unlike a hash), and because every tracked object is
// entered before the walk, an edge never has to look at its target to know whether it is new.
// 16 bytes is the finest grain that needs no alignment: every object is at least 16 bytes
// (ob_refcnt and ob_type) and objects do not overlap, so two objects' addresses differ by 16
// or more and never share a bit, even for 8-aligned static objects.
class AddressSet {
 public:
  // Adds addr; true if it was not there before.
  __attribute__((always_inline)) bool Insert(const void* p) {
    const auto addr = reinterpret_cast<uintptr_t>(p);
    uint64_t* bits = Region(addr >> kRegionBits);
    const size_t bit = (addr & kRegionMask) >> 4;
    const uint64_t mask = uint64_t{1} << (bit & 63);
    uint64_t& word = bits[bit >> 6];
    if (word & mask) return false;
    word |= mask;
    return true;
  }

 private:
  static constexpr int kRegionBits = 16;
  static constexpr uintptr_t kRegionMask = (uintptr_t{1} << kRegionBits) - 1;
  static constexpr size_t kWordsPerRegion = (size_t{1} << kRegionBits) / 16 / 64;
  struct Cached {
    uintptr_t region = 0;
    uint64_t* bits = nullptr;
  };

  __attribute__((always_inline)) uint64_t* Region(uintptr_t region) {
    Cached& c = cache_[region & 1023];
    if (c.bits != nullptr && c.region == region) return c.bits;
    return RegionSlow(region, &c);
  }

  __attribute__((noinline)) uint64_t* RegionSlow(uintptr_t region, Cached* cached) {
    Cached& c = *cached;
    // PtrMap keys must be non-zero: store region + 1.
    uint32_t* index = index_.Find(reinterpret_cast<const void*>(region + 1));
    if (index == nullptr) {
      storage_.push_back(std::make_unique<uint64_t[]>(kWordsPerRegion));  // zeroed
      index = index_
                  .Insert(reinterpret_cast<const void*>(region + 1),
                          static_cast<uint32_t>(storage_.size() - 1))
                  .first;
    }
    c.region = region;
    c.bits = storage_[*index].get();
    return c.bits;
  }

  PtrMap<uint32_t> index_;
  std::vector<std::unique_ptr<uint64_t[]>> storage_;
  Cached cache_[1024];
};

PyCFunction CFunctionOf(PyObject* descr) {
  if (descr == nullptr || Py_TYPE(descr) != &PyMethodDescr_Type) return nullptr;
  PyMethodDef* def = reinterpret_cast<PyMethodDescrObject*>(descr)->d_method;
  return def != nullptr ? def->ml_meth : nullptr;
}

uint64_t Addr(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

// A C-level object field: the PyObject* at `offset` of every instance (tp_members, or the
// layouts heapsnap knows, extension_types.h), named when tp_traverse reports what it points at.
struct MemberField {
  Py_ssize_t offset;
  const char* name;
  LabelKind kind;  // kAttribute (a Python attribute) or kField
};

// Extension types labelled by their own code, beyond their fields.
enum class Special : uint8_t {
  kNone,
  kLruCache,  // after tp_traverse, in its order: the links' keys and results, the fields
  kNdarray,   // numpy: base and dtype, which no tp_traverse reports
};

struct TypeEntry {
  TypeId id;
  uint32_t object_flags = 0;  // flags every instance inherits from its type
  int size_kind = HS_SIZE_DEFAULT;
  PyObject* deferred_sizeof = nullptr;  // a C __sizeof__ to run after the walk
  Labeler labeler = Labeler::kNone;
  Preview preview = Preview::kNone;  // kNone for every type when values are off
  bool heap = false;
  std::string qualname;                                   // as written in the type record
  std::vector<std::pair<Py_ssize_t, const char*>> slots;  // __slots__ of the whole MRO
  std::vector<MemberField> members;  // C fields of the layout bases (LabelMembers)
  Special special = Special::kNone;
};

// A root as the walk finds it; its label is interned once the emitter is done.
struct PendingRoot {
  RootKind kind;
  uint64_t address;
  std::string label;
  uint64_t thread_id;
  uint32_t depth;
};

class Walker {
 public:
  Walker(SnapshotWriter* writer, const CaptureConfig& config) : w_(writer), config_(config) {}
  ~Walker() {
    emitter_.reset();  // its thread may read objects: stop it first
    for (PyObject* name : owned_names_) Py_DECREF(name);
  }
  Walker(const Walker&) = delete;
  Walker& operator=(const Walker&) = delete;

  Status Run(CaptureStats* stats);

 private:
  TypeEntry& TypeOf(PyTypeObject* tp);
  void BuildSlots(PyTypeObject* tp, TypeEntry* entry);
  void BuildMembers(PyTypeObject* tp, TypeEntry* entry);
  // Before the walk: the extension types heapsnap knows the layout of, from the modules
  // already imported, and which thread each thread-local dict belongs to.
  void FindExtensionTypes();
  void ReadThreadLocals();
  // A threading.local (found before the walk): its dict of per-thread dicts is labelled by
  // thread (LabelDict).
  void NoteThreadLocal(PyObject* op);

  // Makes sure op is written: tracked objects are all entered before the walk; anything else
  // is queued the first time an edge reaches it, and described soon after (see Run).
  void Register(PyObject* op) {
    if (op != nullptr && seen_.Insert(op)) {
      // Described soon (see Run): fetch its header and, for objects that straddle two cache
      // lines, the value after it (a float's double, a str's state and first characters).
      __builtin_prefetch(op);
      __builtin_prefetch(reinterpret_cast<const char*>(op) + 40);
      pending_.push_back(op);
    }
  }
  // Notes the functions' defaults and closures, so that their items get parameter and
  // variable names.
  void NoteFunction(PyObject* op) {
    auto* f = reinterpret_cast<PyFunctionObject*>(op);
    if (f->func_code == nullptr) return;
    if (f->func_defaults != nullptr)
      function_containers_.Insert(f->func_defaults, {f->func_code, 1});
    if (f->func_closure != nullptr) function_containers_.Insert(f->func_closure, {f->func_code, 2});
    if (f->func_kwdefaults != nullptr) {
      function_containers_.Insert(f->func_kwdefaults, {f->func_code, 3});
    }
  }

  // Hands the batch to the emitter and starts the next. When the emitter has batches waiting
  // (it is the slower of the two), the walk takes over formatting numbers for a while.
  void SubmitBatch() {
    emitter_->SubmitBatch();
    batch_ = &emitter_->batch();
    format_numbers_ = emitter_->backlog() >= 2;
  }

  // The object being described: BeginObject, labels and traversal, EndObject.
  void BeginObject(const ObjectRecord& record) {
    if (batch_->Full()) {
      SubmitBatch();
    }
    batch_->objects.push_back({record, 0, 0, RawObject::kMatch});
    label_start_ = batch_->labels.size();
    traversed_start_ = batch_->traversed.size();
    ++object_count_;
  }
  void EndObject();
  void Prematch();
  bool StreamLargeDict(PyObject* op);
  // Appends a final edge of the current object (RawObject::kPrematched), continuing it in a
  // new batch when this one is full.
  void EmitFinal(const RawLabel& edge, const ObjectRecord& record) {
    if (batch_->labels.size() >= kLargeObject) {
      SubmitBatch();
      batch_->objects.push_back({record, 0, 0, RawObject::kContinued});
    }
    batch_->labels.push_back(edge);
    ++batch_->objects.back().labels;
  }
  void SetName(PyObject* name, PyObject* file, uint32_t line, std::string text = std::string()) {
    batch_->names.push_back(
        {static_cast<uint32_t>(batch_->objects.size() - 1), name, file, line, std::move(text)});
  }

  void AddLabel(PyObject* target, LabelKind kind, uint64_t value,
                LabelValue value_kind = LabelValue::kPlain,
                EdgeKind kind_if_not_traversed = EdgeKind::kStrong) {
    if (target != nullptr) {
      batch_->labels.push_back({target, value, kind, value_kind, kind_if_not_traversed});
    }
  }
  void AddNamed(PyObject* target, LabelKind kind, PyObject* name) {
    AddLabel(target, kind, Addr(name), LabelValue::kName);
  }
  void AddField(PyObject* target, const char* name,
                EdgeKind kind_if_not_traversed = EdgeKind::kStrong) {
    AddLabel(target, LabelKind::kField, Addr(name), LabelValue::kLiteral, kind_if_not_traversed);
  }

  void ProcessObject(PyObject* op, uint32_t generation);
  void LabelMembers(PyObject* op, const TypeEntry& type);
  void ClaimTraversed(PyObject* target, LabelKind kind, const char* name);
  void LabelLruCache(PyObject* op, const TypeEntry& type);
  void LabelThreadLocalDicts(PyObject* op);
  void LabelNdarray(PyObject* op);
  void CollectLabels(PyObject* op, const TypeEntry& type);
  void LabelInstance(PyObject* op, const TypeEntry& type);
  void LabelDict(PyObject* op);
  void LabelFunction(PyObject* op);
  void LabelFrameView(const hs_frame_view& view, bool include_specials);
  void LabelType(PyObject* op);
  void SetObjectName(PyObject* op, const TypeEntry& type);
  uint64_t ObjectSize(PyObject* op, const TypeEntry& type, uint64_t index);

  void WriteRunningFrames();
  void CollectRoots();
  void ReadThreadNames();
  std::string ThreadName(unsigned long ident);

  SnapshotWriter* w_;  // the emitter's until it finishes
  const CaptureConfig& config_;
  // str dict keys are written as references to their key objects (LabelKind::kDictKeyRef),
  // whose value previews carry the text: needs previews of at least the 80 bytes a key shows.
  const bool key_refs_ = config_.values && config_.max_preview_bytes >= 80;
  std::unique_ptr<Emitter> emitter_;
  Batch* batch_ = nullptr;
  // Objects with more labels and references than this go to the emitter in a batch of their
  // own (in order) or are matched by the walk (Prematch).
  static constexpr size_t kLargeObject = 16384;
  PodVector<RawLabel> large_labels_;
  PodVector<PyObject*> large_traversed_;
  PodVector<PyObject*> stream_traversed_;  // StreamLargeDict's scratch
  PodVector<uint8_t> stream_key_traversed_;
  LabelMatcher large_matcher_;
  bool format_numbers_ = false;  // int and float previews formatted here, not by the emitter
  size_t label_start_ = 0;
  size_t traversed_start_ = 0;
  uint64_t object_count_ = 0;
  uint32_t type_count_ = 0;

  PodVector<PyObject*> pending_;  // untracked objects found and not yet described
  AddressSet seen_;
  PtrMap<uint32_t> type_index_;
  std::vector<std::unique_ptr<TypeEntry>> types_;
  // The types met last, by address bits: objects of a few types come interleaved.
  struct CachedType {
    PyTypeObject* tp = nullptr;
    TypeEntry* entry = nullptr;
  };
  CachedType type_cache_[64];
  PtrMap<uint8_t> garbage_;
  // Functions' __defaults__, __kwdefaults__ and __closure__ containers, found before the walk
  // so that their items are labelled with parameter and variable names.
  struct ContainerNames {
    PyObject* code;
    uint8_t role;  // 1 defaults tuple, 2 closure tuple, 3 kwdefaults dict
  };
  PtrMap<ContainerNames> function_containers_;
  static constexpr uint8_t kThreadLocalDicts = 4;  // ContainerNames::role of a local's dicts

  struct ExtensionTypes {
    PyTypeObject* lru_cache = nullptr;  // functools._lru_cache_wrapper
    PyTypeObject* local = nullptr;      // _thread._local
    PyTypeObject* future = nullptr;     // _asyncio.Future
    PyTypeObject* task = nullptr;       // _asyncio.Task
    PyTypeObject* ndarray = nullptr;    // numpy.ndarray, when numpy is imported
    PyTypeObject* dtype = nullptr;      // numpy.dtype
  } ext_;
  // _thread._local's tp_getattro, which its subclasses inherit: set only when some thread has
  // thread-local data, so that the scan before the walk tests it only then.
  getattrofunc local_getattro_ = nullptr;
  // A thread's dict of a local (3.8-3.12) or the thread's key in every local's dicts (3.13)
  // -> the label of that thread in local_thread_labels_ (a deque: the texts must not move).
  PtrMap<uint32_t> local_owner_;
  std::deque<std::string> local_thread_labels_;

  struct Deferred {
    uint64_t index;
    PyObject* op;
    PyObject* sizeof_descr;
  };
  std::vector<Deferred> deferred_sizes_;

  std::vector<PendingRoot> roots_;
  std::vector<std::pair<unsigned long, std::string>> thread_names_;
  std::vector<PyObject*> owned_names_;  // the names no one else holds: released at the end
  PyObject* str_sizeof_ = nullptr;
  PyObject* str_module_ = nullptr;
  PyObject* str_name_ = nullptr;
  PyCFunction sizeof_by_kind_[HS_SIZE_BYTEARRAY + 1] = {};
};

void Walker::BuildSlots(PyTypeObject* tp, TypeEntry* entry) {
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

void Walker::BuildMembers(PyTypeObject* tp, TypeEntry* entry) {
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
    int kind = 0;
    if (base == ext_.lru_cache) {
      kind = HS_EXT_LRU_CACHE;
    } else if (base == ext_.local) {
      kind = HS_EXT_THREAD_LOCAL;
    } else if (base == ext_.task) {
      kind = HS_EXT_TASK;
    } else if (base == ext_.future) {
      kind = HS_EXT_FUTURE;
    } else if (ext_.future != nullptr && base == tp) {
      // Not in _asyncio's namespace: known by name (a wrong name could only misname a
      // reference: fields are compared with what tp_traverse reported, never followed).
      kind = hs_ext_asyncio_helper(base->tp_name);
    }
    if (kind == 0) continue;
    hs_field fields[16];
    const int n = hs_ext_fields(kind, base, fields, 16);
    for (int i = 0; i < n; ++i) {
      entry->members.push_back({fields[i].offset, fields[i].name,
                                fields[i].attribute ? LabelKind::kAttribute : LabelKind::kField});
    }
  }
}

TypeEntry& Walker::TypeOf(PyTypeObject* tp) {
  CachedType& cached = type_cache_[(reinterpret_cast<uintptr_t>(tp) >> 6) & 63];
  if (cached.tp == tp) return *cached.entry;
  if (uint32_t* i = type_index_.Find(tp)) {
    cached = {tp, types_[*i].get()};
    return *cached.entry;
  }
  auto entry = std::make_unique<TypeEntry>();
  const bool heap = (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) != 0;
  entry->heap = heap;

  TypeRecord record;
  record.address = Addr(tp);
  record.basicsize = static_cast<uint64_t>(tp->tp_basicsize);
  record.itemsize = static_cast<uint64_t>(tp->tp_itemsize);
  if (heap) record.flags |= type_flags::kHeap;
  if (tp->tp_flags & Py_TPFLAGS_HAVE_GC) record.flags |= type_flags::kGc;
  if (tp->tp_finalize != nullptr) {
    record.flags |= type_flags::kHasFinalizer;
    entry->object_flags |= object_flags::kHasFinalizer;
  }
  if (tp->tp_del != nullptr) {
    record.flags |= type_flags::kHasLegacyDel;
    entry->object_flags |= object_flags::kHasLegacyDel;
  }
  std::string name;
  std::string qualname;
  if (heap) {
    auto* ht = reinterpret_cast<PyHeapTypeObject*>(tp);
    name = Utf8(ht->ht_name);
    std::string module;
    if (tp->tp_dict != nullptr) {
      PyObject* m = PyDict_GetItem(tp->tp_dict, str_module_);  // borrowed, allocates nothing
      if (m != nullptr && PyUnicode_Check(m)) module = Utf8(m);
    }
    qualname = Utf8(ht->ht_qualname);
    if (!module.empty() && module != "builtins") qualname = module + "." + qualname;
  } else {
    const char* tp_name = tp->tp_name != nullptr ? tp->tp_name : "?";
    const char* dot = std::strrchr(tp_name, '.');
    name = dot != nullptr ? dot + 1 : tp_name;
    qualname = tp_name;
  }
  entry->id = TypeId(++type_count_);
  entry->qualname = qualname;
  PendingType pending;
  pending.record = record;
  pending.name = std::move(name);
  pending.qualname = std::move(qualname);
  batch_->types.push_back(std::move(pending));
  if (!config_.values) {
    entry->preview = Preview::kNone;
  } else if (tp == &PyBool_Type) {
    entry->preview = Preview::kBool;
  } else if (PyType_IsSubtype(tp, &PyUnicode_Type)) {
    entry->preview = Preview::kStr;
  } else if (PyType_IsSubtype(tp, &PyBytes_Type)) {
    entry->preview = Preview::kBytes;
  } else if (PyType_IsSubtype(tp, &PyLong_Type)) {
    entry->preview = Preview::kInt;
  } else if (PyType_IsSubtype(tp, &PyFloat_Type)) {
    entry->preview = Preview::kFloat;
  }

  // Sizes: mirror the builtin __sizeof__ implementations; defer other C ones until after the
  // walk; never run a Python-level __sizeof__ (that would run user code inside the program).
  PyObject* descr = hs_type_lookup(tp, str_sizeof_);
  entry->size_kind = HS_SIZE_DEFAULT;
  if (descr != nullptr && Py_TYPE(descr) == &PyMethodDescr_Type) {
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

  if (PyType_IsSubtype(tp, &PyDict_Type)) {
    entry->labeler = Labeler::kDict;
  } else if (PyType_IsSubtype(tp, &PyList_Type)) {
    entry->labeler = Labeler::kList;
  } else if (PyType_IsSubtype(tp, &PyTuple_Type)) {
    entry->labeler = Labeler::kTuple;
  } else if (PyType_IsSubtype(tp, &PySet_Type) || PyType_IsSubtype(tp, &PyFrozenSet_Type)) {
    entry->labeler = Labeler::kSet;
  } else if (tp == &PyFunction_Type) {
    entry->labeler = Labeler::kFunction;
  } else if (tp == &PyCell_Type) {
    entry->labeler = Labeler::kCell;
  } else if (tp == &PyMethod_Type) {
    entry->labeler = Labeler::kMethod;
  } else if (PyType_IsSubtype(tp, &PyCFunction_Type)) {
    entry->labeler = Labeler::kCFunction;
  } else if (PyType_IsSubtype(tp, &PyType_Type)) {
    entry->labeler = Labeler::kType;
  } else if (PyType_IsSubtype(tp, &PyModule_Type)) {
    entry->labeler = Labeler::kModule;
  } else if (tp == &PyCode_Type) {
    entry->labeler = Labeler::kCode;
  } else if (tp == &PyFrame_Type) {
    entry->labeler = Labeler::kFrame;
  } else if (tp == &PyGen_Type || tp == &PyCoro_Type || tp == &PyAsyncGen_Type) {
    entry->labeler = Labeler::kGenerator;
  } else if (PyType_IsSubtype(tp, &_PyWeakref_RefType) || tp == &_PyWeakref_ProxyType ||
             tp == &_PyWeakref_CallableProxyType) {
    entry->labeler = Labeler::kWeakref;
  } else if (PyType_IsSubtype(tp, reinterpret_cast<PyTypeObject*>(PyExc_BaseException))) {
    entry->labeler = Labeler::kException;
  } else if (tp == &PyTraceBack_Type) {
    entry->labeler = Labeler::kTraceback;
  } else if (tp == &PyStaticMethod_Type || tp == &PyClassMethod_Type) {
    entry->labeler = Labeler::kStaticOrClassMethod;
  } else if (tp == &PyProperty_Type) {
    entry->labeler = Labeler::kProperty;
  } else if (tp == &PyMethodDescr_Type || tp == &PyClassMethodDescr_Type ||
             tp == &PyGetSetDescr_Type || tp == &PyMemberDescr_Type || tp == &PyWrapperDescr_Type) {
    entry->labeler = Labeler::kDescriptor;
  } else if (tp->tp_name != nullptr && std::strcmp(tp->tp_name, "collections.deque") == 0) {
    entry->labeler = Labeler::kDeque;
  }
  if (heap) BuildSlots(tp, entry.get());
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

  type_index_.Insert(tp, static_cast<uint32_t>(types_.size()));
  types_.push_back(std::move(entry));
  return *types_.back();
}

void Walker::LabelInstance(PyObject* op, const TypeEntry& type) {
  for (const auto& [offset, name] : type.slots) {
    PyObject* v = *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(op) + offset);
    AddLabel(v, LabelKind::kAttribute, Addr(name), LabelValue::kLiteral);
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
  if (IsGc(op)) AddField(reinterpret_cast<PyObject*>(Py_TYPE(op)), "__class__");
}

void Walker::LabelDict(PyObject* op) {
  const ContainerNames* names = function_containers_.Find(op);
  if (names != nullptr && names->role == kThreadLocalDicts) {
    LabelThreadLocalDicts(op);
    return;
  }
  const bool kwdefaults = names != nullptr && names->role == 3;
  // 3.13: values stored inline in their owner object belong to the owner.
  const EdgeKind value_kind = hs_dict_values_embedded(op) ? EdgeKind::kBorrowed : EdgeKind::kStrong;
  // A split (key-sharing) dict's keys belong to the shared keys object of the class, which
  // holds one reference to each; the dict holds none.
  const EdgeKind key_kind = reinterpret_cast<PyDictObject*>(op)->ma_values != nullptr
                                ? EdgeKind::kBorrowed
                                : EdgeKind::kStrong;
  // Known from the keys table alone (3.11+): every key is a str.
  const bool str_keys = key_refs_ && hs_dict_has_str_keys(op);
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    if (kwdefaults && PyUnicode_Check(key)) {
      AddLabel(value, LabelKind::kParameterDefault, Addr(key), LabelValue::kName, value_kind);
      AddLabel(key, LabelKind::kDictKeyObject, Addr(key),
               key_refs_ ? LabelValue::kKeyStr : LabelValue::kKey, key_kind);
      continue;
    }
    // Value first, then key: the order dict_traverse visits them in (when it visits keys).
    // The keys themselves are not read here: in a big dict each would be a cache miss (they
    // are written as objects of their own, often long before). A str key's text is its own
    // value preview; the emitter looks at the others.
    const LabelValue key_value = str_keys ? LabelValue::kKeyStr : LabelValue::kKey;
    AddLabel(value, LabelKind::kDictKey, Addr(key), key_value, value_kind);
    AddLabel(key, LabelKind::kDictKeyObject, Addr(key), key_value, key_kind);
  }
}

void Walker::LabelThreadLocalDicts(PyObject* op) {
  // A threading.local's per-thread dicts, keyed by a weakref to each thread's dummy object
  // (3.8-3.12) or by each thread's key object (3.13): the key says nothing, the thread does.
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    const uint32_t* thread = local_owner_.Find(value);
    if (thread == nullptr) thread = local_owner_.Find(key);
    if (thread != nullptr) {
      AddLabel(value, LabelKind::kDictKey, Addr(local_thread_labels_[*thread].c_str()),
               LabelValue::kLiteral);
    } else {
      AddLabel(value, LabelKind::kDictKey, Addr(key), LabelValue::kKey);
    }
    AddLabel(key, LabelKind::kDictKeyObject, Addr(key), LabelValue::kKey);
  }
}

void Walker::LabelLruCache(PyObject* op, const TypeEntry& type) {
  // After tp_traverse, in its order, so that even a cache of a million entries needs no
  // matching: the wrapper's type (3.10+), each link's key, result (and, 3.10+, type), then
  // the wrapper's fields. A bounded cache keeps each entry in a link (not tracked, no
  // tp_traverse) that the cache dict maps the key to, and the wrapper reports the links'
  // references: they read as the entries of a mapping, wrapper[key] being the result. The
  // links own them, not the wrapper: should one not be reported, it is borrowed.
  Batch& b = *batch_;
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
    PyObject* t = b.traversed[k];
    if (in_link && step == 0 && t == key) {
      AddLabel(key, LabelKind::kDictKeyObject, Addr(key), LabelValue::kKey, EdgeKind::kBorrowed);
      step = 1;
      continue;
    }
    if (in_link && step == 1 && t == result) {
      AddLabel(result, LabelKind::kDictKey, Addr(key), LabelValue::kKey, EdgeKind::kBorrowed);
      if (PY_VERSION_HEX >= 0x030A0000) {
        step = 2;
      } else {
        next_link();
      }
      continue;
    }
    if (in_link && step == 2 && t == reinterpret_cast<PyObject*>(Py_TYPE(link))) {
      AddField(t, "lru_list_elem_type", EdgeKind::kBorrowed);
      next_link();
      continue;
    }
    if (t == reinterpret_cast<PyObject*>(Py_TYPE(op))) {
      AddField(t, "__class__");
      continue;
    }
    for (size_t m = 0; m < type.members.size() && m < 64; ++m) {
      const MemberField& f = type.members[m];
      if ((named >> m & 1) == 0 &&
          *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(op) + f.offset) == t) {
        named |= uint64_t{1} << m;
        AddLabel(t, f.kind, Addr(f.name), LabelValue::kLiteral);
        break;
      }
    }
  }
}

void Walker::LabelNdarray(PyObject* op) {
  // numpy arrays are not tracked and have no tp_traverse: their base (the array or buffer a
  // view's data belongs to) and dtype are owned references the collector never sees.
  PyObject* base = nullptr;
  PyObject* descr = nullptr;
  if (hs_ndarray_refs(op, ext_.dtype, &base, &descr)) {
    AddLabel(base, LabelKind::kAttribute, Addr("base"), LabelValue::kLiteral);
    AddLabel(descr, LabelKind::kAttribute, Addr("dtype"), LabelValue::kLiteral);
    // An object array that owns its data owns its elements (a pandas column of strs).
    hs_ndarray_object_items(
        op,
        [](PyObject* item, Py_ssize_t index, void* arg) {
          static_cast<Walker*>(arg)->AddLabel(item, LabelKind::kIndex,
                                              static_cast<uint64_t>(index));
        },
        this);
  }
}

void Walker::LabelMembers(PyObject* op, const TypeEntry& type) {
  if (batch_->traversed.size() == traversed_start_) return;
  for (const MemberField& m : type.members) {
    PyObject* v = *reinterpret_cast<PyObject**>(reinterpret_cast<char*>(op) + m.offset);
    if (v != nullptr) ClaimTraversed(v, m.kind, m.name);
  }
}

void Walker::ClaimTraversed(PyObject* target, LabelKind kind, const char* name) {
  // Names a reference to target that tp_traverse reported and no label of the object names
  // yet; never one it did not report (a C field may be borrowed, or reported by someone else).
  Batch& b = *batch_;
  size_t reported = 0;
  for (size_t k = traversed_start_; k < b.traversed.size(); ++k) {
    reported += b.traversed[k] == target ? 1 : 0;
  }
  if (reported == 0) return;
  size_t named = 0;
  for (size_t i = label_start_; i < b.labels.size() && named < reported; ++i) {
    named += b.labels[i].target == target ? 1 : 0;
  }
  if (named < reported) AddLabel(target, kind, Addr(name), LabelValue::kLiteral);
}

void Walker::LabelFunction(PyObject* op) {
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

void Walker::LabelFrameView(const hs_frame_view& v, bool include_specials) {
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

void Walker::LabelType(PyObject* op) {
  auto* tp = reinterpret_cast<PyTypeObject*>(op);
  if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
    // Static types are not traversed, but own their dict, MRO and bases (3.12+ keeps those of
    // builtin types in the interpreter state and leaves the fields NULL).
    AddField(tp->tp_dict, "__dict__");
    AddField(tp->tp_mro, "__mro__");
    AddField(tp->tp_bases, "__bases__");
    // A static type's tp_base is set in C and was never counted (PyType_Ready counts only
    // the object base it fills in itself).
    AddField(reinterpret_cast<PyObject*>(tp->tp_base), "__base__", EdgeKind::kBorrowed);
    return;
  }
  auto* ht = reinterpret_cast<PyHeapTypeObject*>(tp);
  AddField(tp->tp_dict, "__dict__");
  AddField(tp->tp_mro, "__mro__");
  AddField(tp->tp_bases, "__bases__");
  AddField(reinterpret_cast<PyObject*>(tp->tp_base), "__base__");
  AddField(ht->ht_name, "__name__");
  AddField(ht->ht_qualname, "__qualname__");
  AddField(ht->ht_slots, "__slots__");
#if PY_VERSION_HEX >= 0x03090000
  AddField(ht->ht_module, "__module_object__");
#endif
#if PY_VERSION_HEX < 0x030C0000
  AddField(tp->tp_subclasses, "__subclasses__");
#else
  AddField(static_cast<PyObject*>(tp->tp_subclasses), "__subclasses__");
#endif
  // A class holds a reference to its metaclass only when the metaclass is a heap type.
  if (Py_TYPE(op)->tp_flags & Py_TPFLAGS_HEAPTYPE) {
    AddField(reinterpret_cast<PyObject*>(Py_TYPE(op)), "__class__");
  }
}

void Walker::CollectLabels(PyObject* op, const TypeEntry& type) {
  switch (type.labeler) {
    case Labeler::kDict:
      LabelDict(op);
      break;
    case Labeler::kList: {
      // Last item first: list_traverse and tuple_traverse visit them in that order, and the
      // labels pair with the traversal fastest in the same order (LabelMatcher::Match).
      auto* l = reinterpret_cast<PyListObject*>(op);
      for (Py_ssize_t i = Py_SIZE(op) - 1; i >= 0; --i) {
        AddLabel(l->ob_item[i], LabelKind::kIndex, static_cast<uint64_t>(i));
      }
      break;
    }
    case Labeler::kTuple: {
      const ContainerNames* names = function_containers_.Find(op);
      const Py_ssize_t n = PyTuple_GET_SIZE(op);
      for (Py_ssize_t i = n - 1; i >= 0; --i) {
        PyObject* item = PyTuple_GET_ITEM(op, i);
        PyObject* name = nullptr;
        if (names != nullptr && names->role == 1) {
          // __defaults__ fill the last len(defaults) positional parameters.
          int argcount = hs_code_argcount(names->code);
          name =
              hs_code_arg_name(names->code, argcount - static_cast<int>(n) + static_cast<int>(i));
          if (name != nullptr) AddNamed(item, LabelKind::kParameterDefault, name);
        } else if (names != nullptr && names->role == 2) {
          name = hs_code_free_name(names->code, static_cast<int>(i));
          if (name != nullptr) AddNamed(item, LabelKind::kClosureVariable, name);
        }
        if (name == nullptr) AddLabel(item, LabelKind::kIndex, static_cast<uint64_t>(i));
      }
      break;
    }
    case Labeler::kSet:
    case Labeler::kDeque:
      break;  // every traversed edge is a member / index; see EmitEdges
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
      int n = hs_code_refs(op, refs, 16);
      for (int i = 0; i < n; ++i) AddField(refs[i].target, refs[i].name);
      break;
    }
    case Labeler::kFrame: {
      hs_frame_view v;
      if (hs_frame_object_view(op, &v)) LabelFrameView(v, true);
      break;
    }
    case Labeler::kGenerator: {
      hs_named_ref refs[16];
      int n = hs_generator_refs(op, refs, 16);
      for (int i = 0; i < n; ++i) AddField(refs[i].target, refs[i].name);
      hs_frame_view v;
      if (hs_generator_frame_view(op, &v)) LabelFrameView(v, false);
      break;
    }
    case Labeler::kWeakref: {
      auto* wr = reinterpret_cast<PyWeakReference*>(op);
      AddField(wr->wr_callback, "__callback__");
      if (wr->wr_object != nullptr && wr->wr_object != Py_None) {
        AddField(wr->wr_object, "__referent__", EdgeKind::kWeak);
      }
      break;
    }
    case Labeler::kException: {
      auto* e = reinterpret_cast<PyBaseExceptionObject*>(op);
      AddField(e->dict, "__dict__");
      AddField(e->args, "args");
      AddField(e->traceback, "__traceback__");
      AddField(e->context, "__context__");
      AddField(e->cause, "__cause__");
#if PY_VERSION_HEX >= 0x030B0000
      AddField(e->notes, "__notes__");
#endif
      break;
    }
    case Labeler::kTraceback: {
      auto* tb = reinterpret_cast<PyTracebackObject*>(op);
      AddField(reinterpret_cast<PyObject*>(tb->tb_next), "tb_next");
      AddField(reinterpret_cast<PyObject*>(tb->tb_frame), "tb_frame");
      break;
    }
    case Labeler::kStaticOrClassMethod: {
      // staticmethod and classmethod share this layout: PyObject_HEAD, sm_callable, sm_dict.
      struct Layout {
        PyObject_HEAD PyObject* callable;
        PyObject* dict;
      };
      auto* sm = reinterpret_cast<Layout*>(op);
      AddField(sm->callable, "__func__");
      AddField(sm->dict, "__dict__");
      break;
    }
    case Labeler::kProperty: {
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
      break;
    }
    case Labeler::kDescriptor: {
      auto* d = reinterpret_cast<PyDescrObject*>(op);
      AddField(reinterpret_cast<PyObject*>(d->d_type), "__objclass__");
      AddField(d->d_name, "__name__");
      AddField(d->d_qualname, "__qualname__");
      break;
    }
    case Labeler::kNone:
      break;
  }
  if (type.special == Special::kNdarray) LabelNdarray(op);
  // An lru_cache wrapper is labelled after its traversal (its fields include __dict__).
  if (type.heap && type.labeler != Labeler::kType && type.special != Special::kLruCache) {
    LabelInstance(op, type);
  }
}

int CollectVisit(PyObject* target, void* arg) {
  static_cast<PodVector<PyObject*>*>(arg)->push_back(target);
  return 0;
}

void Walker::EndObject() {
  Batch& b = *batch_;
  RawObject& o = b.objects.back();
  o.labels = static_cast<uint32_t>(b.labels.size() - label_start_);
  o.traversed = static_cast<uint32_t>(b.traversed.size() - traversed_start_);
  // Everything this object references is written too (the emitter decides the labels).
  // Labels mostly name what tp_traverse reported, in its order: those are registered already.
  size_t k = traversed_start_;
  const size_t traversed_end = b.traversed.size();
  for (size_t i = traversed_start_; i < traversed_end; ++i) Register(b.traversed[i]);
  for (size_t i = label_start_; i < b.labels.size(); ++i) {
    RawLabel& label = b.labels[i];
    if (k < traversed_end && b.traversed[k] == label.target) {
      label.traversed = true;
      ++k;
      continue;
    }
    Register(label.target);
  }
  const bool large = o.labels + o.traversed > kLargeObject;
  if (k == traversed_end && o.traversed != 0 && config_.parallel) {
    // Every reference tp_traverse reported is named by a label, in its order (the usual
    // case): the marks say which, and the references need not cross to the emitter's core.
    // (A single-threaded capture keeps the emitter's matching for every object: the
    // reference that tests compare threaded captures with.)
    b.traversed.truncate(traversed_start_);
    o.traversed = 0;
    o.mode = RawObject::kInOrder;
    if (large) {
      // A large object in order (a big list or dict) goes as is, to be written by the emitter
      // while the walk goes on.
      b.large = true;
      SubmitBatch();
    }
  } else if (large) {
    Prematch();
  }
}

void Walker::Prematch() {
  // A large object whose labels are not in traversal order (or any large object in a
  // single-threaded capture): its labels are matched here and its final edges cut across
  // batches of normal size.
  // The object's labels and references become large_*_ (the arrays change hands, nothing is
  // copied but what earlier objects of the batch put before them).
  Batch& b = *batch_;
  large_labels_.clear();
  large_labels_.swap(b.labels);
  b.labels.reserve_more(label_start_);
  for (size_t i = 0; i < label_start_; ++i) b.labels.push_back(large_labels_[i]);
  large_traversed_.clear();
  large_traversed_.swap(b.traversed);
  b.traversed.reserve_more(traversed_start_);
  for (size_t i = 0; i < traversed_start_; ++i) b.traversed.push_back(large_traversed_[i]);
  RawLabel* const labels = large_labels_.data() + label_start_;
  const size_t n_labels = large_labels_.size() - label_start_;
  PyObject* const* const traversed = large_traversed_.data() + traversed_start_;
  const size_t n_traversed = large_traversed_.size() - traversed_start_;
  if (key_refs_) {
    // The pairing of a str key with its value needs edge positions, which only this matching
    // knows: tell str keys apart here.
    // Each key read is a cache miss: fetch them well ahead.
    constexpr size_t kAhead = 16;
    auto key_of = [&](size_t i) {
      return reinterpret_cast<PyObject*>(static_cast<uintptr_t>(labels[i].value));
    };
    for (size_t i = 0; i < n_labels; ++i) {
      if (i + kAhead < n_labels && labels[i + kAhead].value_kind == LabelValue::kKey) {
        __builtin_prefetch(key_of(i + kAhead));
      }
      RawLabel& l = labels[i];
      if (l.value_kind == LabelValue::kKey && PyUnicode_Check(key_of(i))) {
        l.value_kind = LabelValue::kKeyStr;
      }
    }
  }
  large_matcher_.Match(labels, n_labels, traversed, n_traversed);

  RawObject& o = b.objects.back();
  o.mode = RawObject::kPrematched;
  o.labels = 0;
  o.traversed = 0;
  const ObjectRecord record = o.record;
  // 3.11's static objects (deep-frozen code, constants) never counted their references.
  const bool uncounted =
      PY_VERSION_HEX < 0x030C0000 && (record.flags & object_flags::kImmortal) != 0;
  auto emit = [&](RawLabel edge, size_t label) {
    if (label != LabelMatcher::kNone && labels[label].value_kind == LabelValue::kKeyStr) {
      LabelKind kind;
      uint64_t value;
      if (large_matcher_.KeyReference(labels, n_labels, label, &kind, &value)) {
        edge.kind = kind;
        edge.value = value;
        edge.value_kind = LabelValue::kPlain;
      }
    }
    EmitFinal(edge, record);
  };
  for (size_t k = 0; k < n_traversed; ++k) {
    const uint32_t label = large_matcher_.label_of(k);
    RawLabel edge = label != LabelMatcher::kNone
                        ? labels[label]
                        : RawLabel{traversed[k], k, LabelKind::kTraverseIndex, LabelValue::kPlain,
                                   EdgeKind::kTraverse};
    edge.target = traversed[k];
    edge.kind_if_not_traversed = uncounted ? EdgeKind::kBorrowed : EdgeKind::kTraverse;
    emit(edge, label);
  }
  for (size_t i = 0; i < n_labels; ++i) {
    if (large_matcher_.matched(i)) continue;
    RawLabel edge = labels[i];
    if (uncounted && edge.kind_if_not_traversed == EdgeKind::kStrong) {
      edge.kind_if_not_traversed = EdgeKind::kBorrowed;
    }
    emit(edge, i);
  }
}

bool Walker::StreamLargeDict(PyObject* op) {
  // A big dict written while it is read: its edges go to the emitter batch by batch, so that
  // the emitter works on the first entries while the walk reads the next (labelling 200k
  // entries first and handing them over whole leaves the emitter idle meanwhile). The order
  // of the edges must be known before the first is written, so tp_traverse runs first and
  // a first pass checks that it reported every value, and keys either right after their
  // values (a general keys table) or not at all (str keys, known to be str); otherwise this
  // returns false, having written nothing, and the dict takes the ordinary way. The edges and
  // labels are those the ordinary way gives (kInOrder, FromMarks): a single-threaded capture
  // takes the ordinary way, and a test compares the two.
  const RawObject& o = batch_->objects.back();
  const ObjectRecord record = o.record;
  if (function_containers_.Find(op) != nullptr) return false;  // __kwdefaults__: names
  if (PY_VERSION_HEX < 0x030C0000 && (record.flags & object_flags::kImmortal) != 0) return false;
  PodVector<PyObject*>& t = stream_traversed_;
  t.clear();
  Py_TYPE(op)->tp_traverse(op, CollectVisit, &t);
  const size_t n = t.size();
  const bool str_keys = key_refs_ && hs_dict_has_str_keys(op);
  stream_key_traversed_.clear();
  size_t k = 0;
  Py_ssize_t pos = 0;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  while (PyDict_Next(op, &pos, &key, &value)) {
    if (k >= n || t[k] != value) return false;
    ++k;
    const bool key_traversed = k < n && t[k] == key;
    if (key_traversed) {
      ++k;
    } else if (!str_keys) {
      return false;  // a key whose edge is not next to its value's, and maybe not a str
    }
    stream_key_traversed_.push_back(key_traversed ? 1 : 0);
  }
  if (k != n) return false;

  batch_->objects.back().mode = RawObject::kPrematched;
  for (size_t i = 0; i < n; ++i) Register(t[i]);
  // The traversed edges, in order: each value, and its key when traversed.
  size_t position = 0;  // of the next edge
  size_t untraversed = 0;
  size_t entry = 0;
  pos = 0;
  while (PyDict_Next(op, &pos, &key, &value)) {
    RawLabel v{value, Addr(key), LabelKind::kDictKey, LabelValue::kPlain, EdgeKind::kTraverse};
    if (stream_key_traversed_[entry++] != 0) {
      if (str_keys) {
        v.kind = LabelKind::kDictKeyRef;
        v.value = ZigZagEncode(1);
        EmitFinal(v, record);
        EmitFinal({key, 0, LabelKind::kDictKeySelf, LabelValue::kPlain, EdgeKind::kTraverse},
                  record);
      } else {
        v.value_kind = LabelValue::kKeyNext;
        EmitFinal(v, record);
        EmitFinal(
            {key, Addr(key), LabelKind::kDictKeyObject, LabelValue::kKeyNext, EdgeKind::kTraverse},
            record);
      }
      position += 2;
    } else {
      // Its key's edge comes after all traversed ones (str_keys: checked above).
      v.kind = LabelKind::kDictKeyRef;
      v.value =
          ZigZagEncode(static_cast<int64_t>(n + untraversed++) - static_cast<int64_t>(position));
      EmitFinal(v, record);
      position += 1;
    }
  }
  // Then the keys tp_traverse did not report, in order. A split table's keys belong to the
  // shared keys object (see LabelDict).
  const EdgeKind key_kind = reinterpret_cast<PyDictObject*>(op)->ma_values != nullptr
                                ? EdgeKind::kBorrowed
                                : EdgeKind::kStrong;
  entry = 0;
  pos = 0;
  while (PyDict_Next(op, &pos, &key, &value)) {
    if (stream_key_traversed_[entry++] != 0) continue;
    Register(key);
    EmitFinal({key, 0, LabelKind::kDictKeySelf, LabelValue::kPlain, key_kind}, record);
  }
  return true;
}

void Walker::SetObjectName(PyObject* op, const TypeEntry& type) {
  switch (type.labeler) {
    case Labeler::kFunction: {
      auto* f = reinterpret_cast<PyFunctionObject*>(op);
      PyObject* code = f->func_code;
      if (code == nullptr || !PyCode_Check(code)) break;
      auto* co = reinterpret_cast<PyCodeObject*>(code);
      std::string qualname = Utf8(f->func_qualname);
      std::string module = f->func_module != nullptr ? Utf8(f->func_module) : std::string();
      if (!module.empty()) qualname = module + "." + qualname;
      SetName(nullptr, co->co_filename, static_cast<uint32_t>(co->co_firstlineno),
              std::move(qualname));
      break;
    }
    case Labeler::kCode: {
      auto* co = reinterpret_cast<PyCodeObject*>(op);
      SetName(hs_code_qualname(op), co->co_filename, static_cast<uint32_t>(co->co_firstlineno));
      break;
    }
    case Labeler::kType: {
      // Every class gets a type record, instances or not: its name is the record's qualname.
      const TypeEntry& self = TypeOf(reinterpret_cast<PyTypeObject*>(op));
      SetName(nullptr, nullptr, 0, self.qualname);
      break;
    }
    case Labeler::kModule: {
      PyObject* dict = PyModule_GetDict(op);
      PyObject* name = dict != nullptr ? PyDict_GetItem(dict, str_name_) : nullptr;
      if (name != nullptr && PyUnicode_Check(name)) SetName(name, nullptr, 0);
      break;
    }
    case Labeler::kFrame: {
      hs_frame_view v;
      if (hs_frame_object_view(op, &v) && v.code != nullptr) {
        auto* co = reinterpret_cast<PyCodeObject*>(v.code);
        SetName(hs_code_qualname(v.code), co->co_filename, static_cast<uint32_t>(v.line));
      }
      break;
    }
    default:
      break;
  }
}

uint64_t Walker::ObjectSize(PyObject* op, const TypeEntry& type, uint64_t index) {
  Py_ssize_t size = hs_sizeof(op, type.size_kind);
  if (size < 0) size = 0;
  if (type.deferred_sizeof != nullptr) deferred_sizes_.push_back({index, op, type.deferred_sizeof});
  return static_cast<uint64_t>(size);
}

void Walker::ProcessObject(PyObject* op, uint32_t generation) {
  PyTypeObject* tp = Py_TYPE(op);
  const TypeEntry& type = TypeOf(tp);
  uint32_t flags = type.object_flags;
  const bool is_gc = IsGc(op);
  if (is_gc) {
    flags |= object_flags::kGcType;
    if (hs_is_finalized(op)) flags |= object_flags::kFinalized;
  }
  if (generation != kGenerationUntracked) flags |= object_flags::kGcTracked;
  if (generation == kGenerationPermanent) flags |= object_flags::kFrozen;
  if (hs_is_immortal(op)) flags |= object_flags::kImmortal;
  if (garbage_.size() > 0 && garbage_.Find(op) != nullptr) flags |= object_flags::kInGcGarbage;

  ObjectRecord record;
  record.address = Addr(op);
  record.type = type.id;
  record.refcount = static_cast<uint64_t>(Py_REFCNT(op));
  record.flags = flags;
  record.generation = generation;
  record.size = ObjectSize(op, type, object_count_);
  BeginObject(record);

  Batch& b = *batch_;
  if (type.preview != Preview::kNone) {
    const auto index = static_cast<uint32_t>(b.objects.size() - 1);
    const auto end = static_cast<uint32_t>(b.text.size());
    long long v = 0;
    uint64_t length = 0;
    if (format_numbers_ && type.preview == Preview::kFloat) {
      length = AppendFloatPreview(PyFloat_AS_DOUBLE(op), &b.text);
      b.values.push_back({index, static_cast<uint32_t>(b.text.size()), length, RawValue::kText});
    } else if (format_numbers_ && type.preview == Preview::kInt && hs_long_value(op, &v)) {
      length = AppendIntPreview(v, &b.text);
      b.values.push_back({index, static_cast<uint32_t>(b.text.size()), length, RawValue::kText});
    } else if (type.preview == Preview::kFloat) {
      uint64_t bits;
      const double d = PyFloat_AS_DOUBLE(op);
      std::memcpy(&bits, &d, sizeof(bits));
      b.values.push_back({index, end, bits, RawValue::kFloat});
    } else if (type.preview == Preview::kInt && hs_long_value(op, &v)) {
      b.values.push_back({index, end, static_cast<uint64_t>(v), RawValue::kInt});
    } else if (AppendPreview(op, type.preview, config_.max_preview_bytes, &b.text, &length)) {
      b.values.push_back({index, static_cast<uint32_t>(b.text.size()), length, RawValue::kText});
    }
  }
  if (type.labeler == Labeler::kDict && tp == &PyDict_Type && config_.parallel &&
      static_cast<size_t>(PyDict_GET_SIZE(op)) * 2 > kLargeObject && StreamLargeDict(op)) {
    return;
  }
  CollectLabels(op, type);
  if (is_gc && tp->tp_traverse != nullptr) tp->tp_traverse(op, CollectVisit, &b.traversed);
  if (type.special == Special::kLruCache) {
    LabelLruCache(op, type);
  } else if (!type.members.empty()) {
    LabelMembers(op, type);
  }
  if (type.labeler == Labeler::kSet || type.labeler == Labeler::kDeque) {
    // Members of a set have no order or name; a deque's traversal is in index order.
    // Their traversed edges are labelled directly, after any instance attributes matched.
    const size_t labels_end = b.labels.size();
    uint64_t k = 0;
    for (size_t j = traversed_start_; j < b.traversed.size(); ++j) {
      PyObject* t = b.traversed[j];
      bool is_attr = false;
      for (size_t i = label_start_; i < labels_end && !is_attr; ++i) {
        is_attr = b.labels[i].target == t;
      }
      if (is_attr) continue;
      AddLabel(t, type.labeler == Labeler::kSet ? LabelKind::kSetMember : LabelKind::kIndex,
               type.labeler == Labeler::kSet ? 0 : k);
      ++k;
    }
  }
  SetObjectName(op, type);  // before EndObject: a large object's edges may move to new batches
  EndObject();
}

std::string Walker::ThreadName(unsigned long ident) {
  for (const auto& [id, name] : thread_names_) {
    if (id == ident) return name;
  }
  if (ident == hs_main_thread_id()) return "MainThread";
  return "thread-" + std::to_string(ident);
}

void Walker::ReadThreadNames() {
  // Before the walk, and without getattr: attribute lookups fill the type method cache, which
  // holds references to the names it caches and drops the ones it evicts (a refcount somewhere
  // in the program would change). Only dict and instance-attribute reads. threading may not
  // even be imported, in which case idents are used.
  PyObject* threading_name = PyUnicode_InternFromString("threading");
  PyObject* active_name = PyUnicode_InternFromString("_active");
  PyObject* thread_name = PyUnicode_InternFromString("_name");
  PyObject* threading = threading_name != nullptr ? PyImport_GetModule(threading_name) : nullptr;
  PyObject* module_dict =
      threading != nullptr && PyModule_Check(threading) ? PyModule_GetDict(threading) : nullptr;
  PyObject* active = module_dict != nullptr && active_name != nullptr
                         ? hs_dict_lookup(module_dict, active_name)
                         : nullptr;
  if (active != nullptr && PyDict_Check(active) && thread_name != nullptr) {
    Py_ssize_t pos = 0;
    PyObject* key = nullptr;
    PyObject* thread = nullptr;
    while (PyDict_Next(active, &pos, &key, &thread)) {
      long long ident = 0;
      if (!PyLong_Check(key) || !hs_long_value(key, &ident)) continue;
      PyObject* name = hs_instance_attribute(thread, thread_name);
      if (name != nullptr && PyUnicode_Check(name)) {
        thread_names_.emplace_back(static_cast<unsigned long>(ident), Utf8(name, 200));
      }
    }
  }
  Py_XDECREF(threading);
  Py_XDECREF(threading_name);
  Py_XDECREF(active_name);
  Py_XDECREF(thread_name);
  PyErr_Clear();
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

void Walker::FindExtensionTypes() {
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

void Walker::ReadThreadLocals() {
  if (ext_.local == nullptr) return;
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
      local_thread_labels_.push_back("<thread '" +
                                     ThreadName(static_cast<unsigned long>(ts->thread_id)) + "'>");
    }
  }
  if (local_owner_.size() > 0) local_getattro_ = ext_.local->tp_getattro;
}

void Walker::NoteThreadLocal(PyObject* op) {
  if (!PyType_IsSubtype(Py_TYPE(op), ext_.local)) return;
  PyObject* dicts = hs_local_dicts(op);
  if (dicts != nullptr && PyDict_CheckExact(dicts)) {
    function_containers_.Insert(dicts, {nullptr, kThreadLocalDicts});
  }
}

void Walker::WriteRunningFrames() {
  // 3.11+: running frames live on the threads' data stacks, invisible to tp_traverse. Each
  // becomes a synthetic node whose local variables are strong (not traversed) edges: exactly
  // the references gc counts as "from outside". On 3.8–3.10 frames are ordinary objects and
  // only need roots.
  TypeId synthetic;
  if (!hs_frames_are_objects()) {
    PendingType t;
    t.name = "frame";
    t.qualname = "<running frame>";
    t.record.flags = type_flags::kSynthetic;
    batch_->types.push_back(std::move(t));
    synthetic = TypeId(++type_count_);
  }
  PyInterpreterState* interp = PyThreadState_GET()->interp;
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts != nullptr;
       ts = PyThreadState_Next(ts)) {
    struct Ctx {
      Walker* self;
      TypeId synthetic;
      unsigned long thread_id;
      std::string thread_name;
    } ctx{this, synthetic, static_cast<unsigned long>(ts->thread_id),
          ThreadName(static_cast<unsigned long>(ts->thread_id))};
    hs_foreach_thread_frame(
        ts,
        [](const hs_frame_view* v, int depth, void* arg) -> int {
          auto* c = static_cast<Ctx*>(arg);
          Walker* self = c->self;
          std::string where = "thread '" + c->thread_name + "'";
          if (v->code != nullptr) {
            auto* co = reinterpret_cast<PyCodeObject*>(v->code);
            where += " " + Utf8(hs_code_qualname(v->code)) + " (" + Utf8(co->co_filename) + ":" +
                     std::to_string(v->line) + ")";
          }
          if (!hs_frames_are_objects()) {
            ObjectRecord record;
            record.address = Addr(v->address);
            record.type = c->synthetic;
            record.size = static_cast<uint64_t>(v->size);
            record.refcount = 0;
            record.flags = object_flags::kSynthetic;
            self->BeginObject(record);
            self->LabelFrameView(*v, !v->owned_by_generator);
            if (v->code != nullptr) {
              auto* co = reinterpret_cast<PyCodeObject*>(v->code);
              self->SetName(hs_code_qualname(v->code), co->co_filename,
                            static_cast<uint32_t>(v->line));
            }
            self->EndObject();
          }
          if (hs_frames_are_objects()) {
            // 3.8-3.10 run most frames untracked; they are objects all the same.
            self->Register(static_cast<PyObject*>(v->address));
          }
          self->roots_.push_back({RootKind::kThreadFrame, Addr(v->address), std::move(where),
                                  c->thread_id, static_cast<uint32_t>(depth)});
          return 0;
        },
        &ctx);
  }
}

void Walker::CollectRoots() {
  auto add = [&](RootKind kind, PyObject* op, const std::string& label, unsigned long thread) {
    if (op == nullptr) return;
    roots_.push_back({kind, Addr(op), label, thread, 0});
    Register(op);
  };
  add(RootKind::kModules, PyImport_GetModuleDict(), "sys.modules", 0);
  add(RootKind::kSys, hs_interp_sysdict(), "sys.__dict__", 0);
  add(RootKind::kBuiltins, hs_interp_builtins(), "builtins.__dict__", 0);
  add(RootKind::kGcGarbage, hs_gc_garbage(), "gc.garbage", 0);
  PyInterpreterState* interp = PyThreadState_GET()->interp;
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(interp); ts != nullptr;
       ts = PyThreadState_Next(ts)) {
    auto id = static_cast<unsigned long>(ts->thread_id);
    std::string prefix = "thread '" + ThreadName(id) + "' ";
#if PY_VERSION_HEX >= 0x030C0000
    add(RootKind::kThreadState, ts->current_exception, prefix + "current exception", id);
#else
    add(RootKind::kThreadState, ts->curexc_type, prefix + "current exception type", id);
    add(RootKind::kThreadState, ts->curexc_value, prefix + "current exception", id);
    add(RootKind::kThreadState, ts->curexc_traceback, prefix + "current traceback", id);
#endif
    add(RootKind::kThreadState, ts->exc_state.exc_value, prefix + "handled exception", id);
#if PY_VERSION_HEX < 0x030B0000
    add(RootKind::kThreadState, ts->exc_state.exc_type, prefix + "handled exception type", id);
    add(RootKind::kThreadState, ts->exc_state.exc_traceback, prefix + "handled traceback", id);
#endif
    add(RootKind::kThreadState, ts->dict, prefix + "state dict", id);
    add(RootKind::kThreadState, ts->context, prefix + "contextvars context", id);
    add(RootKind::kThreadState, ts->async_gen_firstiter, prefix + "async_gen_firstiter", id);
    add(RootKind::kThreadState, ts->async_gen_finalizer, prefix + "async_gen_finalizer", id);
    add(RootKind::kThreadState, ts->c_profileobj, prefix + "profile function", id);
    add(RootKind::kThreadState, ts->c_traceobj, prefix + "trace function", id);
  }
}

Status Walker::Run(CaptureStats* stats) {
  auto start = std::chrono::steady_clock::now();
  // Everything that might allocate happens here, before the walk.
  str_sizeof_ = PyUnicode_InternFromString("__sizeof__");
  str_module_ = PyUnicode_InternFromString("__module__");
  str_name_ = PyUnicode_InternFromString("__name__");
  if (str_sizeof_ == nullptr || str_module_ == nullptr || str_name_ == nullptr) {
    Py_XDECREF(str_sizeof_);
    Py_XDECREF(str_module_);
    Py_XDECREF(str_name_);
    PyErr_Clear();
    return Internal("cannot create the capture's attribute names");
  }
  // hs_type_lookup needs their hashes; interning computed them.
  (void)PyObject_Hash(str_sizeof_);
  (void)PyObject_Hash(str_module_);
  (void)PyObject_Hash(str_name_);
  // Held as borrowed pointers when something else keeps them alive (they are keys of the
  // builtin types' dicts), so that the snapshot does not count the capture's own references.
  for (PyObject** name : {&str_sizeof_, &str_module_, &str_name_}) {
    if (Py_REFCNT(*name) > 1) {
      Py_DECREF(*name);
    } else {
      owned_names_.push_back(*name);
    }
  }
  PyTypeObject* by_kind[] = {&PyBaseObject_Type, &PyList_Type, &PyDict_Type,     &PySet_Type,
                             &PyUnicode_Type,    &PyLong_Type, &PyByteArray_Type};
  for (int k = HS_SIZE_DEFAULT; k <= HS_SIZE_BYTEARRAY; ++k) {
    sizeof_by_kind_[k] = CFunctionOf(hs_type_lookup(by_kind[k], str_sizeof_));
  }
  ReadThreadNames();
  FindExtensionTypes();
  ReadThreadLocals();
  emitter_ = std::make_unique<Emitter>(w_, config_.values, key_refs_, config_.parallel);
  batch_ = &emitter_->batch();

  // The walk. From here on: no Python objects, no Python code.
  PyObject* garbage = hs_gc_garbage();
  if (garbage != nullptr && PyList_Check(garbage)) {
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(garbage); ++i) {
      garbage_.Insert(PyList_GET_ITEM(garbage, i), 1);
    }
  }
  hs_foreach_tracked(
      [](PyObject* op, int generation, void* arg) -> int {
        auto* self = static_cast<Walker*>(arg);
        (void)generation;
        self->seen_.Insert(op);
        // The type pointer shares a cache line with the collector's header just read.
        if (PyFunction_Check(op)) {
          self->NoteFunction(op);
        } else if (self->local_getattro_ != nullptr &&
                   Py_TYPE(op)->tp_getattro == self->local_getattro_) {
          self->NoteThreadLocal(op);
        }
        return 0;
      },
      this);
  CollectRoots();
  WriteRunningFrames();
  // Untracked objects (strs, ints, floats, untracked tuples and dicts) are described right
  // after the object that first reached them, not after all tracked objects: the work then
  // has the same mix all along, which keeps the walk and the emitter evenly busy.
  // The tracked objects are read from the collector's lists again (a second pass costs less
  // than keeping a list of them: tens of MB of fresh memory for a big heap). A second cursor
  // runs ahead: objects are scattered in memory, and are fetched early.
  constexpr int kAhead = 8;
  hs_tracked_cursor cursor;
  hs_tracked_cursor ahead;
  hs_tracked_begin(&cursor);
  hs_tracked_begin(&ahead);
  int ahead_generation = 0;
  for (int i = 0; i < kAhead; ++i) (void)hs_tracked_next(&ahead, &ahead_generation);
  bool tracked_left = true;
  size_t pending_head = 0;  // pending_ is a FIFO: the oldest prefetch has had the most time
  for (uint64_t n = 0;; ++n) {
    if (pending_head < pending_.size()) {
      PyObject* op = pending_[pending_head++];
      if (pending_head == pending_.size()) {
        pending_.clear();
        pending_head = 0;
      }
      ProcessObject(op, kGenerationUntracked);
    } else if (tracked_left) {
      int generation = 0;
      PyObject* op = hs_tracked_next(&cursor, &generation);
      if (op == nullptr) {
        tracked_left = false;
        continue;
      }
      if (const auto* next =
              reinterpret_cast<const char*>(hs_tracked_next(&ahead, &ahead_generation))) {
        __builtin_prefetch(next - 16);
        __builtin_prefetch(next + 48);
      }
      // 1 + the generation, kGenerationPermanent for gc.freeze()'s objects.
      ProcessObject(op, static_cast<uint32_t>(generation + 1));
    } else {
      break;
    }
    if ((n & 0xffff) == 0 && emitter_->failed()) break;
  }
  // The emitter reads objects without the GIL: it must be done before anything may change.
  HEAPSNAP_RETURN_IF_ERROR(emitter_->Finish());
  for (const auto& r : roots_) {
    HEAPSNAP_RETURN_IF_ERROR(
        w_->AddRoot({r.kind, r.address, w_->InternString(r.label), r.thread_id, r.depth}));
  }
  // The walk is over: C __sizeof__ methods may allocate their result now.
  for (const Deferred& d : deferred_sizes_) {
    auto* descr = reinterpret_cast<PyMethodDescrObject*>(d.sizeof_descr);
    PyMethodDef* def = descr->d_method;
    if (def == nullptr || !(def->ml_flags & METH_NOARGS)) continue;
    PyObject* result = def->ml_meth(d.op, nullptr);
    if (result == nullptr) {
      PyErr_Clear();
      continue;
    }
    Py_ssize_t size = PyLong_AsSsize_t(result);
    Py_DECREF(result);
    if (size < 0) {
      PyErr_Clear();
      continue;
    }
    size += hs_preheader_size(d.op);
    HEAPSNAP_RETURN_IF_ERROR(w_->AddSizeFixup({d.index, static_cast<uint64_t>(size)}));
  }
  stats->objects = w_->object_count();
  stats->edges = w_->edge_count();
  stats->roots = roots_.size();
  stats->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  return Status::Ok();
}

}  // namespace

Status CaptureHeap(const CaptureConfig& config, CaptureStats* stats) {
  const int was_enabled = hs_gc_set_enabled(0);
  HeaderInfo header;
  header.python_version = Py_GetVersion();
  header.python_implementation = "cpython";
  header.python_hexversion = PY_VERSION_HEX;
  header.pid = static_cast<int64_t>(getpid());
  header.time_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  PyObject* executable = PySys_GetObject("executable");  // borrowed
  header.executable = Utf8(executable);
  PyErr_Clear();
  header.values = config.values;
  header.max_preview_bytes = config.values ? config.max_preview_bytes : 0;
  header.gc_enabled = was_enabled != 0;
  long long thresholds[3];
  long long counts[3];
  hs_gc_info(thresholds, counts);
  header.gc_thresholds.assign(thresholds, thresholds + 3);
  header.gc_counts.assign(counts, counts + 3);
  PyObject* garbage = hs_gc_garbage();
  header.gc_garbage_length = garbage != nullptr && PyList_Check(garbage)
                                 ? static_cast<uint64_t>(PyList_GET_SIZE(garbage))
                                 : 0;
  header.pointer_size = sizeof(void*);
  header.reason = config.reason;
  header.capture_version = config.capture_version;

  Status status;
  {
    SnapshotWriter::Options options;
    // Checksums and file writes on a third thread: blocking writes never stall the emitter.
    options.background = config.parallel;
    auto writer = SnapshotWriter::Create(config.path, header, options);
    if (!writer.ok()) {
      status = writer.status();
    } else {
      Walker walker(writer->get(), config);
      status = walker.Run(stats);
      if (status.ok()) status = (*writer)->Finish();
    }
  }
  hs_gc_set_enabled(was_enabled);
  return status;
}

}  // namespace heapsnap::capture

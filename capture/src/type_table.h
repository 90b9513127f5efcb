// The type table: what the walk knows about each type, decided once, the first time one of
// its objects is met: its type record, which labeller and value preview its instances get,
// how their size is found (a mirror of a builtin __sizeof__, or a C __sizeof__ run after the
// walk), its __slots__ and C fields, and the extension types heapsnap knows the layout of.
#ifndef HEAPSNAP_CAPTURE_TYPE_TABLE_H_
#define HEAPSNAP_CAPTURE_TYPE_TABLE_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>
// clang-format on

#include "batch.h"
#include "heapsnap/base/status.h"
#include "heapsnap/format/types.h"
#include "interned_name.h"
#include "ptr_map.h"
#include "value_text.h"

namespace heapsnap::capture {

// PyObject_IS_GC, inlined: it runs for every object.
inline bool IsGc(PyObject* op) {
  PyTypeObject* tp = Py_TYPE(op);
  return (tp->tp_flags & Py_TPFLAGS_HAVE_GC) != 0 && (tp->tp_is_gc == nullptr || tp->tp_is_gc(op));
}

// Which labeller a type's instances get (object_labels.h).
enum class Labeler : uint8_t {
  kNone,
  kDict,
  kList,
  kTuple,
  kSet,
  kDeque,
  kFunction,
  kCell,
  kMethod,
  kCFunction,
  kType,
  kModule,
  kCode,
  kFrame,
  kGenerator,
  kWeakref,
  kException,
  kTraceback,
  kStaticOrClassMethod,
  kProperty,
  kDescriptor,
};

// Extension types labelled by their own code, beyond their fields.
enum class Special : uint8_t {
  kNone,
  kLruCache,  // after tp_traverse, in its order: the links' keys and results, the fields
  kNdarray,   // numpy: base and dtype, which no tp_traverse reports
};

// A C-level object field: the PyObject* at `offset` of every instance (tp_members, or the
// layouts heapsnap knows, extension_types.h), named when tp_traverse reports what it points at.
struct MemberField {
  Py_ssize_t offset;
  const char* name;
  LabelKind kind;  // kAttribute (a Python attribute) or kField
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

// The extension types heapsnap knows the layout of (extension_types.h), when imported.
struct ExtensionTypes {
  PyTypeObject* lru_cache = nullptr;  // functools._lru_cache_wrapper
  PyTypeObject* local = nullptr;      // _thread._local
  PyTypeObject* future = nullptr;     // _asyncio.Future
  PyTypeObject* task = nullptr;       // _asyncio.Task
  PyTypeObject* ndarray = nullptr;    // numpy.ndarray, when numpy is imported
  PyTypeObject* dtype = nullptr;      // numpy.dtype
};

class TypeTable {
 public:
  explicit TypeTable(bool values) : values_(values) {}
  TypeTable(const TypeTable&) = delete;
  TypeTable& operator=(const TypeTable&) = delete;

  // Before the walk (it may allocate): the names it looks up, the builtin __sizeof__
  // implementations it mirrors, the extension types already imported.
  Status Prepare();

  // The entry of tp; the first time, its type record is queued on new_types.
  TypeEntry& TypeOf(PyTypeObject* tp, std::vector<PendingType>* new_types) {
    CachedType& cached = cache_[(reinterpret_cast<uintptr_t>(tp) >> 6) & 63];
    if (cached.tp == tp) return *cached.entry;
    if (uint32_t* i = index_.Find(tp)) {
      cached = {tp, types_[*i].get()};
      return *cached.entry;
    }
    return Add(tp, new_types);
  }
  // A type of no Python type (a synthetic node's); its record is queued on new_types.
  TypeId AddSynthetic(PendingType type, std::vector<PendingType>* new_types);

  const ExtensionTypes& extensions() const { return ext_; }

 private:
  TypeEntry& Add(PyTypeObject* tp, std::vector<PendingType>* new_types);
  PendingType Describe(PyTypeObject* tp, TypeEntry* entry) const;
  Preview PreviewOf(PyTypeObject* tp) const;
  static Labeler LabelerOf(PyTypeObject* tp);
  void FindSize(PyTypeObject* tp, TypeEntry* entry) const;
  static void BuildSlots(PyTypeObject* tp, TypeEntry* entry);
  void BuildMembers(PyTypeObject* tp, TypeEntry* entry) const;
  int ExtensionKind(PyTypeObject* base, PyTypeObject* tp) const;
  void FindExtensionTypes();

  const bool values_;
  uint32_t type_count_ = 0;
  PtrMap<uint32_t> index_;
  std::vector<std::unique_ptr<TypeEntry>> types_;
  // The types met last, by address bits: objects of a few types come interleaved.
  struct CachedType {
    PyTypeObject* tp = nullptr;
    TypeEntry* entry = nullptr;
  };
  CachedType cache_[64];
  ExtensionTypes ext_;
  InternedName sizeof_name_;
  InternedName module_name_;
  // The builtin __sizeof__ implementations hs_sizeof mirrors, by HS_SIZE_* kind.
  PyCFunction sizeof_by_kind_[HS_SIZE_BYTEARRAY + 1] = {};
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_TYPE_TABLE_H_

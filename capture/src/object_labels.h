// Object labelling: the names of an object's references (attribute, index, dict key, local
// variable, field ...) and of the object itself (a function's qualname, a module's name),
// read from the object's own fields. Labels go to the batch the walk fills; the emitter pairs
// them with what tp_traverse reported (edge_placement.h).
#ifndef HEAPSNAP_CAPTURE_OBJECT_LABELS_H_
#define HEAPSNAP_CAPTURE_OBJECT_LABELS_H_

// cpython_internals.h brings Python.h, which must come before any other header.
#include "cpython_internals.h"
// clang-format off
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
// clang-format on

#include "batch.h"
#include "heapsnap/base/status.h"
#include "interned_name.h"
#include "object_address.h"
#include "ptr_map.h"
#include "roots.h"
#include "type_table.h"

namespace heapsnap::capture {

// Whether dict op has a split (key-sharing) table, whose keys the class's keys object holds.
inline bool IsSplitTable(PyObject* op) {
  return reinterpret_cast<PyDictObject*>(op)->ma_values != nullptr;
}

class ObjectLabels {
 public:
  // key_refs: str dict keys are written as references to their key objects.
  ObjectLabels(TypeTable* types, bool key_refs) : types_(types), key_refs_(key_refs) {}
  ObjectLabels(const ObjectLabels&) = delete;
  ObjectLabels& operator=(const ObjectLabels&) = delete;

  // Before the walk (it may allocate): the names it looks up, and which thread each
  // thread-local dict belongs to.
  Status Prepare(const ThreadNames& threads);
  // Before the walk, for every tracked object: notes the containers whose items get names
  // from elsewhere (a function's defaults and closure, a threading.local's per-thread dicts).
  void NoteTracked(PyObject* op) {
    // The type pointer shares a cache line with the collector's header just read.
    if (PyFunction_Check(op)) {
      NoteFunction(op);
    } else if (local_getattro_ != nullptr && Py_TYPE(op)->tp_getattro == local_getattro_) {
      NoteThreadLocal(op);
    }
  }
  // Whether op's items are named by its owner (NoteTracked).
  bool HasContainerNames(PyObject* op) const { return containers_.Find(op) != nullptr; }

  // The object being described is the last of batch: its labels and references start at the
  // batch's current ends.
  void Begin(Batch* batch) {
    batch_ = batch;
    label_start_ = batch->labels.size();
    traversed_start_ = batch->traversed.size();
  }
  size_t label_start() const { return label_start_; }
  size_t traversed_start() const { return traversed_start_; }

  // Labels op's references, before tp_traverse reports them.
  void BeforeTraversal(PyObject* op, const TypeEntry& type);
  // Labels what only tp_traverse's report tells (C fields, lru_cache entries, set and deque
  // members), after it.
  void AfterTraversal(PyObject* op, const TypeEntry& type);
  // Gives op its name: a function's or code's qualname and place, a class's or module's name.
  void Name(PyObject* op, const TypeEntry& type);
  // Labels a frame's references: locals by name, stack slots by index, and with
  // include_specials its fields (f_back, f_code, ...).
  void LabelFrameView(const hs_frame_view& view, bool include_specials);

 private:
  // What a container's items are to the function or thread-local that owns it.
  enum class ContainerRole : uint8_t {
    kDefaults,          // a function's __defaults__ tuple: parameter defaults
    kClosure,           // a function's __closure__ tuple: closure variables
    kKwdefaults,        // a function's __kwdefaults__ dict: keyword parameter defaults
    kThreadLocalDicts,  // a threading.local's dict of per-thread dicts
  };
  struct ContainerNames {
    PyObject* code;  // the function's code (null for kThreadLocalDicts)
    ContainerRole role;
  };

  void NoteFunction(PyObject* op);
  void NoteThreadLocal(PyObject* op);
  void ReadThreadLocals(const ThreadNames& threads);

  void AddLabel(const void* target, LabelKind kind, uint64_t value,
                LabelValueKind value_kind = LabelValueKind::kPlain,
                EdgeKind kind_if_not_traversed = EdgeKind::kStrong) {
    if (target != nullptr) {
      batch_->labels.push_back({target, value, kind, value_kind, kind_if_not_traversed});
    }
  }
  void AddNamed(PyObject* target, LabelKind kind, PyObject* name) {
    AddLabel(target, kind, AddressOf(name), LabelValueKind::kName);
  }
  void AddField(const void* target, const char* name,
                EdgeKind kind_if_not_traversed = EdgeKind::kStrong) {
    AddLabel(target, LabelKind::kField, AddressOf(name), LabelValueKind::kLiteral,
             kind_if_not_traversed);
  }
  void AddRefs(const hs_named_ref* refs, int n) {
    for (int i = 0; i < n; ++i) AddField(refs[i].target, refs[i].name);
  }

  void LabelInstance(PyObject* op, const TypeEntry& type);
  void LabelDict(PyObject* op);
  void LabelThreadLocalDicts(PyObject* op);
  void LabelList(PyObject* op);
  void LabelTuple(PyObject* op);
  void LabelFunction(PyObject* op);
  void LabelType(PyObject* op);
  void LabelGenerator(PyObject* op);
  void LabelWeakref(PyObject* op);
  void LabelException(PyObject* op);
  void LabelStaticOrClassMethod(PyObject* op);
  void LabelProperty(PyObject* op);
  void LabelDescriptor(PyObject* op);
  void LabelNdarray(PyObject* op);
  void LabelMembers(PyObject* op, const TypeEntry& type);
  void ClaimTraversed(const void* target, LabelKind kind, const char* name);
  void LabelLruCache(PyObject* op, const TypeEntry& type);
  void LabelSetOrDequeMembers(const TypeEntry& type);
  void NameFunction(PyObject* op);
  void NameModule(PyObject* op);

  TypeTable* types_;
  const bool key_refs_;
  Batch* batch_ = nullptr;
  size_t label_start_ = 0;
  size_t traversed_start_ = 0;
  InternedName name_name_;  // "__name__"

  PtrMap<ContainerNames> containers_;
  // _thread._local's tp_getattro, which its subclasses inherit: set only when some thread has
  // thread-local data, so that the scan before the walk tests it only then.
  getattrofunc local_getattro_ = nullptr;
  // A thread's dict of a local (3.8-3.12) or the thread's key in every local's dicts (3.13)
  // -> the label of that thread in local_thread_labels_ (a deque: the texts must not move).
  PtrMap<uint32_t> local_owner_;
  std::deque<std::string> local_thread_labels_;
};

}  // namespace heapsnap::capture

#endif  // HEAPSNAP_CAPTURE_OBJECT_LABELS_H_

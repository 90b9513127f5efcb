// The snapshot's data model, independent of the generated protobuf classes. The writer takes
// these records and the reader returns them; FORMAT.md documents what every field means.
#ifndef HEAPSNAP_FORMAT_TYPES_H_
#define HEAPSNAP_FORMAT_TYPES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/base/wire.h"  // ZigZagEncode/Decode, for label values

namespace heapsnap {

inline constexpr uint32_t kFormatVersion = 1;
// PNG-style magic: a high byte catches 7-bit transfers, CR LF catches newline conversion.
inline constexpr unsigned char kMagic[8] = {0x89, 'H', 'S', 'N', 'A', 'P', '\r', '\n'};
inline constexpr size_t kPreambleSize = 12;  // magic + uint32 format version
// After the trailer record: its file offset (uint64 LE) and this magic, so that a loader can
// read the totals first and size its arrays once.
inline constexpr unsigned char kFooterMagic[4] = {'H', 'E', 'N', 'D'};
inline constexpr size_t kFooterSize = 12;
// No honest record comes near this; a reader refuses larger lengths before allocating.
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;

// A strongly typed id, so object indices, type ids and string ids cannot be mixed up.
template <typename Tag, typename T = uint32_t>
class Id {
 public:
  constexpr Id() = default;
  constexpr explicit Id(T v) : v_(v) {}
  constexpr T value() const { return v_; }
  constexpr bool valid() const { return v_ != 0; }
  friend constexpr bool operator==(Id a, Id b) { return a.v_ == b.v_; }
  friend constexpr bool operator!=(Id a, Id b) { return a.v_ != b.v_; }
  friend constexpr bool operator<(Id a, Id b) { return a.v_ < b.v_; }

 private:
  T v_ = 0;
};

using StringId = Id<struct StringIdTag>;  // 0 = no string
using TypeId = Id<struct TypeIdTag>;      // 0 = invalid

enum class EdgeKind : uint8_t {
  kUnknown = 0,
  kTraverse = 1,
  kStrong = 2,
  kBorrowed = 3,
  kWeak = 4
};

enum class LabelKind : uint8_t {
  kNone = 0,
  kTraverseIndex = 1,
  kAttribute = 2,
  kField = 3,
  kDictKey = 4,
  kDictKeyInt = 5,
  kDictKeyObject = 6,
  kIndex = 7,
  kSetMember = 8,
  kClosureVariable = 9,
  kParameterDefault = 10,
  kLocalVariable = 11,
  kStackSlot = 12,
  kDictKeyIntObject = 13,
  // A str key, by reference: the text is the value preview of the key object. kDictKeyRef's
  // value is the zig-zag distance from this edge to the same object's kDictKeySelf edge that
  // points at the key; kDictKeySelf is that edge (no value).
  kDictKeyRef = 14,
  kDictKeySelf = 15,
};
inline constexpr uint32_t kMaxLabelKind = 15;

// A kDictKeyRef label's value: from the distance (key edge index minus this edge's index,
// within one object) and back.
inline uint64_t EncodeDictKeyRef(int64_t distance) { return ZigZagEncode(distance); }
inline int64_t DecodeDictKeyRef(uint64_t value) { return ZigZagDecode(value); }

// True when label_value of this kind is a StringId (else an integer or unused).
bool LabelHasString(LabelKind kind);

enum class RootKind : uint8_t {
  kUnknown = 0,
  kModules = 1,
  kSys = 2,
  kBuiltins = 3,
  kThreadFrame = 4,
  kThreadState = 5,
  kGcGarbage = 6,
  kExternal = 7,
  kImmortal = 8,
  kFrozen = 9,
};
inline constexpr uint32_t kMaxRootKind = 9;
const char* RootKindName(RootKind kind);
const char* EdgeKindName(EdgeKind kind);

namespace object_flags {
inline constexpr uint32_t kGcTracked = 1;
inline constexpr uint32_t kImmortal = 2;
inline constexpr uint32_t kFrozen = 4;
inline constexpr uint32_t kFinalized = 8;
inline constexpr uint32_t kHasFinalizer = 16;
inline constexpr uint32_t kHasLegacyDel = 32;
inline constexpr uint32_t kInGcGarbage = 64;
inline constexpr uint32_t kSynthetic = 128;
inline constexpr uint32_t kGcType = 256;
inline constexpr uint32_t kAll = 511;
}  // namespace object_flags

namespace type_flags {
inline constexpr uint32_t kHeap = 1;
inline constexpr uint32_t kHasFinalizer = 2;
inline constexpr uint32_t kHasLegacyDel = 4;
inline constexpr uint32_t kGc = 8;
inline constexpr uint32_t kSynthetic = 16;
inline constexpr uint32_t kAll = 31;
}  // namespace type_flags

// Generation as stored: 0 untracked, 1..3 generation 0..2, 4 permanent (frozen).
inline constexpr uint32_t kGenerationUntracked = 0;
inline constexpr uint32_t kGenerationPermanent = 4;

struct HeaderInfo {
  uint32_t format_version = kFormatVersion;
  std::string python_version;
  std::string python_implementation;
  uint32_t python_hexversion = 0;
  int64_t pid = 0;
  int64_t time_unix_ns = 0;
  std::string executable;
  bool values = true;
  uint32_t max_preview_bytes = 0;
  bool gc_enabled = true;
  std::vector<int64_t> gc_thresholds;
  std::vector<int64_t> gc_counts;
  uint64_t gc_garbage_length = 0;
  uint32_t pointer_size = 8;
  std::string reason;
  std::string capture_version;
};

struct TypeRecord {
  StringId name;
  StringId qualname;
  uint64_t address = 0;
  uint32_t flags = 0;
  uint64_t basicsize = 0;
  uint64_t itemsize = 0;
};

struct ObjectRecord {
  uint64_t address = 0;
  TypeId type;
  uint64_t size = 0;
  uint64_t refcount = 0;
  uint32_t flags = 0;
  uint32_t generation = kGenerationUntracked;
};

struct EdgeRecord {
  uint64_t target = 0;
  EdgeKind kind = EdgeKind::kUnknown;
  LabelKind label_kind = LabelKind::kNone;
  uint64_t label_value = 0;
};

struct ValueRecord {
  uint64_t object_index = 0;  // global object index
  std::string text;
  uint64_t length = 0;
};

struct NameRecord {
  uint64_t object_index = 0;  // global object index
  StringId name;
  StringId file;
  uint32_t line = 0;
};

struct RootRecord {
  RootKind kind = RootKind::kUnknown;
  uint64_t address = 0;
  StringId label;
  uint64_t thread_id = 0;
  uint32_t depth = 0;
};

struct SizeFixup {
  uint64_t object_index = 0;
  uint64_t size = 0;
};

struct TrailerInfo {
  uint64_t objects = 0;
  uint64_t edges = 0;
  uint64_t strings = 0;
  uint64_t types = 0;
  uint64_t roots = 0;
  uint64_t records = 0;
  uint64_t size_fixups = 0;
};

// Renders an edge label as a person would write it in a path: ".name", "['key']", "[3]", ...
// `string_of` maps a StringId to its text. For kDictKeyRef and kDictKeySelf, whose text lives
// in another object, key_repr is that text as QuoteKeyPreview made it ("?" if null).
std::string FormatLabel(LabelKind kind, uint64_t value,
                        const std::function<const std::string&(StringId)>& string_of,
                        const std::string* key_repr = nullptr);

// The repr of a str dict key from its value preview (UTF-8 text, at most some bytes of it)
// and its full length in characters, as the capture writes key reprs: quoted, ' \ and control
// characters escaped, at most 80 bytes of text, "..." when cut: 'ada', 'a\'b', 'long...'.
std::string QuoteKeyPreview(std::string_view text, uint64_t length);

// A bytes value preview as text: printable ASCII as is, a backslash doubled, any other byte
// as \xNN (what Python's repr shows between b'...'): b"\x80a\\" reads \x80a\\.
std::string EscapeBytes(std::string_view bytes);

}  // namespace heapsnap

#endif  // HEAPSNAP_FORMAT_TYPES_H_

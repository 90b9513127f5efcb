#include "heapsnap/format/types.h"

#include <string>

#include "heapsnap/base/hex.h"
#include "heapsnap/base/python_text.h"

namespace heapsnap {

bool LabelHasString(LabelKind kind) {
  switch (kind) {
    case LabelKind::kAttribute:
    case LabelKind::kField:
    case LabelKind::kDictKey:
    case LabelKind::kDictKeyObject:
    case LabelKind::kClosureVariable:
    case LabelKind::kParameterDefault:
    case LabelKind::kLocalVariable:
      return true;
    default:
      return false;
  }
}

const char* RootKindName(RootKind kind) {
  switch (kind) {
    case RootKind::kModules:
      return "modules";
    case RootKind::kSys:
      return "sys";
    case RootKind::kBuiltins:
      return "builtins";
    case RootKind::kThreadFrame:
      return "thread_frame";
    case RootKind::kThreadState:
      return "thread_state";
    case RootKind::kGcGarbage:
      return "gc_garbage";
    case RootKind::kExternal:
      return "external";
    case RootKind::kImmortal:
      return "immortal";
    case RootKind::kFrozen:
      return "frozen";
    case RootKind::kUnknown:
      break;
  }
  return "unknown";
}

const char* EdgeKindName(EdgeKind kind) {
  switch (kind) {
    case EdgeKind::kTraverse:
      return "traverse";
    case EdgeKind::kStrong:
      return "strong";
    case EdgeKind::kBorrowed:
      return "borrowed";
    case EdgeKind::kWeak:
      return "weak";
    case EdgeKind::kUnknown:
      break;
  }
  return "unknown";
}

std::string FormatLabel(LabelKind kind, uint64_t value,
                        const std::function<const std::string&(StringId)>& string_of,
                        const std::string* key_repr) {
  auto str = [&]() -> const std::string& {
    return string_of(StringId(static_cast<uint32_t>(value)));
  };
  switch (kind) {
    case LabelKind::kNone:
      return "?";
    case LabelKind::kTraverseIndex:
      return "<tp_traverse#" + std::to_string(value) + ">";
    case LabelKind::kAttribute:
    case LabelKind::kField:
      return "." + str();
    case LabelKind::kDictKey:
      return "[" + str() + "]";
    case LabelKind::kDictKeyInt:
      return "[" + std::to_string(ZigZagDecode(value)) + "]";
    case LabelKind::kDictKeyObject:
      return "<key " + str() + ">";
    case LabelKind::kIndex:
      return "[" + std::to_string(value) + "]";
    case LabelKind::kSetMember:
      return "{member}";
    case LabelKind::kClosureVariable:
      return "<closure " + str() + ">";
    case LabelKind::kParameterDefault:
      return "<default " + str() + "=>";
    case LabelKind::kLocalVariable:
      return "<local " + str() + ">";
    case LabelKind::kStackSlot:
      return "<stack " + std::to_string(value) + ">";
    case LabelKind::kDictKeyIntObject:
      return "<key " + std::to_string(ZigZagDecode(value)) + ">";
    case LabelKind::kDictKeyRef:
      return "[" + (key_repr != nullptr ? *key_repr : std::string("?")) + "]";
    case LabelKind::kDictKeySelf:
      return "<key " + (key_repr != nullptr ? *key_repr : std::string("?")) + ">";
  }
  return "?";
}

std::string EscapeBytes(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      AppendHexEscape(c, &out);
    }
  }
  return out;
}

std::string QuoteKeyPreview(std::string_view text, uint64_t length) {
  const size_t n = KeyPrefixBytes(text);
  bool truncated = n < text.size();
  if (!truncated) {
    uint64_t chars = 0;
    for (char c : text) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    truncated = chars < length;  // the preview itself was cut
  }
  std::string out = "'";
  out.append(text.substr(0, n));
  FinishQuotedKey(&out, 1, truncated);
  return out;
}

}  // namespace heapsnap

// Suppressions: what a check must not fail on, in the style of LeakSanitizer's and heaptrack's
// suppression files. One rule per line, `#` to the end of a line is a comment:
//
//   # our request cache is bounded by its own logic
//   path:sys.modules['app'].CACHE*
//   type:app.models.Session
//   function:app.handlers.*
//   fingerprint:3f2a9c41d07be815
//
//   type:GLOB         the objects' qualified type (of a finding: its type, container or example)
//   path:GLOB         the path as printed: the group's shape, with and without its ` -> Type`,
//                     and the example's own path (a finding's path_text)
//   function:GLOB     the qualified name of a function, code object or frame on that path (and
//                     a finding's function)
//   fingerprint:HEX   the group's or finding's fingerprint, exactly (heap_diff.h)
//
// A GLOB matches the whole text; `*` is any run of characters and `?` any one character; every
// other character, brackets included, stands for itself.
//
// Built-in rules (DefaultSuppressions) name CPython's own fill-once retention, each scoped to
// the interpreter versions that have it (like LeakCanary's patternApplies). What they match is
// "known retention": reported on its own, never hidden. Every rule counts what it matched, so a
// run can list the rules that matched nothing.
#ifndef HEAPSNAP_ANALYZE_SUPPRESSIONS_H_
#define HEAPSNAP_ANALYZE_SUPPRESSIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "heapsnap/base/status.h"

namespace heapsnap {

enum class SuppressionKind : uint8_t { kType, kPath, kFunction, kFingerprint };
const char* SuppressionKindName(SuppressionKind kind);  // "type", "path", ...

// Python versions as major << 8 | minor: 0x030c is 3.12.
inline constexpr uint32_t kAnyPython = 0;

struct SuppressionRule {
  SuppressionKind kind = SuppressionKind::kType;
  std::string pattern;
  std::string origin;  // "FILE:LINE", or "built-in"
  bool builtin = false;
  std::string reason;  // built-in rules: what CPython keeps there, and why it is not a leak
  uint32_t min_python = kAnyPython;  // inclusive; kAnyPython: no bound
  uint32_t max_python = kAnyPython;  // inclusive; kAnyPython: no bound

  std::string Text() const;  // "type:app.Session"
  bool AppliesTo(uint32_t python) const;
  std::string Versions() const;  // "all", "3.12+", "3.8-3.11"
};

// Rules from a file's text; `source` names it in errors and origins. An unknown kind, an empty
// pattern or a fingerprint that is not 16 hex digits is an error naming the line.
StatusOr<std::vector<SuppressionRule>> ParseSuppressions(std::string_view text,
                                                         const std::string& source);
StatusOr<std::vector<SuppressionRule>> LoadSuppressions(const std::string& path);

// CPython's own fill-once retention, all versions (filter with AppliesTo).
const std::vector<SuppressionRule>& DefaultSuppressions();

bool GlobMatch(std::string_view pattern, std::string_view text);

// What the rules look at, for one group or finding.
struct SuppressionSubject {
  uint64_t fingerprint = 0;
  std::vector<std::string> types;
  std::vector<std::string> paths;
  std::vector<std::string> functions;
};

struct SuppressionUse {
  uint64_t matches = 0;  // groups and findings
  uint64_t objects = 0;
  uint64_t bytes = 0;
};

// The rules that apply to one interpreter version, user rules first, with what each matched.
class SuppressionSet {
 public:
  SuppressionSet(const std::vector<SuppressionRule>& user, bool defaults, uint32_t python);

  // The first rule that matches, counted with the objects and bytes; -1 when none does.
  int Match(const SuppressionSubject& subject, uint64_t objects, uint64_t bytes);

  bool Has(SuppressionKind kind) const;
  const std::vector<SuppressionRule>& rules() const { return rules_; }
  const std::vector<SuppressionUse>& uses() const { return uses_; }

 private:
  bool Matches(const SuppressionRule& rule, const SuppressionSubject& subject) const;

  std::vector<SuppressionRule> rules_;
  std::vector<SuppressionUse> uses_;
};

// "3.12" from a snapshot's hexversion, as the rules' versions are written.
uint32_t PythonMinorVersion(uint32_t hexversion);

}  // namespace heapsnap

#endif  // HEAPSNAP_ANALYZE_SUPPRESSIONS_H_

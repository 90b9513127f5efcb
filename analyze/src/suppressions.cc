#include "heapsnap/analyze/suppressions.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "heapsnap/analyze/heap_diff.h"  // FingerprintHex

namespace heapsnap {

const char* SuppressionKindName(SuppressionKind kind) {
  switch (kind) {
    case SuppressionKind::kType:
      return "type";
    case SuppressionKind::kPath:
      return "path";
    case SuppressionKind::kFunction:
      return "function";
    case SuppressionKind::kFingerprint:
      return "fingerprint";
  }
  return "?";
}

std::string SuppressionRule::Text() const {
  return std::string(SuppressionKindName(kind)) + ":" + pattern;
}

bool SuppressionRule::AppliesTo(uint32_t python) const {
  if (python == kAnyPython) return true;  // a snapshot that does not say: every rule
  return (min_python == kAnyPython || python >= min_python) &&
         (max_python == kAnyPython || python <= max_python);
}

namespace {

std::string VersionText(uint32_t v) {
  return std::to_string(v >> 8) + "." + std::to_string(v & 0xFF);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsFingerprint(std::string_view s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string SuppressionRule::Versions() const {
  if (min_python == kAnyPython && max_python == kAnyPython) return "all";
  if (max_python == kAnyPython) return VersionText(min_python) + "+";
  if (min_python == kAnyPython) return "up to " + VersionText(max_python);
  if (min_python == max_python) return VersionText(min_python);
  return VersionText(min_python) + "-" + VersionText(max_python);
}

StatusOr<std::vector<SuppressionRule>> ParseSuppressions(std::string_view text,
                                                         const std::string& source) {
  std::vector<SuppressionRule> rules;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    // A `#` starts a comment only at the start of a line or after a space: `#` is allowed in
    // patterns (`path:*.<closure x>` never has one, but a key might).
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '#' && (i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])))) {
        line = line.substr(0, i);
        break;
      }
    }
    line = Trim(line);
    if (line.empty()) continue;
    const std::string where = source + ":" + std::to_string(line_number);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument(where + ": a rule is KIND:PATTERN (type:, path:, function: or " +
                             "fingerprint:), not '" + std::string(line) + "'");
    }
    const std::string_view kind = Trim(line.substr(0, colon));
    const std::string_view pattern = Trim(line.substr(colon + 1));
    SuppressionRule rule;
    rule.origin = where;
    rule.pattern = std::string(pattern);
    if (kind == "type") {
      rule.kind = SuppressionKind::kType;
    } else if (kind == "path") {
      rule.kind = SuppressionKind::kPath;
    } else if (kind == "function") {
      rule.kind = SuppressionKind::kFunction;
    } else if (kind == "fingerprint") {
      rule.kind = SuppressionKind::kFingerprint;
      if (!IsFingerprint(pattern)) {
        return InvalidArgument(where + ": a fingerprint is 16 hex digits, not '" +
                               std::string(pattern) + "'");
      }
      for (char& c : rule.pattern) c = static_cast<char>(std::tolower(c));
    } else {
      return InvalidArgument(where + ": unknown rule kind '" + std::string(kind) +
                             "' (type, path, function or fingerprint)");
    }
    if (pattern.empty()) return InvalidArgument(where + ": the rule has no pattern");
    rules.push_back(std::move(rule));
  }
  return rules;
}

StatusOr<std::vector<SuppressionRule>> LoadSuppressions(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot read the suppressions file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError(path + ": cannot read the suppressions file");
  return ParseSuppressions(text.str(), path);
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative wildcard matching with one backtrack point: O(|pattern| * |text|) at worst.
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

uint32_t PythonMinorVersion(uint32_t hexversion) { return hexversion >> 16; }

SuppressionSet::SuppressionSet(const std::vector<SuppressionRule>& user, bool defaults,
                               uint32_t python) {
  for (const SuppressionRule& r : user) {
    if (r.AppliesTo(python)) rules_.push_back(r);
  }
  if (defaults) {
    for (const SuppressionRule& r : DefaultSuppressions()) {
      if (r.AppliesTo(python)) rules_.push_back(r);
    }
  }
  uses_.resize(rules_.size());
}

bool SuppressionSet::Has(SuppressionKind kind) const {
  for (const SuppressionRule& r : rules_) {
    if (r.kind == kind) return true;
  }
  return false;
}

bool SuppressionSet::Matches(const SuppressionRule& rule, const SuppressionSubject& s) const {
  auto any = [&](const std::vector<std::string>& texts) {
    for (const std::string& t : texts) {
      if (GlobMatch(rule.pattern, t)) return true;
    }
    return false;
  };
  switch (rule.kind) {
    case SuppressionKind::kType:
      return any(s.types);
    case SuppressionKind::kPath:
      return any(s.paths);
    case SuppressionKind::kFunction:
      return any(s.functions);
    case SuppressionKind::kFingerprint:
      return FingerprintHex(s.fingerprint) == rule.pattern;
  }
  return false;
}

int SuppressionSet::Match(const SuppressionSubject& subject, uint64_t objects, uint64_t bytes) {
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!Matches(rules_[i], subject)) continue;
    ++uses_[i].matches;
    uses_[i].objects += objects;
    uses_[i].bytes += bytes;
    return static_cast<int>(i);
  }
  return -1;
}

}  // namespace heapsnap

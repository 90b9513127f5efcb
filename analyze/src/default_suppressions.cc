// CPython's own fill-once retention: what the interpreter and its standard library keep on
// purpose, and that a leak check of a short run must not blame on the program. The list
// follows what CPython's own leak hunter restores or clears between runs
// (Lib/test/libregrtest/utils.py clear_caches(), refleak.py dash_R_cleanup()) and the noise
// pytest-memray documents. Each rule is scoped to the versions that have the cache (the
// attribute names changed over time); what they match is reported as known retention.
#include "heapsnap/analyze/suppressions.h"

namespace heapsnap {
namespace {

constexpr uint32_t V(uint32_t major, uint32_t minor) { return major << 8 | minor; }

SuppressionRule Rule(SuppressionKind kind, const char* pattern, const char* reason,
                     uint32_t min_python = kAnyPython, uint32_t max_python = kAnyPython) {
  SuppressionRule r;
  r.kind = kind;
  r.pattern = pattern;
  r.origin = "built-in";
  r.builtin = true;
  r.reason = reason;
  r.min_python = min_python;
  r.max_python = max_python;
  return r;
}

std::vector<SuppressionRule> MakeDefaults() {
  using K = SuppressionKind;
  return {
      Rule(K::kPath, "sys.modules['re']._cache*",
           "re's compiled-pattern cache (re.purge() empties it)"),
      Rule(K::kPath, "sys.modules['re']._cache2*",
           "re's second, least-recently-used pattern cache (re.purge() empties it)", V(3, 12)),
      Rule(K::kPath, "sys.modules['_strptime']._regex_cache*",
           "time.strptime's compiled formats (_strptime._regex_cache)"),
      Rule(K::kPath, "sys.modules['_strptime']._TimeRE_cache*",
           "time.strptime's locale regexes (_strptime._TimeRE_cache)"),
      Rule(K::kPath, "sys.modules['linecache'].cache*",
           "linecache's source lines (tracebacks, warnings, inspect)"),
      Rule(K::kPath, "sys.modules['typing']._cleanups*",
           "typing's lru caches of subscripted generics, reached through their cache_clear "
           "methods",
           kAnyPython, V(3, 11)),
      Rule(K::kPath, "sys.modules['typing']._caches*",
           "typing's lru caches of subscripted generics (typing._caches)", V(3, 12)),
      Rule(K::kPath, "sys.path_importer_cache*", "the import system's finder per sys.path entry"),
      Rule(K::kPath, "sys.modules['zipimport']._zip_directory_cache*",
           "zipimport's table of contents per archive"),
      Rule(K::kPath, "*._abc_impl*",
           "an abstract base class's registry and isinstance caches (abc._abc_caches_clear)"),
      Rule(K::kPath, "sys.modules['copyreg'].dispatch_table*",
           "pickle's reduction functions per type (copyreg.dispatch_table)"),
      Rule(K::kPath, "*.__warningregistry__*",
           "the warnings a module has already shown (the once-per-location registry)"),
      Rule(K::kPath, "sys.modules['logging'].*._cache*",
           "a logger's isEnabledFor answer per level (logging.Logger._cache)"),
      Rule(K::kPath, "sys.modules['urllib.parse']._parse_cache*", "urllib.parse's split cache",
           kAnyPython, V(3, 10)),
      Rule(K::kPath, "sys.modules['encodings']._cache*", "the codec search cache"),
      Rule(K::kPath, "sys.modules['fnmatch']._compile_pattern*",
           "fnmatch's lru cache of translated patterns"),
      Rule(K::kPath, "<dict held from C code or an extension>[*] -> weakref*",
           "a class's list of its subclasses (tp_subclasses): one weak reference per "
           "subclass, kept while the subclass lives (the subclass is judged where it is held)"),
      Rule(K::kPath, "<immortal str>*",
           "interned strings, immortal from 3.12: kept for the interpreter's life", V(3, 12)),
      Rule(K::kPath, "<immortal int>*", "the small ints (-5..256), immortal from 3.12", V(3, 12)),
      Rule(K::kPath, "<int held from C code or an extension>*",
           "the small ints (-5..256), held by the interpreter's small-int array", kAnyPython,
           V(3, 11)),
      Rule(K::kPath, "<str held from C code or an extension>*",
           "single-character and interned strings held by the interpreter's own tables"),
  };
}

}  // namespace

const std::vector<SuppressionRule>& DefaultSuppressions() {
  static const std::vector<SuppressionRule> rules = MakeDefaults();
  return rules;
}

}  // namespace heapsnap

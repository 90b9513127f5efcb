#include "heapsnap/analyze/suppressions.h"

#include <set>

#include "gtest/gtest.h"

namespace heapsnap {
namespace {

TEST(Suppressions, ParsesRulesCommentsAndBlankLines) {
  auto rules = ParseSuppressions(
      "# CI exceptions\n"
      "\n"
      "type:app.Session   # sessions are pooled\n"
      "  path:sys.modules['app'].CACHE*  \n"
      "function:app.handlers.*\n"
      "fingerprint:3F2A9C41D07BE815\n"
      "path:*['#tag']*\n",
      "ci.supp");
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  ASSERT_EQ(rules->size(), 5u);
  EXPECT_EQ((*rules)[0].Text(), "type:app.Session");
  EXPECT_EQ((*rules)[0].origin, "ci.supp:3");
  EXPECT_EQ((*rules)[1].Text(), "path:sys.modules['app'].CACHE*");
  EXPECT_EQ((*rules)[2].kind, SuppressionKind::kFunction);
  EXPECT_EQ((*rules)[3].pattern, "3f2a9c41d07be815");  // fingerprints compare in lower case
  EXPECT_EQ((*rules)[4].pattern, "*['#tag']*");        // a # inside a pattern is not a comment
  EXPECT_FALSE((*rules)[0].builtin);
}

TEST(Suppressions, BadLinesAreErrorsNamingTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& c : {
           Case{"type:a\nleak:foo\n", "rules.txt:2: unknown rule kind 'leak'"},
           Case{"app.Session\n", "rules.txt:1: a rule is KIND:PATTERN"},
           Case{"fingerprint:1234\n", "rules.txt:1: a fingerprint is 16 hex digits"},
           Case{"\n\npath:   # nothing\n", "rules.txt:3: the rule has no pattern"},
       }) {
    auto rules = ParseSuppressions(c.text, "rules.txt");
    ASSERT_FALSE(rules.ok()) << c.text;
    EXPECT_EQ(rules.status().message().rfind(c.message, 0), 0u) << rules.status().message();
  }
  auto missing = LoadSuppressions("/nonexistent/heapsnap.supp");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/heapsnap.supp"), std::string::npos);
}

TEST(Suppressions, GlobsMatchTheWholeTextWithBracketsAsThemselves) {
  EXPECT_TRUE(GlobMatch("sys.modules['re']._cache*", "sys.modules['re']._cache[*] -> re.Pattern"));
  EXPECT_TRUE(GlobMatch("*SESSIONS[*]*", "sys.modules['app'].SESSIONS[*].history"));
  EXPECT_FALSE(GlobMatch("SESSIONS", "sys.modules['app'].SESSIONS"));  // whole text
  EXPECT_TRUE(GlobMatch("app.Sess?on", "app.Session"));
  EXPECT_FALSE(GlobMatch("app.Sess?on", "app.Sesion"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("a*b*c", "a-b-b-c"));
  EXPECT_FALSE(GlobMatch("a*b*c", "a-b-b-"));
  EXPECT_TRUE(GlobMatch("[*]", "[*]"));
  EXPECT_FALSE(GlobMatch("[a]", "a"));  // no character classes: brackets are literal
  // Backtracking stays bounded on a hostile pattern.
  EXPECT_FALSE(GlobMatch(std::string(200, '*') + "x", std::string(100000, 'a')));
}

TEST(Suppressions, RulesApplyToTheirPythonVersions) {
  SuppressionRule r;
  r.min_python = 0x030c;
  EXPECT_FALSE(r.AppliesTo(0x030b));
  EXPECT_TRUE(r.AppliesTo(0x030c));
  EXPECT_TRUE(r.AppliesTo(kAnyPython));  // a snapshot that does not say
  EXPECT_EQ(r.Versions(), "3.12+");
  r.min_python = 0x0308;
  r.max_python = 0x030b;
  EXPECT_EQ(r.Versions(), "3.8-3.11");
  EXPECT_TRUE(r.AppliesTo(0x030b));
  EXPECT_FALSE(r.AppliesTo(0x030d));
  EXPECT_EQ(PythonMinorVersion(0x030c01f0), 0x030cu);
}

TEST(Suppressions, UserRulesComeFirstAndEveryMatchIsCounted) {
  auto user = ParseSuppressions(
      "type:app.*\nfunction:app.handle\nfingerprint:00000000000000ff\n"
      "path:*nothing*\n",
      "mine");
  ASSERT_TRUE(user.ok());
  SuppressionSet set(*user, /*defaults=*/true, 0x030c);
  SuppressionSubject cache;
  cache.types = {"re.Pattern"};
  cache.paths = {"sys.modules['re']._cache[*]"};
  const int builtin = set.Match(cache, 3, 300);
  ASSERT_GE(builtin, 0);
  EXPECT_TRUE(set.rules()[static_cast<size_t>(builtin)].builtin);
  SuppressionSubject session;
  session.types = {"app.Session"};
  session.paths = {"sys.modules['re']._cache[*]"};  // both match: the user's rule wins
  EXPECT_EQ(set.Match(session, 1, 10), 0);
  SuppressionSubject handled;
  handled.types = {"dict"};
  handled.functions = {"app.main", "app.handle"};
  EXPECT_EQ(set.Match(handled, 2, 20), 1);
  SuppressionSubject named;
  named.fingerprint = 0xff;
  EXPECT_EQ(set.Match(named, 4, 40), 2);
  SuppressionSubject other;
  other.types = {"int"};
  other.paths = {"sys.modules['x'].Y"};
  EXPECT_EQ(set.Match(other, 1, 1), -1);
  EXPECT_EQ(set.uses()[0].matches, 1u);
  EXPECT_EQ(set.uses()[0].bytes, 10u);
  EXPECT_EQ(set.uses()[1].objects, 2u);
  EXPECT_EQ(set.uses()[3].matches, 0u);  // matched nothing: reported as unused
  EXPECT_EQ(set.uses()[static_cast<size_t>(builtin)].objects, 3u);
  // Without defaults, CPython's cache is judged.
  SuppressionSet bare(*user, /*defaults=*/false, 0x030c);
  EXPECT_EQ(bare.Match(cache, 3, 300), -1);
}

TEST(Suppressions, DefaultsAreWellFormedAndScoped) {
  std::set<std::string> seen;
  for (const SuppressionRule& r : DefaultSuppressions()) {
    EXPECT_TRUE(r.builtin);
    EXPECT_FALSE(r.pattern.empty());
    EXPECT_FALSE(r.reason.empty()) << r.Text();
    EXPECT_TRUE(seen.insert(r.Text()).second) << "twice: " << r.Text();
    if (r.min_python != kAnyPython && r.max_python != kAnyPython) {
      EXPECT_LE(r.min_python, r.max_python) << r.Text();
    }
  }
  // typing's caches moved in 3.12: each version has the rule for its own layout.
  SuppressionSubject typing_311;
  typing_311.paths = {"sys.modules['typing']._cleanups[*].__self__[*]"};
  SuppressionSet v311({}, true, 0x030b);
  SuppressionSet v312({}, true, 0x030c);
  EXPECT_GE(v311.Match(typing_311, 1, 1), 0);
  EXPECT_EQ(v312.Match(typing_311, 1, 1), -1);
}

}  // namespace
}  // namespace heapsnap

#include <string>

#include "gtest/gtest.h"
#include "heapsnap/base/utf8.h"
#include "heapsnap/export/retainer_graph.h"

namespace heapsnap {
namespace {

RetainerGraph TwoNodes(const std::string& value, const std::string& label) {
  RetainerGraph g;
  GraphNode target;
  target.object = 7;
  target.address = 0x7f00;
  target.type = "app.Item";
  target.value = value;
  target.retained_bytes = 2048;
  target.target = true;
  GraphNode root;
  root.object = 3;
  root.address = 0x7e00;
  root.type = "dict";
  root.root = "sys.modules";
  root.retained_bytes = 4096;
  GraphNode folded;
  folded.object = GraphNode::kSyntheticObject;
  folded.synthetic = true;
  folded.type = "function";
  folded.folded = 2000;
  g.nodes = {target, root, folded};
  g.edges = {{1, 0, label, EdgeKind::kTraverse, false},
             {2, 0, ".<closure x>", EdgeKind::kTraverse, true}};
  return g;
}

TEST(RetainerGraphDot, Golden) {
  EXPECT_EQ(RetainerGraphDot(TwoNodes("'abc'", "['app']")),
            "digraph retainers {\n"
            "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=10];\n"
            "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f8f8f8\", "
            "fontname=\"Helvetica\", fontsize=10];\n"
            "  edge [fontname=\"Helvetica\", fontsize=9];\n"
            "  n0 [label=\"app.Item\\n'abc'\\n0x7f00, retains 2.0 KiB\", fillcolor=\"#f4cccc\", "
            "penwidth=2];\n"
            "  n1 [label=\"sys.modules\\ndict\\n0x7e00, retains 4.0 KiB\", shape=house, "
            "fillcolor=\"#d9ead3\"];\n"
            "  n2 [label=\"2,000 more function\", style=\"rounded,dashed\"];\n"
            "  n1 -> n0 [label=\"['app']\"];\n"
            "  n2 -> n0 [label=\".<closure x>\", style=dashed];\n"
            "}\n");
}

// Whether every `"` of a line is an opening or closing one: outside the labels only the
// writer's own text; inside, quotes are escaped.
bool QuotesBalanced(const std::string& dot) {
  bool inside = false;
  for (size_t i = 0; i < dot.size(); ++i) {
    if (dot[i] == '\\' && inside) {
      ++i;  // an escaped character
      continue;
    }
    if (dot[i] == '"') inside = !inside;
    if (dot[i] == '\n' && inside) return false;  // a raw newline inside a label
  }
  return !inside;
}

bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

TEST(RetainerGraphDot, EscapesUntrustedText) {
  const std::string hostile =
      "a\"] ; n9 [label=\"x\\l\nnext\r\x1b[31m\x7f<b>&lt;\xff\xc2\x9b\xe2\x82";
  const std::string dot = RetainerGraphDot(TwoNodes(hostile, "['" + hostile + "']"));
  EXPECT_TRUE(QuotesBalanced(dot)) << dot;
  EXPECT_TRUE(ValidUtf8(dot)) << dot;
  // Each piece, as DOT reads back the text it shows.
  EXPECT_NE(dot.find("a\\\"] ; n9 [label=\\\"x\\\\l\\\\x0anext\\\\x0d\\\\x1b[31m\\\\x7f<b>&amp;lt;"
                     "\\\\xff\\\\x9b\\\\xe2\\\\x82"),
            std::string::npos)
      << dot;
  // Nothing the snapshot held made a node or edge of its own.
  EXPECT_EQ(dot.find("\n  n9"), std::string::npos);
  size_t arrows = 0;
  for (size_t p = dot.find("->"); p != std::string::npos; p = dot.find("->", p + 1)) ++arrows;
  EXPECT_EQ(arrows, 2u);
  // Text that needs nothing keeps its characters, non-ASCII included.
  const std::string plain = RetainerGraphDot(TwoNodes("'café ☕'", "[3]"));
  EXPECT_NE(plain.find("'café ☕'"), std::string::npos);
}

TEST(RetainerGraphDot, SaysWhenTruncated) {
  RetainerGraph g = TwoNodes("", "[0]");
  EXPECT_EQ(RetainerGraphDot(g).find("left out"), std::string::npos);
  g.truncated = true;
  EXPECT_NE(RetainerGraphDot(g).find("left out"), std::string::npos);
}

}  // namespace
}  // namespace heapsnap

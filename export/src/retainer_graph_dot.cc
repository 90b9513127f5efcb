// RetainerGraphDot: the graph as Graphviz DOT, every label a quoted string escaped here.
#include <string>
#include <string_view>

#include "heapsnap/analyze/human_numbers.h"
#include "heapsnap/base/hex.h"
#include "heapsnap/base/utf8.h"
#include "heapsnap/export/retainer_graph.h"

namespace heapsnap {
namespace {

// Appends text for a DOT quoted string (a label): `"` and `\` escaped, since Graphviz reads
// `\n`, `\l`, `\N`, `\G`... in labels; `&` as `&amp;`, since Graphviz reads entities (`&lt;`,
// `&#65;`) in every label and would show another text; control characters (C0, DEL, C1) and
// bytes that are not UTF-8 as the visible text `\xNN`, so the file is valid UTF-8 and a stored
// newline never breaks a line of the picture. Lines of the label are joined by the caller.
void AppendDotText(std::string_view text, std::string* out) {
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        out->append("\\\\");  // a visible backslash, then xNN
        out->push_back('x');
        out->push_back(kHexDigits[c >> 4]);
        out->push_back(kHexDigits[c & 15]);
      } else if (c == '"' || c == '\\') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c == '&') {
        out->append("&amp;");
      } else {
        out->push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    const size_t n = Utf8SequenceAt(text, i);
    if (n == 0 || (n == 2 && IsC1Control(c, static_cast<unsigned char>(text[i + 1])))) {
      const unsigned char shown = n == 0 ? c : static_cast<unsigned char>(text[i + 1]);
      out->append("\\\\x");
      out->push_back(kHexDigits[shown >> 4]);
      out->push_back(kHexDigits[shown & 15]);
      i += n == 0 ? 1 : 2;
      continue;
    }
    out->append(text.substr(i, n));
    i += n;
  }
}

std::string Quoted(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\\n";
    AppendDotText(lines[i], &out);
  }
  out += "\"";
  return out;
}

std::vector<std::string> NodeLines(const GraphNode& n) {
  std::vector<std::string> lines;
  if (n.folded > 0) {
    lines.push_back(FormatCount(n.folded) + " more " + n.type);
    if (!n.value.empty()) lines.push_back(n.value);
    return lines;
  }
  if (!n.root.empty()) lines.push_back(n.root);
  if (!n.type.empty()) lines.push_back(n.type);
  if (!n.value.empty()) lines.push_back(n.value);
  if (!n.synthetic) {
    lines.push_back(FormatAddress(n.address) + ", retains " + FormatBytes(n.retained_bytes));
  }
  return lines;
}

}  // namespace

std::string RetainerGraphDot(const RetainerGraph& graph) {
  std::string out =
      "digraph retainers {\n"
      "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=10];\n"
      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#f8f8f8\", "
      "fontname=\"Helvetica\", fontsize=10];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  if (graph.truncated) {
    out += "  label=\"(more retainers than the picture holds: some are left out)\";\n";
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const GraphNode& n = graph.nodes[i];
    out += "  n" + std::to_string(i) + " [label=" + Quoted(NodeLines(n));
    if (n.target) {
      out += ", fillcolor=\"#f4cccc\", penwidth=2";
    } else if (!n.root.empty()) {
      out += n.synthetic ? ", shape=box, style=\"dashed\"" : ", shape=house, fillcolor=\"#d9ead3\"";
    } else if (n.folded > 0) {
      out += ", style=\"rounded,dashed\"";
    }
    out += "];\n";
  }
  for (const GraphEdge& e : graph.edges) {
    out += "  n" + std::to_string(e.from) + " -> n" + std::to_string(e.to) +
           " [label=" + Quoted({e.label});
    if (e.alternative) out += ", style=dashed";
    out += "];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace heapsnap

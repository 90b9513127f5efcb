#include "heapsnap/export/html_report.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "test_snapshots.h"

namespace heapsnap {
namespace {

using testing::TestHeap;

struct Analysed {
  std::unique_ptr<Snapshot> snapshot;
  std::unique_ptr<Analysis> analysis;
};

Analysed Load(const TestHeap& heap, const std::string& name) {
  Analysed a;
  auto s = LoadSnapshot(heap.Write(name));
  EXPECT_TRUE(s.ok()) << s.status().message();
  a.snapshot = std::make_unique<Snapshot>(std::move(s).value());
  a.analysis = std::make_unique<Analysis>(Analyze(*a.snapshot));
  return a;
}

// The JSON block of a page.
std::string DataOf(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"heapsnap-data\">";
  const size_t begin = page.find(open);
  const size_t end = page.find("</script>", begin);
  EXPECT_NE(begin, std::string::npos);
  EXPECT_NE(end, std::string::npos);
  return page.substr(begin + open.size(), end - begin - open.size());
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HtmlReport, SnapshotTextNeverBecomesMarkup) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t list = heap.Add("list", 64);
  heap.Edge(ns, list, LabelKind::kDictKey, "'</script><img src=x onerror=alert(1)>'");
  for (int i = 0; i < 300; ++i) {
    const uint32_t s = heap.Add("str", 100, 0);
    heap.Value(s, "<b>&amp;</script>{{DATA}}");
    heap.Append(list, s);
  }
  const Analysed a = Load(heap, "report_escape");
  HtmlReportOptions options;
  options.snapshot_name = "</title><script>{{DATA}}";
  const std::string page = RenderHtmlReport(*a.analysis, options);
  const std::string data = DataOf(page);
  EXPECT_EQ(data.find_first_of("<>&"), std::string::npos);
  EXPECT_NE(data.find("\\u003cimg src=x onerror=alert(1)\\u003e"), std::string::npos);
  // The template's own scripts, and no other: one data block, one script.
  EXPECT_EQ(Count(page, "<script"), 2u);
  EXPECT_EQ(Count(page, "</script>"), 2u);
  EXPECT_NE(page.find("<title>heapsnap report: &lt;/title&gt;&lt;script&gt;{{DATA}}</title>"),
            std::string::npos);
  // No marker left unfilled, none filled twice.
  EXPECT_EQ(page.find("/*{{STYLE}}*/"), std::string::npos);
  EXPECT_EQ(page.find("/*{{SCRIPT}}*/"), std::string::npos);
  EXPECT_EQ(Count(page, "\"version\":"), 1u);
}

TEST(HtmlReport, TheDominatorTreeIsSummarisedWithinItsBudget) {
  TestHeap heap;
  const uint32_t ns = heap.ModuleNamespace("app");
  const uint32_t dict = heap.Add("dict", 1000);
  heap.Edge(ns, dict, LabelKind::kDictKey, "'SESSIONS'");
  for (int i = 0; i < 5000; ++i) {
    const uint32_t session = heap.Add("app.Session", 64);
    heap.Edge(dict, session, LabelKind::kDictKey, "'s" + std::to_string(i) + "'");
    const uint32_t items = heap.Add("list", 200);
    heap.Edge(session, items, LabelKind::kAttribute, "items");
    for (int k = 0; k < 20; ++k) {
      const uint32_t payload = heap.Add("bytes", 100 + static_cast<uint64_t>(i + k), 0);
      heap.Append(items, payload);
    }
  }
  const Analysed a = Load(heap, "report_tree");
  HtmlReportOptions options;
  options.tree_nodes = 60;
  options.tree_children = 10;
  const std::string data = DataOf(RenderHtmlReport(*a.analysis, options));
  const size_t rows_begin = data.find("\"rows\":");
  const size_t rows_end = data.find("\"types\":", rows_begin);
  const std::string rows = data.substr(rows_begin, rows_end - rows_begin);
  // A row per node: the budget and one group per expanded node at most beyond it.
  const size_t nodes = Count(rows, "],[") + 1;
  EXPECT_LE(nodes, 60u + 11u);
  EXPECT_GE(nodes, 40u);
  // The dict's 4,990 smaller sessions are one node, "4990 more" (flags 1); a list's 10 smaller
  // items too; and past the budget, nodes say that they have children not shown (flags 2).
  EXPECT_NE(rows.find(",1,4990]"), std::string::npos) << rows;
  EXPECT_NE(rows.find(",1,10]"), std::string::npos) << rows;
  EXPECT_NE(rows.find(",2,0]"), std::string::npos) << rows;
}

TEST(HtmlReport, ADiffIsShownOnlyWhenGiven) {
  TestHeap heap;
  heap.ModuleNamespace("app");
  const Analysed a = Load(heap, "report_nodiff");
  const std::string data = DataOf(RenderHtmlReport(*a.analysis, HtmlReportOptions{}));
  EXPECT_EQ(data.find("\"diff\":"), std::string::npos);
  EXPECT_NE(data.find("\"findings\":[]"), std::string::npos);
}

}  // namespace
}  // namespace heapsnap

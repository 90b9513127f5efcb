#include "heapsnap/analyze/dominators.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dominator_tree.hpp>
#include <random>
#include <set>

#include "gtest/gtest.h"

namespace heapsnap {
namespace {

struct EdgeListGraph {
  uint32_t n = 0;
  std::vector<std::pair<uint32_t, uint32_t>> edges;
  std::vector<uint64_t> succ_begin, pred_begin;
  std::vector<uint32_t> succ, pred;

  CsrGraph Csr() {
    succ_begin.assign(n + 1, 0);
    pred_begin.assign(n + 1, 0);
    for (auto [a, b] : edges) {
      ++succ_begin[a + 1];
      ++pred_begin[b + 1];
    }
    for (uint32_t v = 0; v < n; ++v) {
      succ_begin[v + 1] += succ_begin[v];
      pred_begin[v + 1] += pred_begin[v];
    }
    succ.assign(edges.size(), 0);
    pred.assign(edges.size(), 0);
    std::vector<uint64_t> fs(succ_begin.begin(), succ_begin.end() - 1);
    std::vector<uint64_t> fp(pred_begin.begin(), pred_begin.end() - 1);
    for (auto [a, b] : edges) {
      succ[fs[a]++] = b;
      pred[fp[b]++] = a;
    }
    CsrGraph c;
    c.vertices = n;
    c.csr_vertices = n;
    c.succ_begin = succ_begin.data();
    c.succ_target = succ.data();
    c.pred_begin = pred_begin.data();
    c.pred_source = pred.data();
    return c;
  }
};

EdgeListGraph RandomGraph(std::mt19937& rng, uint32_t n, uint32_t m) {
  EdgeListGraph g;
  g.n = n;
  for (uint32_t i = 0; i < m; ++i) g.edges.emplace_back(rng() % n, rng() % n);
  // A spanning-ish backbone so that most vertices are reachable.
  for (uint32_t v = 1; v < n; ++v) {
    if (rng() % 4 != 0) g.edges.emplace_back(rng() % v, v);
  }
  return g;
}

std::vector<uint8_t> Reachable(const EdgeListGraph& g, uint32_t root, uint32_t removed) {
  std::vector<uint8_t> seen(g.n, 0);
  if (root == removed) return seen;
  std::vector<uint32_t> stack{root};
  seen[root] = 1;
  while (!stack.empty()) {
    uint32_t v = stack.back();
    stack.pop_back();
    for (auto [a, b] : g.edges) {
      if (a == v && b != removed && !seen[b]) {
        seen[b] = 1;
        stack.push_back(b);
      }
    }
  }
  return seen;
}

// The definition: d dominates v iff every path from the root to v passes through d.
std::vector<uint32_t> BruteForceIdom(const EdgeListGraph& g, uint32_t root) {
  std::vector<uint8_t> reach = Reachable(g, root, UINT32_MAX);
  std::vector<std::set<uint32_t>> dom(g.n);
  for (uint32_t d = 0; d < g.n; ++d) {
    std::vector<uint8_t> without = Reachable(g, root, d);
    for (uint32_t v = 0; v < g.n; ++v) {
      if (reach[v] && !without[v]) dom[v].insert(d);  // includes v itself
    }
  }
  std::vector<uint32_t> idom(g.n, kUnreachable);
  for (uint32_t v = 0; v < g.n; ++v) {
    if (!reach[v]) continue;
    if (v == root) {
      idom[v] = root;
      continue;
    }
    // The strict dominator that all other strict dominators dominate: the one with most.
    size_t best = 0;
    for (uint32_t d : dom[v]) {
      if (d != v && dom[d].size() >= best) {
        best = dom[d].size();
        idom[v] = d;
      }
    }
  }
  return idom;
}

// Boost's implementation expects a flow graph: it mishandles edges from vertices the entry does
// not reach, so those edges are left out (they cannot change dominators).
std::vector<uint32_t> BoostIdom(const EdgeListGraph& g, uint32_t root) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  Graph bg(g.n);
  std::vector<uint8_t> reach = Reachable(g, root, UINT32_MAX);
  for (auto [a, b] : g.edges) {
    if (reach[a]) boost::add_edge(a, b, bg);
  }
  using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
  std::vector<Vertex> dom(g.n, boost::graph_traits<Graph>::null_vertex());
  auto index = boost::get(boost::vertex_index, bg);
  boost::lengauer_tarjan_dominator_tree(bg, boost::vertex(root, bg),
                                        boost::make_iterator_property_map(dom.begin(), index));
  std::vector<uint32_t> idom(g.n, kUnreachable);
  for (uint32_t v = 0; v < g.n; ++v) {
    if (v == root) {
      idom[v] = root;
    } else if (dom[v] != boost::graph_traits<Graph>::null_vertex()) {
      idom[v] = static_cast<uint32_t>(dom[v]);
    }
  }
  return idom;
}

TEST(Dominators, MatchBoostAndTheDefinitionOnRandomGraphs) {
  std::mt19937 rng(7);
  for (int round = 0; round < 400; ++round) {
    const uint32_t n = 1 + rng() % 40;
    EdgeListGraph g = RandomGraph(rng, n, rng() % (3 * n + 1));
    const uint32_t root = rng() % n;
    std::vector<uint32_t> ours = ComputeDominators(g.Csr(), root);
    std::string edges;
    for (auto [a, b] : g.edges) edges += std::to_string(a) + ">" + std::to_string(b) + " ";
    ASSERT_EQ(ours, BruteForceIdom(g, root))
        << "round " << round << " root " << root << ": " << edges;
    ASSERT_EQ(ours, BoostIdom(g, root)) << "round " << round << " root " << root << ": " << edges;
  }
}

TEST(Dominators, PreorderVisitsDominatorsFirst) {
  std::mt19937 rng(11);
  for (int round = 0; round < 100; ++round) {
    const uint32_t n = 2 + rng() % 50;
    EdgeListGraph g = RandomGraph(rng, n, 2 * n);
    std::vector<uint32_t> preorder;
    std::vector<uint32_t> idom = ComputeDominators(g.Csr(), 0, &preorder);
    std::vector<int> position(n, -1);
    for (size_t i = 0; i < preorder.size(); ++i) position[preorder[i]] = static_cast<int>(i);
    for (uint32_t v : preorder) {
      if (v != 0) {
        EXPECT_LT(position[idom[v]], position[v]);
      }
    }
  }
}

TEST(Dominators, LongChainDoesNotRecurse) {
  // One million vertices in a chain with a back edge: Boost's implementation overflows the
  // stack here; ours is iterative.
  EdgeListGraph g;
  g.n = 1000000;
  for (uint32_t v = 0; v + 1 < g.n; ++v) g.edges.emplace_back(v, v + 1);
  g.edges.emplace_back(g.n - 1, 1);
  std::vector<uint32_t> idom = ComputeDominators(g.Csr(), 0);
  EXPECT_EQ(idom[g.n - 1], g.n - 2);
  EXPECT_EQ(idom[1], 0u);
}

TEST(Dominators, DeepChainWithSharedChildrenIsNearLinear) {
  // The heap shape that made Semi-NCA quadratic: a 100k-node linked list (the DFS goes down
  // it first), each node holding a payload that a list reached last from the root holds too,
  // so every payload's dominator is the root, far above its DFS parent. The work must stay
  // within a small multiple of the graph's size (O(m log n)); walking up the DFS tree for
  // each payload would take n^2 / 2 = 5e9 steps.
  const uint32_t chain = 100000;
  EdgeListGraph g;
  g.n = 2 + 2 * chain;  // 0 root, 1 the list, then node i at 2 + 2i and its payload at 3 + 2i
  g.edges.emplace_back(0, 2);
  for (uint32_t i = 0; i < chain; ++i) {
    if (i + 1 < chain) g.edges.emplace_back(2 + 2 * i, 2 + 2 * (i + 1));
    g.edges.emplace_back(2 + 2 * i, 3 + 2 * i);
  }
  g.edges.emplace_back(0, 1);
  for (uint32_t i = 0; i < chain; ++i) g.edges.emplace_back(1, 3 + 2 * i);
  DominatorWork work;
  std::vector<uint32_t> idom = ComputeDominators(g.Csr(), 0, nullptr, &work);
  for (uint32_t i = 0; i < chain; ++i) {
    ASSERT_EQ(idom[3 + 2 * i], 0u) << "payload " << i;
    ASSERT_EQ(idom[2 + 2 * i], i == 0 ? 0u : 2 + 2 * (i - 1)) << "node " << i;
  }
  const uint64_t size = g.n + g.edges.size();
  EXPECT_LE(work.edges + work.forest_steps + work.bucket_visits, 40 * size)
      << "edges " << work.edges << ", forest steps " << work.forest_steps << ", bucket visits "
      << work.bucket_visits;
}

TEST(Dominators, DeepRandomTreesMatchBoost) {
  // Deep DFS trees with many cross edges, where the bucket order matters most.
  std::mt19937 rng(3);
  for (int round = 0; round < 200; ++round) {
    const uint32_t n = 2 + rng() % 60;
    EdgeListGraph g;
    g.n = n;
    for (uint32_t v = 1; v < n; ++v) g.edges.emplace_back(v - 1, v);  // a chain first
    for (uint32_t k = 0; k < n; ++k) g.edges.emplace_back(rng() % n, rng() % n);
    std::vector<uint32_t> ours = ComputeDominators(g.Csr(), 0);
    ASSERT_EQ(ours, BruteForceIdom(g, 0)) << "round " << round;
    ASSERT_EQ(ours, BoostIdom(g, 0)) << "round " << round;
  }
}

}  // namespace
}  // namespace heapsnap

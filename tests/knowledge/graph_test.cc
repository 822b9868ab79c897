// Tests for the graph queries of engine/knowledge (knowledge.cc): OutEdges / InEdges, FindPaths
// (order, net sign, depth, excluded edge types, cycles, errors, truncation), ToJson and ToDot, on a
// small fixture graph whose paths are enumerated by hand below.

#include "knowledge/knowledge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace nflux::knowledge {
namespace {

using nlohmann::json;

json GraphNode(const char* id, const char* kind, json extra = json::object()) {
  json node = {{"id", id}, {"kind", kind}, {"label", id}, {"description", std::string("Fixture node ") + id + "."}};
  for (const auto& [key, value] : extra.items()) node[key] = value;
  return node;
}

json GraphEdge(const char* from, const char* type, const char* to, json extra = json::object()) {
  json edge = {{"from", from}, {"type", type}, {"to", to}, {"citations", {"graph_paper"}}};
  for (const auto& [key, value] : extra.items()) edge[key] = value;
  return edge;
}

// The fixture graph (signs in brackets):
//   cortisol -upregulates(+)-> tdo2, ido1        cortisol -downregulates(-)-> inflammation
//   inflammation -upregulates(+)-> ido1
//   tdo2, ido1 -degrades(-)-> tryptophan         tdo2, ido1 -produces_metabolite(+)-> kynurenine
//   kynurenine -inhibits(-)-> tdo2               (a cycle: tdo2 -> kynurenine -> tdo2)
//   tryptophan -precursor_of(+)-> serotonin -precursor_of(+)-> melatonin
//   maoa -degrades(-)-> serotonin                phenelzine -inhibits(-)-> maoa
//   tryptophan_supplement -targets(+)-> tryptophan
//   tryptophan_supplement -contraindicated_with(-)-> phenelzine (not an influence edge)
//   heme -cofactor_of(+)-> tdo2                  (generated from tdo2.cofactors)
std::shared_ptr<const KnowledgeBase> FixtureGraph() {
  const json cites = {"graph_paper"};
  json document = {
      {"nodes",
       {GraphNode("cortisol", "hormone", {{"citations", cites}}),
        GraphNode("inflammation", "stressor", {{"citations", cites}, {"label", "Inflammation (\"sickness\")"}}),
        GraphNode("tdo2", "enzyme", {{"cofactors", {"heme"}}, {"citations", cites}}),
        GraphNode("ido1", "enzyme", {{"cofactors", json::array()}, {"citations", cites}}),
        GraphNode("maoa", "enzyme", {{"cofactors", json::array()}, {"citations", cites}}),
        GraphNode("heme", "cofactor"), GraphNode("tryptophan", "precursor"), GraphNode("kynurenine", "metabolite"),
        GraphNode("serotonin", "neurotransmitter"), GraphNode("melatonin", "neurotransmitter"),
        GraphNode("phenelzine", "medication", {{"atc", "N06AF03"}, {"citations", cites}}),
        GraphNode("tryptophan_supplement", "strategy", {{"strategy_kind", "precursor"}, {"citations", cites}})}},
      {"edges",
       {GraphEdge("cortisol", "upregulates", "tdo2"), GraphEdge("cortisol", "upregulates", "ido1"),
        GraphEdge("cortisol", "downregulates", "inflammation"), GraphEdge("inflammation", "upregulates", "ido1"),
        GraphEdge("tdo2", "degrades", "tryptophan"), GraphEdge("ido1", "degrades", "tryptophan"),
        GraphEdge("tdo2", "produces_metabolite", "kynurenine"), GraphEdge("ido1", "produces_metabolite", "kynurenine"),
        GraphEdge("kynurenine", "inhibits", "tdo2"), GraphEdge("tryptophan", "precursor_of", "serotonin"),
        GraphEdge("serotonin", "precursor_of", "melatonin"), GraphEdge("maoa", "degrades", "serotonin"),
        GraphEdge("phenelzine", "inhibits", "maoa"), GraphEdge("tryptophan_supplement", "targets", "tryptophan"),
        GraphEdge("tryptophan_supplement", "contraindicated_with", "phenelzine", {{"severity", "absolute"}})}},
      {"citations",
       {{"graph_paper",
         {{"kind", "paper"}, {"title", "A graph"}, {"source", "J Graphs 2020;1:1"}, {"verified", "checked"}, {"grade", "C"}}}}},
  };
  LoadOutcome outcome = LoadKnowledge({SourceFile{"fixture/graph.json", document.dump()}});
  for (const auto& problem : outcome.problems) ADD_FAILURE() << problem.ToString();
  return outcome.kb;
}

const KnowledgeBase& Graph() {
  static const std::shared_ptr<const KnowledgeBase> kb = FixtureGraph();
  return *kb;
}

std::string EdgeText(const Edge* edge) {
  return edge->from + " -" + std::string(EdgeTypeName(edge->type)) + "-> " + edge->to;
}

std::vector<std::string> Sorted(std::span<const Edge* const> edges) {
  std::vector<std::string> texts;
  for (const auto* edge : edges) texts.push_back(EdgeText(edge));
  std::sort(texts.begin(), texts.end());
  return texts;
}

// "cortisol -upregulates-> tdo2 -degrades-> tryptophan" and the net sign as "+" or "-".
std::string PathText(const InfluencePath& path) {
  std::string text = path.edges.empty() ? "" : path.edges.front()->from;
  for (const auto* edge : path.edges) text += " -" + std::string(EdgeTypeName(edge->type)) + "-> " + edge->to;
  return text + " (net " + (path.net_sign > 0 ? "+" : "-") + ")";
}

std::vector<std::string> Paths(std::string_view from, std::string_view to, int max_depth = 6, size_t max_paths = 50,
                               bool* truncated = nullptr) {
  PathOptions options;
  options.max_depth = max_depth;
  options.max_paths = max_paths;
  auto paths = Graph().FindPaths(from, to, options, truncated);
  EXPECT_TRUE(paths.ok()) << paths.status().message();
  std::vector<std::string> texts;
  if (paths.ok())
    for (const auto& path : *paths) texts.push_back(PathText(path));
  return texts;
}

TEST(GraphTest, OutEdgesAndInEdges) {
  struct Case {
    const char* id;
    std::vector<std::string> out, in;
  };
  const Case cases[] = {
      {"cortisol",
       {"cortisol -downregulates-> inflammation", "cortisol -upregulates-> ido1", "cortisol -upregulates-> tdo2"},
       {}},
      {"tryptophan",
       {"tryptophan -precursor_of-> serotonin"},
       {"ido1 -degrades-> tryptophan", "tdo2 -degrades-> tryptophan", "tryptophan_supplement -targets-> tryptophan"}},
      {"tdo2",
       {"tdo2 -degrades-> tryptophan", "tdo2 -produces_metabolite-> kynurenine"},
       // The generated cofactor edge is part of the graph like any other.
       {"cortisol -upregulates-> tdo2", "heme -cofactor_of-> tdo2", "kynurenine -inhibits-> tdo2"}},
      {"melatonin", {}, {"serotonin -precursor_of-> melatonin"}},
      {"no_such_node", {}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    EXPECT_EQ(Sorted(Graph().OutEdges(c.id)), c.out);
    EXPECT_EQ(Sorted(Graph().InEdges(c.id)), c.in);
  }
}

TEST(GraphTest, FindPathsShortestFirstThenByTextWithNetSigns) {
  EXPECT_EQ(Paths("cortisol", "serotonin"),
            (std::vector<std::string>{
                "cortisol -upregulates-> ido1 -degrades-> tryptophan -precursor_of-> serotonin (net -)",
                "cortisol -upregulates-> tdo2 -degrades-> tryptophan -precursor_of-> serotonin (net -)",
                "cortisol -downregulates-> inflammation -upregulates-> ido1 -degrades-> tryptophan -precursor_of-> "
                "serotonin (net +)",
                "cortisol -upregulates-> ido1 -produces_metabolite-> kynurenine -inhibits-> tdo2 -degrades-> "
                "tryptophan -precursor_of-> serotonin (net +)",
                "cortisol -downregulates-> inflammation -upregulates-> ido1 -produces_metabolite-> kynurenine "
                "-inhibits-> tdo2 -degrades-> tryptophan -precursor_of-> serotonin (net -)",
            }));
}

TEST(GraphTest, FindPathsNetSignIsTheProductOfSigns) {
  struct Case {
    const char* from;
    const char* to;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"cortisol", "tryptophan",
       {"cortisol -upregulates-> ido1 -degrades-> tryptophan (net -)",
        "cortisol -upregulates-> tdo2 -degrades-> tryptophan (net -)",
        "cortisol -downregulates-> inflammation -upregulates-> ido1 -degrades-> tryptophan (net +)",
        "cortisol -upregulates-> ido1 -produces_metabolite-> kynurenine -inhibits-> tdo2 -degrades-> tryptophan "
        "(net +)",
        "cortisol -downregulates-> inflammation -upregulates-> ido1 -produces_metabolite-> kynurenine -inhibits-> "
        "tdo2 -degrades-> tryptophan (net -)"}},
      // Two negatives make a positive: inhibiting the enzyme that breaks serotonin down raises it.
      {"phenelzine", "serotonin", {"phenelzine -inhibits-> maoa -degrades-> serotonin (net +)"}},
      {"heme", "melatonin",
       {"heme -cofactor_of-> tdo2 -degrades-> tryptophan -precursor_of-> serotonin -precursor_of-> melatonin "
        "(net -)"}},
      {"tryptophan_supplement", "melatonin",
       {"tryptophan_supplement -targets-> tryptophan -precursor_of-> serotonin -precursor_of-> melatonin (net +)"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.from) + " -> " + c.to);
    EXPECT_EQ(Paths(c.from, c.to), c.expected);
  }
}

TEST(GraphTest, FindPathsRespectsMaxDepth) {
  struct Case {
    int max_depth;
    size_t paths;
    size_t longest;
  };
  // cortisol -> serotonin has paths of 3, 3, 4, 5 and 6 edges.
  const Case cases[] = {{1, 0, 0}, {2, 0, 0}, {3, 2, 3}, {4, 3, 4}, {5, 4, 5}, {6, 5, 6}, {12, 5, 6}};
  for (const auto& c : cases) {
    SCOPED_TRACE("max_depth " + std::to_string(c.max_depth));
    PathOptions options;
    options.max_depth = c.max_depth;
    auto paths = Graph().FindPaths("cortisol", "serotonin", options);
    ASSERT_TRUE(paths.ok()) << paths.status().message();
    EXPECT_EQ(paths->size(), c.paths);
    size_t longest = 0;
    for (const auto& path : *paths) longest = std::max(longest, path.edges.size());
    EXPECT_EQ(longest, c.longest);
  }
}

TEST(GraphTest, FindPathsDoesNotFollowContraindications) {
  // The only edge from the strategy to phenelzine is contraindicated_with.
  EXPECT_EQ(Paths("tryptophan_supplement", "phenelzine", 12), std::vector<std::string>{});
  EXPECT_EQ(Paths("tryptophan_supplement", "maoa", 12), std::vector<std::string>{});
  // The edge itself is in the graph.
  EXPECT_EQ(Sorted(Graph().InEdges("phenelzine")),
            std::vector<std::string>{"tryptophan_supplement -contraindicated_with-> phenelzine"});
}

TEST(GraphTest, FindPathsDoesNotLoopThroughCycles) {
  // tdo2 -> kynurenine -> tdo2 is a cycle; every path found is simple and there are few.
  EXPECT_EQ(Paths("tdo2", "kynurenine", 12),
            std::vector<std::string>{"tdo2 -produces_metabolite-> kynurenine (net +)"});
  EXPECT_EQ(Paths("kynurenine", "tdo2", 12), std::vector<std::string>{"kynurenine -inhibits-> tdo2 (net -)"});
  // A node is never revisited, so no path leads back to where it started.
  EXPECT_EQ(Paths("tdo2", "tdo2", 12), std::vector<std::string>{});
  PathOptions options;
  options.max_depth = 12;
  auto paths = Graph().FindPaths("cortisol", "melatonin", options);
  ASSERT_TRUE(paths.ok());
  for (const auto& path : *paths) {
    std::vector<std::string> visited = {path.edges.front()->from};
    for (const auto* edge : path.edges) visited.push_back(edge->to);
    std::sort(visited.begin(), visited.end());
    EXPECT_EQ(std::adjacent_find(visited.begin(), visited.end()), visited.end()) << PathText(path);
  }
  EXPECT_EQ(paths->size(), 5u);
}

TEST(GraphTest, FindPathsUnknownNodeSuggestsNearestId) {
  struct Case {
    const char* from;
    const char* to;
    Status::Code code;
    const char* message;
  };
  const Case cases[] = {
      {"cortisol", "serotonim", Status::Code::kNotFound, "unknown node 'serotonim' (did you mean 'serotonin'?)"},
      {"cortisl", "serotonin", Status::Code::kNotFound, "unknown node 'cortisl' (did you mean 'cortisol'?)"},
      {"cortisol", "dopamine_xyz", Status::Code::kNotFound, "unknown node 'dopamine_xyz'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.from) + " -> " + c.to);
    auto paths = Graph().FindPaths(c.from, c.to, PathOptions{});
    ASSERT_FALSE(paths.ok());
    EXPECT_EQ(paths.status().code(), c.code);
    EXPECT_EQ(paths.status().message(), c.message);
  }
  PathOptions zero;
  zero.max_depth = 0;
  auto paths = Graph().FindPaths("cortisol", "serotonin", zero);
  ASSERT_FALSE(paths.ok());
  EXPECT_EQ(paths.status().code(), Status::Code::kInvalidArgument);
}

TEST(GraphTest, FindPathsTruncatesToMaxPathsKeepingTheShortest) {
  struct Case {
    size_t max_paths;
    size_t returned;
    bool truncated;
  };
  const Case cases[] = {{1, 1, true}, {2, 2, true}, {4, 4, true}, {5, 5, false}, {50, 5, false}};
  for (const auto& c : cases) {
    SCOPED_TRACE("max_paths " + std::to_string(c.max_paths));
    bool truncated = !c.truncated;  // must be overwritten
    auto texts = Paths("cortisol", "serotonin", 6, c.max_paths, &truncated);
    EXPECT_EQ(texts.size(), c.returned);
    EXPECT_EQ(truncated, c.truncated);
    ASSERT_FALSE(texts.empty());
    EXPECT_EQ(texts.front(), "cortisol -upregulates-> ido1 -degrades-> tryptophan -precursor_of-> serotonin (net -)");
  }
}

TEST(GraphTest, ToJsonMarksGeneratedEdges) {
  json out = Graph().ToJson();
  EXPECT_EQ(out["version"], Graph().version());
  EXPECT_EQ(out["nodes"].size(), 12u);
  EXPECT_EQ(out["edges"].size(), 16u);  // 15 written + 1 generated
  ASSERT_TRUE(out["citations"].contains("graph_paper"));
  EXPECT_EQ(out["citations"]["graph_paper"]["title"], "A graph");
  std::vector<json> generated;
  for (const auto& edge : out["edges"]) {
    if (edge.contains("generated")) generated.push_back(edge);
    EXPECT_TRUE(edge.contains("sign") && edge.contains("citations")) << edge.dump();
  }
  ASSERT_EQ(generated.size(), 1u);
  EXPECT_EQ(generated[0], json::parse(R"({"from": "heme", "type": "cofactor_of", "to": "tdo2", "sign": "+",
                                          "citations": ["graph_paper"], "generated": true})"));
  // Written edges keep their fields; a contraindication carries its severity and default sign.
  bool found = false;
  for (const auto& edge : out["edges"]) {
    if (edge["type"] != "contraindicated_with") continue;
    found = true;
    EXPECT_EQ(edge["severity"], "absolute");
    EXPECT_EQ(edge["sign"], "-");
  }
  EXPECT_TRUE(found);
}

TEST(GraphTest, ToDotHasOneLinePerNodeAndEdge) {
  std::string dot = Graph().ToDot();
  EXPECT_EQ(dot.rfind("digraph ", 0), 0u) << dot.substr(0, 40);
  ASSERT_GE(dot.size(), 2u);
  EXPECT_EQ(dot.substr(dot.size() - 2), "}\n");
  std::istringstream lines(dot);
  std::string line;
  size_t node_lines = 0, edge_lines = 0, dashed = 0, negative = 0;
  while (std::getline(lines, line)) {
    if (line.find("\" -> \"") != std::string::npos) {
      ++edge_lines;
      if (line.find("style=dashed") != std::string::npos) ++dashed;
      if (line.find(" -\", color=") != std::string::npos) ++negative;
    } else if (line.rfind("  \"", 0) == 0 && line.find("[label=") != std::string::npos) {
      ++node_lines;
    }
  }
  EXPECT_EQ(node_lines, Graph().nodes().size());
  EXPECT_EQ(edge_lines, Graph().edges().size());
  EXPECT_EQ(dashed, 1u);  // the generated cofactor edge
  // Negative: downregulates, 3 degrades, 2 inhibits, contraindicated_with.
  EXPECT_EQ(negative, 7u);
  EXPECT_NE(dot.find("\"heme\" -> \"tdo2\" [label=\"cofactor_of +\""), std::string::npos);
  // Quotes in labels are escaped.
  EXPECT_NE(dot.find("Inflammation (\\\"sickness\\\")"), std::string::npos);
  // Braces balance.
  EXPECT_EQ(std::count(dot.begin(), dot.end(), '{'), std::count(dot.begin(), dot.end(), '}'));
}

}  // namespace
}  // namespace nflux::knowledge

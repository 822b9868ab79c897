// Content checks over the real knowledge base (knowledge/): it loads cleanly, and the completeness
// rules practitioners rely on hold for every node and edge, not only for the fixtures of
// loader_test.cc: transmitter pathways with synthesis and breakdown steps, enzymes with cofactors,
// labs with units and ranges, cited edges, strategies with targets, the contract vocabulary, a
// few well-known influence paths and unit conversions through real labs.

#include "knowledge/knowledge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>

#include "base/text.h"
#include "units/units.h"

namespace nflux::knowledge {
namespace {

using nlohmann::json;

const std::string kKnowledgeDir = NFLUX_SOURCE_DIR "/knowledge";
const std::string kRepoVocabulary = NFLUX_SOURCE_DIR "/knowledge/vocabulary.json";
const std::string kSharedVocabulary = NFLUX_SHARED_DIR "/contracts/vocabulary.json";

struct Loaded {
  std::vector<SourceFile> files;
  LoadOutcome outcome;
};

// Loaded once: the knowledge base is immutable and reading it takes a while.
const Loaded& Real() {
  static const Loaded loaded = [] {
    Loaded result;
    auto files = ReadKnowledgeDir(kKnowledgeDir);
    if (!files.ok()) {
      ADD_FAILURE() << files.status().message();
      result.outcome = LoadKnowledge({});
      return result;
    }
    result.files = *files;
    result.outcome = LoadKnowledge(result.files);
    return result;
  }();
  return loaded;
}

const KnowledgeBase& Kb() { return *Real().outcome.kb; }

json ReadJson(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status().message();
  if (!text.ok()) return json();
  try {
    return json::parse(*text);
  } catch (const json::exception& error) {
    ADD_FAILURE() << path << ": " << error.what();
    return json();
  }
}

TEST(ContentTest, RealKnowledgeBaseLoadsWithoutProblems) {
  std::string problems;
  for (const auto& problem : Real().outcome.problems) problems += problem.ToString() + "\n";
  EXPECT_EQ(problems, "");
  // The files are read in path order and include the nested folders.
  ASSERT_FALSE(Real().files.empty());
  EXPECT_TRUE(std::is_sorted(Real().files.begin(), Real().files.end(),
                             [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; }));
  EXPECT_TRUE(std::any_of(Real().files.begin(), Real().files.end(), [](const SourceFile& file) {
    return file.path == kKnowledgeDir + "/pathways/serotonin.json";
  }));
  EXPECT_GT(Kb().nodes().size(), 100u);
  EXPECT_GT(Kb().edges().size(), 100u);
  EXPECT_EQ(Kb().version().rfind("sha256:", 0), 0u);
}

TEST(ContentTest, EveryTransmitterPathwayHasSynthesisAndBreakdownSteps) {
  size_t transmitter_pathways = 0;
  for (const auto& node : Kb().nodes()) {
    if (node.kind != NodeKind::kPathway || !node.data.json().contains("neurotransmitter")) continue;
    ++transmitter_pathways;
    std::set<std::string> phases;
    for (const Edge* edge : Kb().InEdges(node.id))
      if (edge->type == EdgeType::kPartOf) phases.insert(Kb().Find(edge->from)->Text("phase"));
    EXPECT_TRUE(phases.count("synthesis")) << node.id << " has no synthesis step";
    EXPECT_TRUE(phases.count("breakdown")) << node.id << " has no breakdown step";
    const Node* transmitter = Kb().Find(node.Text("neurotransmitter"));
    ASSERT_NE(transmitter, nullptr) << node.id;
    EXPECT_EQ(transmitter->kind, NodeKind::kNeurotransmitter) << node.id;
  }
  EXPECT_GE(transmitter_pathways, 6u);  // serotonin, dopamine, noradrenaline, GABA, glutamate, ...
}

TEST(ContentTest, EveryEnzymeListsItsCofactors) {
  size_t enzymes = 0;
  for (const auto& node : Kb().nodes()) {
    if (node.kind != NodeKind::kEnzyme) continue;
    ++enzymes;
    ASSERT_TRUE(node.data.json().contains("cofactors")) << node.id;
    EXPECT_TRUE(node.data.json()["cofactors"].is_array()) << node.id;
    for (const auto& cofactor : node.data.json()["cofactors"]) {
      const Node* target = Kb().Find(cofactor.get<std::string>());
      ASSERT_NE(target, nullptr) << node.id << " names " << cofactor;
      EXPECT_EQ(target->kind, NodeKind::kCofactor) << node.id << " names " << cofactor;
    }
  }
  EXPECT_GT(enzymes, 10u);
  // A well-known case: TPH2 needs BH4 and iron, and the generated edges say so.
  std::set<std::string> tph2_cofactors;
  for (const Edge* edge : Kb().InEdges("tph2"))
    if (edge->type == EdgeType::kCofactorOf) tph2_cofactors.insert(edge->from);
  EXPECT_TRUE(tph2_cofactors.count("iron")) << "tph2 cofactors: " << tph2_cofactors.size();
}

TEST(ContentTest, EveryLabHasUnitsRangesAndPlausibleLimits) {
  size_t labs = 0;
  for (const auto& node : Kb().nodes()) {
    if (node.kind != NodeKind::kLab) continue;
    ++labs;
    SCOPED_TRACE(node.id);
    ASSERT_TRUE(node.lab.has_value());
    const Lab& lab = *node.lab;
    EXPECT_FALSE(lab.analyte.canonical_unit.empty());
    EXPECT_NE(std::find(lab.units.begin(), lab.units.end(), lab.analyte.canonical_unit), lab.units.end());
    for (const auto& unit : lab.units)
      EXPECT_TRUE(units::CheckConvertible(unit, lab.analyte.canonical_unit, &lab.analyte).ok()) << unit;
    ASSERT_FALSE(lab.reference.empty());
    for (Sex sex : AllValues<Sex>())
      for (double age : {18.0, 30.0, 50.0, 70.0, 95.0})
        EXPECT_NE(lab.ReferenceFor(Patient{sex, age, false}), nullptr) << Name(sex) << " " << age;
    ASSERT_TRUE(lab.plausible_min.has_value());
    ASSERT_TRUE(lab.plausible_max.has_value());
    EXPECT_LT(*lab.plausible_min, *lab.plausible_max);
    EXPECT_GE(*lab.plausible_min, 0);  // no lab in the base measures a signed quantity
    for (const auto* ranges : {&lab.reference, &lab.optimal}) {
      for (const auto& range : *ranges) {
        for (const auto& bound : {range.low, range.high}) {
          if (!bound) continue;
          EXPECT_GE(*bound, *lab.plausible_min);
          EXPECT_LE(*bound, *lab.plausible_max);
        }
      }
    }
    for (const auto& bound : {lab.critical_low, lab.critical_high}) {
      if (!bound) continue;
      EXPECT_GE(*bound, *lab.plausible_min);
      EXPECT_LE(*bound, *lab.plausible_max);
    }
    EXPECT_TRUE(!lab.loinc.empty() || lab.loinc_certainty == "none");
  }
  EXPECT_GE(labs, 40u);
}

TEST(ContentTest, EveryEdgeHasACitationThatResolves) {
  for (const auto& edge : Kb().edges()) {
    SCOPED_TRACE(edge.from + " -" + std::string(EdgeTypeName(edge.type)) + "-> " + edge.to);
    EXPECT_FALSE(edge.citations.empty());
    for (const auto& key : edge.citations) {
      const Citation* citation = Kb().FindCitation(key);
      ASSERT_NE(citation, nullptr) << key;
      EXPECT_FALSE(citation->Format().empty()) << key;
    }
  }
  for (const auto& node : Kb().nodes())
    for (const auto& key : node.citations) EXPECT_NE(Kb().FindCitation(key), nullptr) << node.id << " cites " << key;
}

TEST(ContentTest, EveryStrategyTargetsSomething) {
  size_t strategies = 0;
  for (const auto& node : Kb().nodes()) {
    if (node.kind != NodeKind::kStrategy) continue;
    ++strategies;
    auto out = Kb().OutEdges(node.id);
    EXPECT_TRUE(std::any_of(out.begin(), out.end(), [](const Edge* edge) { return edge->type == EdgeType::kTargets; }))
        << node.id;
  }
  EXPECT_GT(strategies, 10u);
}

// The vocabulary's id sections, read generically: every top-level member that is an object of ids
// (not the notes, which are strings). Nothing here names the sections or the kinds they need, so a
// wrong table in the validator cannot be copied into the test.
std::vector<std::string> VocabularySections(const json& vocabulary) {
  std::vector<std::string> sections;
  for (const auto& [section, ids] : vocabulary.items())
    if (ids.is_object() && !ids.empty()) sections.push_back(section);
  return sections;
}

TEST(ContentTest, EveryVocabularyIdIsDefined) {
  json vocabulary = ReadJson(kRepoVocabulary);
  ASSERT_TRUE(vocabulary.is_object());
  EXPECT_GE(VocabularySections(vocabulary).size(), 10u);
  size_t checked = 0;
  for (const auto& section : VocabularySections(vocabulary)) {
    for (const auto& [id, entry] : vocabulary[section].items()) {
      ++checked;
      const Node* node = Kb().Find(id);
      ASSERT_NE(node, nullptr) << section << "/" << id;
      if (section == "medications" && entry.contains("atc")) {
        ASSERT_TRUE(node->medication.has_value()) << id;
        EXPECT_EQ(node->medication->atc, entry["atc"].get<std::string>()) << id;
      }
      if (section == "labs" && entry.contains("loinc") &&
          entry["loinc"].get<std::string>().rfind("to be verified", 0) != 0) {
        EXPECT_EQ(node->lab->loinc, entry["loinc"].get<std::string>()) << id;
      }
    }
  }
  EXPECT_GT(checked, 200u);
}

// The real knowledge files with `edit` applied to the JSON of every file but the vocabulary.
std::vector<SourceFile> EditedRealFiles(const std::function<void(json&)>& edit) {
  std::vector<SourceFile> files = Real().files;
  for (auto& file : files) {
    if (file.path == kRepoVocabulary) continue;
    json document = json::parse(file.text);
    if (!document.is_object()) continue;
    edit(document);
    file.text = document.dump(1);
  }
  return files;
}

// Removes the node `id` and the edges that mention it from a knowledge file.
void RemoveNode(json& document, const std::string& id) {
  if (document.contains("nodes")) {
    json& nodes = document["nodes"];
    for (size_t i = nodes.size(); i-- > 0;)
      if (nodes[i].value("id", "") == id) nodes.erase(i);
  }
  if (document.contains("edges")) {
    json& edges = document["edges"];
    for (size_t i = edges.size(); i-- > 0;) {
      const json& edge = edges[i];
      json unless = edge.value("unless", json::array());
      bool mentions = edge.value("from", "") == id || edge.value("to", "") == id || edge.value("alert", "") == id ||
                      std::find(unless.begin(), unless.end(), id) != unless.end();
      if (mentions) edges.erase(i);
    }
  }
}

std::string ProblemList(const std::vector<Problem>& problems) {
  std::string text;
  for (const auto& problem : problems) text += problem.ToString() + "\n";
  return text;
}

// For every id section of the vocabulary: take away the node of its first id (in key order) and
// the validator reports exactly that, in the vocabulary file at the id's JSON path. A section
// missing from the validator's table (or read under another name) fails here.
TEST(ContentTest, AVocabularyIdWithoutANodeIsReportedInEverySection) {
  json vocabulary = ReadJson(kRepoVocabulary);
  ASSERT_TRUE(vocabulary.is_object());
  for (const auto& section : VocabularySections(vocabulary)) {
    const std::string id = vocabulary[section].begin().key();
    SCOPED_TRACE(section + "/" + id);
    auto outcome = LoadKnowledge(EditedRealFiles([&](json& document) { RemoveNode(document, id); }));
    std::vector<Problem> in_vocabulary;
    for (const auto& problem : outcome.problems)
      if (problem.file == kRepoVocabulary) in_vocabulary.push_back(problem);
    // Other problems may follow from the deleted edges (a strategy left without a target), but
    // none of them in the vocabulary.
    ASSERT_EQ(in_vocabulary.size(), 1u) << ProblemList(outcome.problems);
    EXPECT_EQ(in_vocabulary[0].json_path, "/" + section + "/" + id);
    EXPECT_EQ(in_vocabulary[0].message.rfind("id '" + id + "' required by the vocabulary is not defined", 0), 0u)
        << in_vocabulary[0].message;
  }
}

// A vocabulary id defined with a kind its section does not allow is reported, and nothing else:
// a deficit of the contract defined as a driver node (whose fields a driver also has).
TEST(ContentTest, AVocabularyIdOfTheWrongKindIsReported) {
  auto outcome = LoadKnowledge(EditedRealFiles([](json& document) {
    if (!document.contains("nodes")) return;
    for (auto& node : document["nodes"])
      if (node.value("id", "") == "serotonin_synthesis") node["kind"] = "driver";
  }));
  ASSERT_EQ(outcome.problems.size(), 1u) << ProblemList(outcome.problems);
  EXPECT_EQ(outcome.problems[0].file, kRepoVocabulary);
  EXPECT_EQ(outcome.problems[0].json_path, "/deficits/serotonin_synthesis");
  EXPECT_EQ(outcome.problems[0].message.rfind("id 'serotonin_synthesis' is of kind driver", 0), 0u)
      << outcome.problems[0].message;
}

TEST(ContentTest, VocabularyMatchesTheSharedContract) {
  auto repo = ReadFileToString(kRepoVocabulary);
  ASSERT_TRUE(repo.ok()) << repo.status().message();
  json parsed = json::parse(*repo, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(parsed.is_discarded()) << kRepoVocabulary << " is not valid JSON";
  EXPECT_TRUE(parsed.contains("labs") && parsed.contains("medications") && parsed.contains("strategies"));
  // Outside the workplace (a clone without ../shared) there is nothing to compare with: say so
  // in the test output instead of passing silently.
  if (!std::filesystem::exists(kSharedVocabulary)) GTEST_SKIP() << kSharedVocabulary << " not found";
  auto shared = ReadFileToString(kSharedVocabulary);
  ASSERT_TRUE(shared.ok()) << shared.status().message();
  // Byte for byte: knowledge/vocabulary.json is a copy, not an edit.
  EXPECT_TRUE(*repo == *shared) << kRepoVocabulary << " differs from " << kSharedVocabulary
                                << "; copy the contract again";
}

// True when `path` passes through every id in `through`, in that order.
bool PassesThrough(const InfluencePath& path, const std::vector<std::string>& through) {
  std::vector<std::string> visited = {path.edges.front()->from};
  for (const Edge* edge : path.edges) visited.push_back(edge->to);
  auto it = visited.begin();
  for (const auto& id : through) {
    it = std::find(it, visited.end(), id);
    if (it == visited.end()) return false;
  }
  return true;
}

struct KnownPath {
  const char* from;
  const char* to;
  std::vector<std::string> through;
  int net_sign;
};

TEST(ContentTest, WellKnownInfluencePathsExist) {
  const KnownPath cases[] = {
      // Glucocorticoids induce TDO, which diverts tryptophan from serotonin synthesis.
      {"cortisol", "serotonin", {"tdo2", "tryptophan"}, -1},
      // Iron is TH's cofactor: iron deficiency lowers dopamine synthesis.
      {"iron_deficiency", "dopamine", {"th"}, -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.from) + " -> " + c.to);
    auto paths = Kb().FindPaths(c.from, c.to, PathOptions{});
    ASSERT_TRUE(paths.ok()) << paths.status().message();
    bool found = false;
    for (const auto& path : *paths) {
      if (!PassesThrough(path, c.through) || path.net_sign != c.net_sign) continue;
      found = true;
      int product = 1;
      for (const Edge* edge : path.edges) product *= edge->sign;
      EXPECT_EQ(product, path.net_sign);
      EXPECT_EQ(path.edges.front()->from, c.from);
      EXPECT_EQ(path.edges.back()->to, c.to);
    }
    EXPECT_TRUE(found) << "no path through the expected nodes with the expected sign among " << paths->size();
  }
}

struct RealConversion {
  const char* lab;
  double value;
  const char* from;
  const char* to;
  double expected;  // from textbook factors, not from the knowledge base
  double tolerance;
};

TEST(ContentTest, UnitConversionsThroughRealLabs) {
  const RealConversion cases[] = {
      {"vitamin_b12", 130, "pmol/L", "pg/mL", 176.2, 0.05},        // x 1.355
      {"vitamin_b12", 176.2, "pg/mL", "pmol/L", 130, 0.05},
      {"hba1c", 48, "mmol/mol", "%", 6.54, 0.01},                   // IFCC 48 ~ NGSP 6.5 %
      {"hba1c", 6.542, "%", "mmol/mol", 48, 0.01},
      {"vitamin_d_25oh", 30, "ng/mL", "nmol/L", 74.9, 0.1},         // x 2.496
      {"glucose_fasting", 100, "mg/dL", "mmol/L", 5.55, 0.01},      // / 18.0
      {"magnesium_serum", 1.6, "meq/L", "mmol/L", 0.8, 0.001},      // divalent: 2 mEq = 1 mmol
      {"ferritin", 50, "ug/L", "ng/mL", 50, 1e-9},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.lab) + ": " + FormatNumber(c.value) + " " + c.from + " -> " + c.to);
    const Node* node = Kb().Find(c.lab);
    ASSERT_NE(node, nullptr);
    ASSERT_TRUE(node->lab.has_value());
    auto converted = units::Convert(c.value, c.from, c.to, &node->lab->analyte);
    ASSERT_TRUE(converted.ok()) << converted.status().message();
    EXPECT_NEAR(*converted, c.expected, c.tolerance);
  }
  // Without the analyte, mass <-> amount is refused.
  EXPECT_FALSE(units::Convert(130, "pmol/L", "pg/mL", nullptr).ok());
}

// Every derived_index node has inputs that are labs, a citation and the cut-offs the
// domain reference gives (HOMA-IR 2.5, KYN/TRP 40 umol/mmol).
TEST(Content, DerivedIndicesAreComputableAndCited) {
  const std::vector<std::string> ids = Kb().IdsOfKind(NodeKind::kDerivedIndex);
  EXPECT_EQ((std::vector<std::string>{"homa_ir", "kyn_trp_ratio"}), ids);
  for (const auto& id : ids) {
    const Node* node = Kb().Find(id);
    ASSERT_TRUE(node->derived_index) << id;
    EXPECT_FALSE(node->citations.empty()) << id;
    for (const auto& input : node->derived_index->inputs) EXPECT_TRUE(Kb().Find(input)->lab) << id << " " << input;
  }
  EXPECT_DOUBLE_EQ(2.5, Kb().Find("homa_ir")->derived_index->high_above);
  EXPECT_DOUBLE_EQ(40, Kb().Find("kyn_trp_ratio")->derived_index->high_above);
}

// The conditions a case may score as stressors: the contract vocabulary's stressors that are
// condition nodes, no more.
TEST(Content, CaseStressorConditionsAreTheVocabularyOnes) {
  std::vector<std::string> marked;
  for (const auto& node : Kb().nodes())
    if (node.condition && node.condition->case_stressor) marked.push_back(node.id);
  EXPECT_EQ(std::vector<std::string>{"chronic_pain"}, marked);
}

}  // namespace
}  // namespace nflux::knowledge

// Tests for engine/knowledge's loader and validator (builder.cc, content.cc, schema.cc):
// a table of broken knowledge fixtures, each with the exact problems it must produce; a table of
// good fixtures that must load cleanly; the generated edges; the version; lab reference ranges.
//
// Every fixture is built in memory from one small, valid knowledge base (BaseFixture) and a
// mutation, so each bad case differs from a good one by exactly what it tests.

#include "knowledge/knowledge.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace nflux::knowledge {
namespace {

using nlohmann::json;

// A knowledge base under construction: path -> document. A path listed in `raw` is written as that
// text instead (for syntax errors and key-order tests).
struct Fixture {
  std::map<std::string, json> files;
  std::map<std::string, std::string> raw;

  std::vector<SourceFile> Sources() const {
    std::vector<SourceFile> sources;
    for (const auto& [path, document] : files)
      if (!raw.count(path)) sources.push_back(SourceFile{path, document.dump(2)});
    for (const auto& [path, text] : raw) sources.push_back(SourceFile{path, text});
    return sources;
  }
};

json Cites(std::initializer_list<const char*> keys) {
  json array = json::array();
  for (const char* key : keys) array.push_back(key);
  return array;
}

json MakeNode(const char* id, const char* kind, json extra = json::object()) {
  json node = {{"id", id}, {"kind", kind}, {"label", std::string("Label of ") + id},
               {"description", std::string("What ") + id + " is."}};
  for (const auto& [key, value] : extra.items()) node[key] = value;
  return node;
}

json MakeEdge(const char* from, const char* type, const char* to, json extra = json::object()) {
  json edge = {{"from", from}, {"type", type}, {"to", to}, {"citations", Cites({"smith_2020"})}};
  for (const auto& [key, value] : extra.items()) edge[key] = value;
  return edge;
}

json CitationJson(const char* title) {
  return {{"kind", "paper"}, {"title", title}, {"source", "J Test 2020;1:1"}, {"verified", "checked"}, {"grade", "B"}};
}

json FerritinLab() {
  return MakeNode("ferritin", "lab",
                  {{"loinc", "2276-4"},
                   {"loinc_certainty", "checked"},
                   {"specimen", "serum"},
                   {"canonical_unit", "ng/mL"},
                   {"units", {"ng/mL", "ug/L"}},
                   {"reference", json::array({{{"sex", "any"}, {"low", 30}, {"high", 300}}})},
                  {"plausible", {{"min", 0}, {"max", 100000}}},
                   {"citations", Cites({"smith_2020"})}});
}

// Node indexes in kb/base.json, which the expected messages name:
//   0 serotonin  1 tryptophan  2 hiaa  3 serotonin_pathway  4 trp_hydroxylation
//   5 serotonin_oxidation  6 tph2  7 maoa  8 iron_cofactor  9 cortisol  10 ferritin
//   11 sertraline  12 ssri  13 tryptophan_supplement
// Edge indexes: 0 cortisol -upregulates-> maoa, 1 tryptophan_supplement -targets-> tryptophan,
//   2 tryptophan_supplement -contraindicated_with-> ssri, 3 iron_cofactor -measured_by-> ferritin.
Fixture BaseFixture() {
  Fixture f;
  f.files["kb/base.json"] = {
      {"nodes",
       json::array({
           MakeNode("serotonin", "neurotransmitter"),
           MakeNode("tryptophan", "precursor"),
           MakeNode("hiaa", "metabolite"),
           MakeNode("serotonin_pathway", "pathway", {{"neurotransmitter", "serotonin"}}),
           MakeNode("trp_hydroxylation", "pathway_step",
                    {{"pathway", "serotonin_pathway"}, {"phase", "synthesis"}, {"substrates", {"tryptophan"}},
                     {"products", {"serotonin"}}, {"enzymes", {"tph2"}}, {"rate_limiting", true},
                     {"citations", Cites({"smith_2020"})}}),
           MakeNode("serotonin_oxidation", "pathway_step",
                    {{"pathway", "serotonin_pathway"}, {"phase", "breakdown"}, {"substrates", {"serotonin"}},
                     {"products", {"hiaa"}}, {"enzymes", {"maoa"}}, {"citations", Cites({"jones_2019"})}}),
           MakeNode("tph2", "enzyme",
                    {{"gene", "TPH2"}, {"cofactors", {"iron_cofactor"}}, {"citations", Cites({"smith_2020", "jones_2019"})}}),
           MakeNode("maoa", "enzyme", {{"gene", "MAOA"}, {"cofactors", json::array()}, {"citations", Cites({"jones_2019"})}}),
           MakeNode("iron_cofactor", "cofactor"),
           MakeNode("cortisol", "hormone", {{"citations", Cites({"smith_2020"})}}),
           FerritinLab(),
           MakeNode("sertraline", "medication",
                    {{"atc", "N06AB06"}, {"classes", {"ssri"}}, {"citations", Cites({"jones_2019"})}}),
           MakeNode("ssri", "medication_class"),
           MakeNode("tryptophan_supplement", "strategy",
                    {{"strategy_kind", "precursor"}, {"citations", Cites({"smith_2020"})}}),
       })},
      {"edges", json::array({
                    MakeEdge("cortisol", "upregulates", "maoa"),
                    MakeEdge("tryptophan_supplement", "targets", "tryptophan"),
                    MakeEdge("tryptophan_supplement", "contraindicated_with", "ssri",
                             {{"severity", "relative"}, {"citations", Cites({"jones_2019"})}}),
                    MakeEdge("iron_cofactor", "measured_by", "ferritin", {{"citations", Cites({"jones_2019"})}}),
                })},
  };
  f.files["kb/citations.json"] = {
      {"citations", {{"smith_2020", CitationJson("Tryptophan and serotonin")}, {"jones_2019", CitationJson("Monoamine oxidase")}}}};
  return f;
}

json& Nodes(Fixture& f) { return f.files["kb/base.json"]["nodes"]; }
json& Edges(Fixture& f) { return f.files["kb/base.json"]["edges"]; }
json& NodeById(Fixture& f, const std::string& id) {
  for (auto& node : Nodes(f))
    if (node["id"] == id) return node;
  ADD_FAILURE() << "fixture has no node " << id;
  static json none;
  return none;
}

// The vocabulary a good fixture meets; tests break it one entry at a time.
json Vocabulary() {
  return {{"_about", "test vocabulary"},
          {"labs", {{"ferritin", {{"loinc", "2276-4"}}}}},
          {"medications", {{"sertraline", {{"atc", "N06AB06"}, {"classes", {"ssri"}}}}}},
          {"strategies", {{"tryptophan_supplement", "L-tryptophan"}}}};
}

std::vector<std::string> ProblemStrings(const LoadOutcome& outcome) {
  std::vector<std::string> texts;
  for (const auto& problem : outcome.problems) texts.push_back(problem.ToString());
  return texts;
}

LoadOutcome Load(const Fixture& f) { return LoadKnowledge(f.Sources()); }

// ---------------------------------------------------------------------------------------------
// Broken fixtures and their exact problems.

// A derived_index node (HOMA-IR over the fixture's only lab), with `extra` fields overriding.
json HomaIr(json extra = json::object()) {
  json node = MakeNode("homa_ir", "derived_index",
                       {{"inputs", {"ferritin"}}, {"unit", "1"}, {"high_above", 2.5}, {"citations", Cites({"smith_2020"})}});
  for (const auto& [key, value] : extra.items()) node[key] = value;
  return node;
}

// AUDIT-C (3 items of 0-4) with a per-sex positive_at.
json AuditC(json positive_at) {
  return MakeNode("audit_c", "questionnaire",
                  {{"items", 3}, {"item_min", 0}, {"item_max", 4}, {"positive_at", positive_at},
                   {"citations", Cites({"smith_2020"})}});
}

struct BadCase {
  const char* name;
  std::function<void(Fixture&)> mutate;
  std::vector<std::string> expected;
};

const std::vector<BadCase>& BadCases() {
  static const std::vector<BadCase> cases = {
      {"invalid_json_points_at_line_and_column",
       [](Fixture& f) { f.raw["kb/extra.json"] = "{\n  \"nodes\": [}\n}\n"; },
       {"kb/extra.json:2:13: invalid JSON: syntax error while parsing value - unexpected '}'; expected '[', '{', "
        "or a literal"}},
      // The base file defines what the others reference: its syntax error alone is reported, not
      // every reference to a node it would have defined.
      {"broken_base_file_is_one_problem_not_its_knock_on_effects",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {{"nodes", {MakeNode("tph2_helper", "enzyme", {{"cofactors", {"iron"}},
                                                                                    {"citations", Cites({"smith_2020"})}})}}};
         f.raw["kb/base.json"] = f.files["kb/base.json"].dump(2).substr(0, 40);
       },
       {"kb/base.json:4:20: invalid JSON: syntax error while parsing value - unexpected end of input; expected '[', "
        "'{', or a literal"}},
      {"top_level_not_an_object",
       [](Fixture& f) { f.files["kb/extra.json"] = json::array(); },
       {"kb/extra.json: a knowledge file must be a JSON object with 'nodes', 'edges' and/or 'citations'"}},
      {"unknown_top_level_key_with_did_you_mean",
       [](Fixture& f) { f.files["kb/base.json"]["nodez"] = json::array(); },
       {"kb/base.json:/nodez: unknown top-level key 'nodez' (did you mean 'nodes'?); a knowledge file has 'nodes', "
        "'edges', 'citations' and 'work_up'"}},
      {"duplicate_id_names_first_definition",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {{"nodes", {MakeNode("tph2", "enzyme", {{"cofactors", json::array()},
                                                                             {"citations", Cites({"smith_2020"})}})}}};
       },
       {"kb/extra.json:/nodes/0/id: duplicate id 'tph2' (first defined at kb/base.json:/nodes/6)"}},
      {"id_not_snake_case",
       [](Fixture& f) { Nodes(f).push_back(MakeNode("Low-Mood", "symptom")); },
       {"kb/base.json:/nodes/14/id: id 'Low-Mood' is not snake_case ([a-z][a-z0-9_]*)"}},
      {"unknown_kind_with_did_you_mean",
       [](Fixture& f) { Nodes(f).push_back(MakeNode("comt", "enzym")); },
       {"kb/base.json:/nodes/14/kind: unknown node kind 'enzym' (did you mean 'enzyme'?)"}},
      {"missing_label",
       [](Fixture& f) {
         Nodes(f).push_back(MakeNode("low_mood", "symptom"));
         Nodes(f).back().erase("label");
       },
       {"kb/base.json:/nodes/14/label: missing or empty 'label'"}},
      {"empty_description",
       [](Fixture& f) { Nodes(f).push_back(MakeNode("low_mood", "symptom", {{"description", ""}})); },
       {"kb/base.json:/nodes/14/description: missing or empty 'description'"}},
      {"unknown_node_field_with_did_you_mean",
       [](Fixture& f) { NodeById(f, "maoa")["gen"] = "MAOA"; },
       {"kb/base.json:/nodes/7/gen: unknown field 'gen' for an enzyme node (did you mean 'gene'?)"}},
      {"dangling_edge_reference_names_nearest_id",
       [](Fixture& f) { Edges(f).push_back(MakeEdge("cortisol", "upregulates", "tph3")); },
       {"kb/base.json:/edges/4/to: unknown node 'tph3' (did you mean 'tph2'?)"}},
      {"edge_type_not_allowed_between_kinds",
       [](Fixture& f) { Edges(f).push_back(MakeEdge("cortisol", "catalyzes", "trp_hydroxylation")); },
       {"kb/base.json:/edges/4: edge type 'catalyzes' cannot go from a hormone ('cortisol') to a pathway_step "
        "('trp_hydroxylation'); allowed: enzyme, transporter -> pathway_step"}},
      {"unknown_edge_type_with_did_you_mean",
       [](Fixture& f) { Edges(f)[0]["type"] = "upregulate"; },
       {"kb/base.json:/edges/0/type: unknown edge type 'upregulate' (did you mean 'upregulates'?)"}},
      {"edge_with_empty_citations",
       [](Fixture& f) { Edges(f)[0]["citations"] = json::array(); },
       {"kb/base.json:/edges/0/citations: missing citation: every edge must cite at least one source"}},
      {"edge_without_citations",
       [](Fixture& f) { Edges(f)[3].erase("citations"); },
       {"kb/base.json:/edges/3/citations: missing citation: every edge must cite at least one source"}},
      {"unknown_citation_key_with_did_you_mean",
       [](Fixture& f) { Edges(f)[0]["citations"] = Cites({"smith_2021"}); },
       {"kb/base.json:/edges/0/citations: unknown citation 'smith_2021' (did you mean 'smith_2020'?)"}},
      {"node_citing_unknown_key",
       [](Fixture& f) { NodeById(f, "cortisol")["citations"] = Cites({"jones_2018"}); },
       {"kb/base.json:/nodes/9/citations: unknown citation 'jones_2018' (did you mean 'jones_2019'?)"}},
      {"node_kind_that_needs_a_citation_without_one",
       [](Fixture& f) { NodeById(f, "cortisol").erase("citations"); },
       {"kb/base.json:/nodes/9/citations: missing citation: a hormone node must cite at least one source"}},
      {"lab_without_reference_range",
       [](Fixture& f) { NodeById(f, "ferritin").erase("reference"); },
       {"kb/base.json:/nodes/10/reference: lab 'ferritin' has no reference range"}},
      {"lab_unknown_unit",
       [](Fixture& f) { NodeById(f, "ferritin")["units"].push_back("ng/mq"); },
       {"kb/base.json:/nodes/10/units/2: unknown unit 'ng/mq': 'mq' is not a unit"}},
      {"lab_mass_to_molar_unit_without_molar_mass",
       [](Fixture& f) { NodeById(f, "ferritin")["units"].push_back("pmol/L"); },
       {"kb/base.json:/nodes/10/units/2: cannot convert pmol/L to ng/mL without a molar mass; analyte 'ferritin' "
        "has no molar_mass"}},
      {"lab_units_omit_canonical_unit",
       [](Fixture& f) { NodeById(f, "ferritin")["units"] = {"ug/L"}; },
       {"kb/base.json:/nodes/10/units: 'units' must include the canonical unit 'ng/mL'"}},
      {"lab_without_range_for_older_adults",
       [](Fixture& f) {
         NodeById(f, "ferritin")["reference"] = json::array({{{"age_max", 65}, {"low", 30}, {"high", 300}}});
       },
       {"kb/base.json:/nodes/10/reference: no reference range applies to an 80-year-old female patient",
        "kb/base.json:/nodes/10/reference: no reference range applies to an 80-year-old male patient"}},
      {"lab_without_range_for_men",
       [](Fixture& f) {
         NodeById(f, "ferritin")["reference"] = json::array({{{"sex", "female"}, {"low", 15}, {"high", 150}}});
       },
       {"kb/base.json:/nodes/10/reference: no reference range applies to an 18-year-old male patient"}},
      {"lab_range_low_above_high",
       [](Fixture& f) { NodeById(f, "ferritin")["reference"][0]["low"] = 400; },
       {"kb/base.json:/nodes/10/reference/0: range low 400 is above high 300"}},
      {"lab_without_loinc",
       [](Fixture& f) { NodeById(f, "ferritin").erase("loinc"); },
       {"kb/base.json:/nodes/10/loinc: lab 'ferritin' has no LOINC code (if none can be verified, say "
        "\"loinc_certainty\": \"none\")"}},
      {"enzyme_without_cofactors",
       [](Fixture& f) { NodeById(f, "maoa").erase("cofactors"); },
       {"kb/base.json:/nodes/7/cofactors: enzyme 'maoa' does not list its cofactors (add \"cofactors\": [] if it "
        "needs none)"}},
      {"pathway_step_with_bad_phase",
       [](Fixture& f) { NodeById(f, "trp_hydroxylation")["phase"] = "synth"; },
       {"kb/base.json:/nodes/4/phase: 'phase' must be one of: breakdown, recycling, release, reuptake, storage, "
        "synthesis, transport",
        // The step no longer counts as synthesis, so the pathway check fires as well.
        "kb/base.json:/nodes/3: transmitter pathway 'serotonin_pathway' has no synthesis step"}},
      {"transmitter_pathway_without_breakdown_step",
       [](Fixture& f) { NodeById(f, "serotonin_oxidation")["phase"] = "recycling"; },
       {"kb/base.json:/nodes/3: transmitter pathway 'serotonin_pathway' has no breakdown step"}},
      {"pathway_naming_a_non_transmitter",
       [](Fixture& f) { NodeById(f, "serotonin_pathway")["neurotransmitter"] = "tryptophan"; },
       {"kb/base.json:/nodes/3/neurotransmitter: pathway 'serotonin_pathway' names 'tryptophan', which is not a "
        "neurotransmitter node"}},
      {"strategy_without_targets",
       [](Fixture& f) { Edges(f).erase(1); },
       {"kb/base.json:/nodes/13: strategy 'tryptophan_supplement' has no 'targets' edge: say what it acts on"}},
      {"contraindicated_with_without_severity",
       [](Fixture& f) { Edges(f)[2].erase("severity"); },
       {"kb/base.json:/edges/2/severity: a contraindicated_with edge needs 'severity' (absolute, relative, caution)"}},
      {"severity_on_an_edge_that_is_not_a_contraindication",
       [](Fixture& f) { Edges(f)[0]["severity"] = "caution"; },
       {"kb/base.json:/edges/0/severity: 'severity' is only for 'contraindicated_with' edges"}},
      {"duplicate_edge_names_the_other",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {{"edges", {MakeEdge("tryptophan_supplement", "targets", "tryptophan")}}};
       },
       {"kb/extra.json:/edges/0: duplicate edge tryptophan_supplement -targets-> tryptophan (also at "
        "kb/base.json:/edges/1)"}},
      {"written_edge_duplicating_a_generated_one",
       [](Fixture& f) { Edges(f).push_back(MakeEdge("tph2", "catalyzes", "trp_hydroxylation")); },
       // Written edges are checked before the generated ones, so the generated copy is the duplicate.
       {"kb/base.json:/nodes/4/enzymes/0: duplicate edge tph2 -catalyzes-> trp_hydroxylation (also at "
        "kb/base.json:/edges/4)"}},
      {"duplicate_citation_key",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"citations", {{"smith_2020", CitationJson("Another")}}}}; },
       {"kb/extra.json:/citations/smith_2020: duplicate citation key 'smith_2020' (first defined at "
        "kb/citations.json:/citations/smith_2020)"}},
      {"citation_with_bad_kind",
       [](Fixture& f) { f.files["kb/citations.json"]["citations"]["smith_2020"]["kind"] = "article"; },
       {"kb/citations.json:/citations/smith_2020/kind: citation 'kind' must be one of: database, guideline, label, "
        "model, paper, review, textbook"}},
      {"citation_without_grade",
       [](Fixture& f) { f.files["kb/citations.json"]["citations"]["smith_2020"].erase("grade"); },
       {"kb/citations.json:/citations/smith_2020/grade: a citation needs 'grade': A (guideline, systematic review or "
        "meta-analysis of human trials), B (human trials or cohort studies) or C (animal, cell or mechanistic work, "
        "expert opinion, textbook, database)"}},
      {"citation_with_bad_grade",
       [](Fixture& f) { f.files["kb/citations.json"]["citations"]["smith_2020"]["grade"] = "a"; },
       {"kb/citations.json:/citations/smith_2020/grade: citation 'grade' must be: A (guideline, systematic review or "
        "meta-analysis of human trials), B (human trials or cohort studies) or C (animal, cell or mechanistic work, "
        "expert opinion, textbook, database)"}},
      {"citation_with_empty_claim",
       [](Fixture& f) { f.files["kb/citations.json"]["citations"]["smith_2020"]["claim"] = ""; },
       {"kb/citations.json:/citations/smith_2020/claim: citation 'claim' must be a non-empty string: what the "
        "knowledge base uses the source for"}},
      {"citation_with_bad_verified",
       [](Fixture& f) { f.files["kb/citations.json"]["citations"]["smith_2020"]["verified"] = "yes"; },
       {"kb/citations.json:/citations/smith_2020/verified: citation 'verified' must be one of: checked, textbook, "
        "uncertain"}},
      {"citation_with_unknown_field",
       [](Fixture& f) { f.files["kb/citations.json"]["citations"]["jones_2019"]["pmdi"] = "1"; },
       {"kb/citations.json:/citations/jones_2019/pmdi: unknown field 'pmdi' in a citation (did you mean 'pmcid', 'pmid'?)"}},
      {"vocabulary_id_missing",
       [](Fixture& f) {
         json vocabulary = Vocabulary();
         vocabulary["medications"]["fluoxetine"] = {{"atc", "N06AB03"}};
         f.files["kb/vocabulary.json"] = vocabulary;
       },
       {"kb/vocabulary.json:/medications/fluoxetine: id 'fluoxetine' required by the vocabulary is not defined "
        "(expected a node of kind medication)"}},
      {"vocabulary_id_of_wrong_kind",
       [](Fixture& f) {
         json vocabulary = Vocabulary();
         vocabulary["labs"]["tph2"] = json::object();
         f.files["kb/vocabulary.json"] = vocabulary;
       },
       {"kb/vocabulary.json:/labs/tph2: id 'tph2' is of kind enzyme; the vocabulary needs kind lab"}},
      {"vocabulary_medication_atc_mismatch",
       [](Fixture& f) {
         json vocabulary = Vocabulary();
         vocabulary["medications"]["sertraline"]["atc"] = "N06AB10";
         f.files["kb/vocabulary.json"] = vocabulary;
       },
       {"kb/base.json:/nodes/11/atc: medication 'sertraline' has ATC 'N06AB06' but the vocabulary says 'N06AB10'"}},
      {"vocabulary_medication_class_missing",
       [](Fixture& f) {
         json vocabulary = Vocabulary();
         vocabulary["medications"]["sertraline"]["classes"] = {"ssri", "ssri_other"};
         f.files["kb/vocabulary.json"] = vocabulary;
       },
       {"kb/base.json:/nodes/11/classes: medication 'sertraline' lacks the vocabulary class 'ssri_other'"}},
      {"vocabulary_lab_loinc_mismatch",
       [](Fixture& f) {
         json vocabulary = Vocabulary();
         vocabulary["labs"]["ferritin"]["loinc"] = "2276-5";
         f.files["kb/vocabulary.json"] = vocabulary;
       },
       {"kb/base.json:/nodes/10/loinc: lab 'ferritin' has LOINC '2276-4' but the vocabulary says '2276-5'"}},
      // Typed payloads and the clinical data moved out of C++ (issue 8).
      {"derived_index_with_an_unknown_input",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"nodes", {HomaIr({{"inputs", {"ferritn"}}})}}}; },
       {"kb/extra.json:/nodes/0/inputs/0: unknown lab 'ferritn' (did you mean 'ferritin'?)"}},
      {"derived_index_without_a_cut_off",
       [](Fixture& f) {
         json node = HomaIr();
         node.erase("high_above");
         f.files["kb/extra.json"] = {{"nodes", {node}}};
       },
       {"kb/extra.json:/nodes/0: missing required field 'high_above'"}},
      {"derived_index_with_a_text_cut_off",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"nodes", {HomaIr({{"high_above", "2.5"}})}}}; },
       {"kb/extra.json:/nodes/0/high_above: expected a number, got a string"}},
      {"positive_at_missing_a_sex",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"nodes", {AuditC({{"female", 3}})}}}; },
       {"kb/extra.json:/nodes/0/positive_at: 'positive_at' needs a cut-off for each sex (missing 'male')"}},
      {"positive_at_out_of_range",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"nodes", {AuditC({{"female", 13}, {"male", 4}})}}}; },
       {"kb/extra.json:/nodes/0/positive_at/female: positive_at 13 is out of range 0-12"}},
      {"positive_at_with_an_unknown_sex",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"nodes", {AuditC({{"female", 3}, {"male", 4}, {"mal", 4}})}}}; },
       {"kb/extra.json:/nodes/0/positive_at/mal: unknown field 'mal' (did you mean 'male', 'female'?)"}},
      {"case_stressor_not_a_boolean",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {{"nodes", {MakeNode("chronic_pain", "condition",
                                                         {{"icd10", "G89"}, {"case_stressor", "yes"},
                                                          {"citations", Cites({"smith_2020"})}})}}};
       },
       {"kb/extra.json:/nodes/0/case_stressor: expected true or false, got a string"}},
      {"enum_lifestyle_factor_without_values",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"nodes", {MakeNode("diet", "lifestyle_factor", {{"value_type", "enum"}})}}}; },
       {"kb/extra.json:/nodes/0/values: an enum lifestyle factor needs 'values' (the allowed words)"}},
      {"lifestyle_factor_min_above_max",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {
             {"nodes", {MakeNode("sleep_hours", "lifestyle_factor", {{"value_type", "number"}, {"min", 24}, {"max", 0}})}}};
       },
       {"kb/extra.json:/nodes/0/min: min 24 is above max 0"}},
      {"strategy_with_an_unknown_kind",
       [](Fixture& f) { NodeById(f, "tryptophan_supplement")["strategy_kind"] = "supplement"; },
       {"kb/base.json:/nodes/13/strategy_kind: 'strategy_kind' must be one of: botanical, cofactor, lifestyle, other, "
        "precursor, referral"}},
      {"alert_with_an_unknown_default_severity",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {{"nodes", {MakeNode("some_alert", "alert", {{"default_severity", "severe"}, {"citations", Cites({"smith_2020"})}})}}};
       },
       {"kb/extra.json:/nodes/0/default_severity: 'default_severity' must be one of: caution, high, info, urgent"}},
      {"corrects_must_end_at_a_driver",
       [](Fixture& f) { Edges(f).push_back(MakeEdge("tryptophan_supplement", "corrects", "ssri")); },
       {"kb/base.json:/edges/4: edge type 'corrects' cannot go from a strategy ('tryptophan_supplement') to a "
        "medication_class ('ssri'); allowed: strategy -> stressor, driver"}},
      {"corrects_an_unknown_driver",
       [](Fixture& f) { Edges(f).push_back(MakeEdge("tryptophan_supplement", "corrects", "iron_deficency")); },
       {"kb/base.json:/edges/4/to: unknown node 'iron_deficency'"}},
      {"work_up_names_an_unknown_lab",
       [](Fixture& f) {
         f.files["kb/extra.json"] = {{"work_up", {{"first_line", {"ferritin", "feritin"}}, {"citations", Cites({"smith_2020"})}}}};
       },
       {"kb/extra.json:/work_up/first_line/1: unknown lab 'feritin' (did you mean 'ferritin'?)"}},
      {"work_up_without_a_citation",
       [](Fixture& f) { f.files["kb/extra.json"] = {{"work_up", {{"first_line", {"ferritin"}}}}}; },
       {"kb/extra.json:/work_up/citations: missing citation: the work-up must cite at least one source"}},
  };
  return cases;
}

// Test names come from the table; print the name rather than the bytes of the case.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadFixtureTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadFixtureTest, ReportsExactProblems) {
  Fixture f = BaseFixture();
  GetParam().mutate(f);
  LoadOutcome outcome = Load(f);
  EXPECT_EQ(ProblemStrings(outcome), GetParam().expected);
  ASSERT_NE(outcome.kb, nullptr);  // Always set, even with problems.
}

INSTANTIATE_TEST_SUITE_P(Loader, BadFixtureTest, ::testing::ValuesIn(BadCases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) { return std::string(info.param.name); });

TEST(LoaderTest, BaseFixtureIsValid) {
  // Guards the table above: each bad case must differ from a good knowledge base only by its mutation.
  LoadOutcome outcome = Load(BaseFixture());
  EXPECT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  EXPECT_EQ(outcome.kb->nodes().size(), 14u);
}

TEST(LoaderTest, ReportsEveryProblemNotOnlyTheFirst) {
  Fixture f = BaseFixture();
  f.files["kb/base.json"]["nodez"] = json::array();           // unknown top-level key
  Nodes(f).push_back(MakeNode("low_mood", "symptom"));
  Nodes(f).back().erase("label");                            // missing label
  Edges(f)[0]["citations"] = Cites({"smith_2021"});           // unknown citation
  LoadOutcome outcome = Load(f);
  EXPECT_EQ(ProblemStrings(outcome),
            (std::vector<std::string>{
                "kb/base.json:/nodes/14/label: missing or empty 'label'",
                "kb/base.json:/nodez: unknown top-level key 'nodez' (did you mean 'nodes'?); a knowledge file has "
                "'nodes', 'edges', 'citations' and 'work_up'",
                "kb/base.json:/edges/0/citations: unknown citation 'smith_2021' (did you mean 'smith_2020'?)",
            }));
}

TEST(LoaderTest, ProblemFieldsAreSetForSyntaxErrors) {
  Fixture f = BaseFixture();
  f.raw["kb/extra.json"] = "{\"nodes\": [1,]}";
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(outcome.problems.size(), 1u);
  EXPECT_EQ(outcome.problems[0].file, "kb/extra.json");
  EXPECT_EQ(outcome.problems[0].line, 1);
  EXPECT_EQ(outcome.problems[0].column, 14);
}

// ---------------------------------------------------------------------------------------------
// Good fixtures: variations that must load with zero problems.

struct GoodCase {
  const char* name;
  std::function<void(Fixture&)> mutate;
};

const std::vector<GoodCase>& GoodCases() {
  static const std::vector<GoodCase> cases = {
      {"base", [](Fixture&) {}},
      {"with_vocabulary", [](Fixture& f) { f.files["kb/vocabulary.json"] = Vocabulary(); }},
      {"nodes_split_across_files_in_folders",
       [](Fixture& f) {
         json& nodes = Nodes(f);
         json moved = json::array();
         while (nodes.size() > 7) {
           moved.push_back(nodes.back());
           nodes.erase(nodes.size() - 1);
         }
         f.files["kb/pathways/more.json"] = {{"nodes", moved}};
       }},
      {"comment_keys_everywhere",
       [](Fixture& f) {
         f.files["kb/base.json"]["_note"] = "file comment";
         NodeById(f, "tph2")["_note"] = "node comment";
         Edges(f)[0]["_why"] = "edge comment";
         NodeById(f, "ferritin")["reference"][0]["_note"] = "range comment";
         f.files["kb/citations.json"]["citations"]["smith_2020"]["_note"] = "citation comment";
       }},
      {"edge_with_all_optional_fields",
       [](Fixture& f) {
         Edges(f)[0].update({{"sign", "-"}, {"weight", 0.5}, {"evidence", "H"}, {"certainty", "low"},
                             {"note", "A note."}});
       }},
      {"lab_with_molar_mass_and_one_sided_sex_ranges",
       [](Fixture& f) {
         json& lab = NodeById(f, "ferritin");
         lab["molar_mass"] = 474000;
         lab["units"].push_back("pmol/L");
         lab["reference"] = json::array({{{"sex", "female"}, {"low", 15}},
                                         {{"sex", "male"}, {"low", 30}, {"high", 400}},
                                         {{"sex", "any"}, {"pregnant", true}, {"low", 10}, {"unit", "ug/L"}}});
         lab["optimal"] = json::array({{{"low", 50}, {"certainty", "low"}, {"citations", Cites({"jones_2019"})}}});
         lab["critical"] = {{"low", nullptr}, {"high", 10000}};
       }},
      {"lab_with_explicit_conversion",
       [](Fixture& f) {
         Nodes(f).push_back(MakeNode(
             "hba1c", "lab",
             {{"loinc", "4548-4"}, {"loinc_certainty", "checked"}, {"canonical_unit", "%"},
              {"units", {"%", "mmol/mol"}},
              {"conversions", json::array({{{"unit", "mmol/mol"}, {"factor", 0.0915}, {"offset", 2.15},
                                            {"citations", Cites({"smith_2020"})}}})},
              {"reference", json::array({{{"low", 4.0}, {"high", 5.6}}})},
              {"citations", Cites({"smith_2020"})}}));
       }},
      {"lab_without_verifiable_loinc",
       [](Fixture& f) {
         NodeById(f, "ferritin").erase("loinc");
         NodeById(f, "ferritin")["loinc_certainty"] = "none";
       }},
      {"questionnaire",
       [](Fixture& f) {
         Nodes(f).push_back(MakeNode(
             "phq9", "questionnaire",
             {{"items", 9}, {"item_min", 0}, {"item_max", 3}, {"safety_item", 9},
              {"bands", json::array({{{"min", 0}, {"max", 4}, {"label", "minimal"}},
                                     {{"min", 5}, {"max", 27}, {"label", "more"}}})},
              {"positive_at", 10}, {"citations", Cites({"smith_2020"})}}));
       }},
      {"medication_member_of_a_medication",
       [](Fixture& f) {
         Nodes(f).push_back(MakeNode("sertraline_combo", "medication",
                                     {{"atc", "N06AB56"}, {"classes", {"sertraline"}},
                                      {"citations", Cites({"jones_2019"})}}));
       }},
      {"corrects_edge_and_work_up",
       [](Fixture& f) {
         Nodes(f).push_back(MakeNode("iron_deficiency", "driver", {{"citations", Cites({"smith_2020"})}}));
         Edges(f).push_back(MakeEdge("tryptophan_supplement", "corrects", "iron_deficiency"));
         f.files["kb/extra.json"] = {{"work_up", {{"first_line", {"ferritin"}}, {"citations", Cites({"smith_2020"})}}}};
       }},
      {"transporter_reuptake_edge",
       [](Fixture& f) {
         Nodes(f).push_back(MakeNode("sert", "transporter", {{"gene", "SLC6A4"}}));
         Edges(f).push_back(MakeEdge("sert", "transports", "serotonin", {{"role", "reuptake"}}));
       }},
  };
  return cases;
}

void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name; }

class GoodFixtureTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GoodFixtureTest, LoadsWithoutProblems) {
  Fixture f = BaseFixture();
  GetParam().mutate(f);
  LoadOutcome outcome = Load(f);
  EXPECT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  EXPECT_NE(outcome.kb->Find("tph2"), nullptr);
  EXPECT_EQ(outcome.kb->version().rfind("sha256:", 0), 0u) << outcome.kb->version();
}

INSTANTIATE_TEST_SUITE_P(Loader, GoodFixtureTest, ::testing::ValuesIn(GoodCases()),
                         [](const ::testing::TestParamInfo<GoodCase>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// Generated edges and parsed details.

const Edge* FindEdge(const KnowledgeBase& kb, const std::string& from, EdgeType type, const std::string& to) {
  for (const Edge* edge : kb.OutEdges(from))
    if (edge->type == type && edge->to == to) return edge;
  return nullptr;
}

struct GeneratedCase {
  const char* from;
  EdgeType type;
  const char* to;
  int sign;
  std::vector<std::string> citations;  // the citations of the node the field belongs to
  const char* json_path;               // where the field was written
};

TEST(LoaderTest, FieldsGenerateCitedEdges) {
  const GeneratedCase cases[] = {
      {"tph2", EdgeType::kCatalyzes, "trp_hydroxylation", +1, {"smith_2020"}, "/nodes/4/enzymes/0"},
      {"maoa", EdgeType::kCatalyzes, "serotonin_oxidation", +1, {"jones_2019"}, "/nodes/5/enzymes/0"},
      {"tryptophan", EdgeType::kSubstrateOf, "trp_hydroxylation", +1, {"smith_2020"}, "/nodes/4/substrates/0"},
      {"trp_hydroxylation", EdgeType::kProduces, "serotonin", +1, {"smith_2020"}, "/nodes/4/products/0"},
      {"trp_hydroxylation", EdgeType::kPartOf, "serotonin_pathway", +1, {"smith_2020"}, "/nodes/4/pathway"},
      {"trp_hydroxylation", EdgeType::kRateLimiting, "serotonin_pathway", +1, {"smith_2020"}, "/nodes/4/rate_limiting"},
      {"iron_cofactor", EdgeType::kCofactorOf, "tph2", +1, {"smith_2020", "jones_2019"}, "/nodes/6/cofactors/0"},
      {"sertraline", EdgeType::kMemberOf, "ssri", +1, {"jones_2019"}, "/nodes/11/classes/0"},
  };
  LoadOutcome outcome = Load(BaseFixture());
  ASSERT_TRUE(outcome.problems.empty());
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.from) + " -" + std::string(EdgeTypeName(c.type)) + "-> " + c.to);
    const Edge* edge = FindEdge(*outcome.kb, c.from, c.type, c.to);
    ASSERT_NE(edge, nullptr);
    EXPECT_TRUE(edge->generated);
    EXPECT_EQ(edge->sign, c.sign);
    EXPECT_EQ(edge->citations, c.citations);
    EXPECT_EQ(edge->source.file, "kb/base.json");
    EXPECT_EQ(edge->source.json_path, c.json_path);
  }
  // serotonin_oxidation is not rate-limiting: no edge for it.
  EXPECT_EQ(FindEdge(*outcome.kb, "serotonin_oxidation", EdgeType::kRateLimiting, "serotonin_pathway"), nullptr);
  // Written edges are not marked generated.
  const Edge* written = FindEdge(*outcome.kb, "cortisol", EdgeType::kUpregulates, "maoa");
  ASSERT_NE(written, nullptr);
  EXPECT_FALSE(written->generated);
  // 4 written; trp_hydroxylation: substrate, product, enzyme, part_of, rate_limiting;
  // serotonin_oxidation: substrate, product, enzyme, part_of; tph2's cofactor; sertraline's class.
  EXPECT_EQ(outcome.kb->edges().size(), 4u + 5u + 4u + 1u + 1u);
}

TEST(LoaderTest, EdgeSignsDefaultByTypeAndRole) {
  Fixture f = BaseFixture();
  Nodes(f).push_back(MakeNode("sert", "transporter", {{"gene", "SLC6A4"}}));
  Nodes(f).push_back(MakeNode("vmat2", "transporter", {{"gene", "SLC18A2"}}));
  Edges(f).push_back(MakeEdge("sert", "transports", "serotonin", {{"role", "reuptake"}}));
  Edges(f).push_back(MakeEdge("vmat2", "transports", "serotonin", {{"role", "vesicular"}}));
  Edges(f).push_back(MakeEdge("maoa", "degrades", "serotonin"));
  Edges(f).push_back(MakeEdge("cortisol", "downregulates", "tph2", {{"sign", "+"}}));  // explicit sign wins
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const KnowledgeBase& kb = *outcome.kb;
  EXPECT_EQ(FindEdge(kb, "sert", EdgeType::kTransports, "serotonin")->sign, -1);
  EXPECT_EQ(FindEdge(kb, "vmat2", EdgeType::kTransports, "serotonin")->sign, +1);
  EXPECT_EQ(FindEdge(kb, "maoa", EdgeType::kDegrades, "serotonin")->sign, -1);
  EXPECT_EQ(FindEdge(kb, "cortisol", EdgeType::kUpregulates, "maoa")->sign, +1);
  EXPECT_EQ(FindEdge(kb, "cortisol", EdgeType::kDownregulates, "tph2")->sign, +1);
  EXPECT_EQ(FindEdge(kb, "tryptophan_supplement", EdgeType::kContraindicatedWith, "ssri")->severity, ContraindicationSeverity::kRelative);
}

TEST(LoaderTest, LabRangesAreConvertedToTheCanonicalUnit) {
  Fixture f = BaseFixture();
  json& lab = NodeById(f, "ferritin");
  lab["canonical_unit"] = "ng/mL";
  lab["units"] = {"ng/mL", "ug/dL"};
  lab["reference"] = json::array({{{"low", 3}, {"high", 30}, {"unit", "ug/dL"}}});
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const Lab& parsed = *outcome.kb->Find("ferritin")->lab;
  ASSERT_EQ(parsed.reference.size(), 1u);
  EXPECT_DOUBLE_EQ(*parsed.reference[0].low, 30);
  EXPECT_DOUBLE_EQ(*parsed.reference[0].high, 300);
  EXPECT_EQ(parsed.analyte.canonical_unit, "ng/mL");
  EXPECT_EQ(parsed.units, (std::vector<std::string>{"ng/mL", "ug/dL"}));
  EXPECT_EQ(parsed.loinc, "2276-4");
  EXPECT_EQ(outcome.kb->FindLabByLoinc("2276-4"), outcome.kb->Find("ferritin"));
  EXPECT_DOUBLE_EQ(*parsed.plausible_max, 100000);
}

// ---------------------------------------------------------------------------------------------
// The version.

// Serialises JSON with every object's keys in reverse order (nlohmann sorts them when dumping).
std::string DumpReversed(const json& value) {
  if (value.is_object()) {
    std::vector<std::string> parts;
    for (const auto& [key, child] : value.items()) parts.push_back(json(key).dump() + ":" + DumpReversed(child));
    std::string text = "{";
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) text += (it == parts.rbegin() ? "" : ",\n") + *it;
    return text + "}";
  }
  if (value.is_array()) {
    std::string text = "[";
    for (size_t i = 0; i < value.size(); ++i) text += (i ? ", " : "") + DumpReversed(value[i]);
    return text + "]";
  }
  return value.dump();
}

std::string VersionOf(const Fixture& f) {
  LoadOutcome outcome = Load(f);
  EXPECT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  return outcome.kb->version();
}

TEST(VersionTest, IndependentOfFileLayoutAndKeyOrder) {
  const std::string base = VersionOf(BaseFixture());
  EXPECT_EQ(base.size(), std::string("sha256:").size() + 64);

  // Nodes, edges and citations moved to other files, in another order.
  Fixture moved = BaseFixture();
  json nodes = Nodes(moved);
  json edges = Edges(moved);
  json reversed_nodes = json::array();
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) reversed_nodes.push_back(*it);
  json reversed_edges = json::array();
  for (auto it = edges.rbegin(); it != edges.rend(); ++it) reversed_edges.push_back(*it);
  moved.files.clear();
  moved.files["other/a_edges.json"] = {{"edges", reversed_edges}, {"citations", BaseFixture().files["kb/citations.json"]["citations"]}};
  moved.files["other/z/nodes.json"] = {{"nodes", reversed_nodes}};
  EXPECT_EQ(VersionOf(moved), base);

  // Same files written with every object's keys in reverse order.
  Fixture reordered = BaseFixture();
  for (const auto& [path, document] : reordered.files) reordered.raw[path] = DumpReversed(document);
  EXPECT_NE(reordered.raw["kb/base.json"], BaseFixture().files["kb/base.json"].dump());
  EXPECT_EQ(VersionOf(reordered), base);

  // The vocabulary is a contract the content is checked against, not content.
  Fixture with_vocabulary = BaseFixture();
  with_vocabulary.files["kb/vocabulary.json"] = Vocabulary();
  EXPECT_EQ(VersionOf(with_vocabulary), base);
}

struct VersionChange {
  const char* name;
  std::function<void(Fixture&)> mutate;
};

TEST(VersionTest, ChangesWithAnyValue) {
  const VersionChange changes[] = {
      {"node label", [](Fixture& f) { NodeById(f, "tph2")["label"] = "Tryptophan hydroxylase 2"; }},
      {"node field", [](Fixture& f) { NodeById(f, "tph2")["gene"] = "TPH1"; }},
      {"lab range", [](Fixture& f) { NodeById(f, "ferritin")["reference"][0]["high"] = 301; }},
      {"edge weight", [](Fixture& f) { Edges(f)[0]["weight"] = 0.25; }},
      {"edge citation", [](Fixture& f) { Edges(f)[0]["citations"] = Cites({"jones_2019"}); }},
      {"citation title", [](Fixture& f) { f.files["kb/citations.json"]["citations"]["smith_2020"]["title"] = "T2"; }},
      {"added node", [](Fixture& f) { Nodes(f).push_back(MakeNode("low_mood", "symptom")); }},
  };
  const std::string base = VersionOf(BaseFixture());
  std::map<std::string, std::string> seen = {{base, "base"}};
  for (const auto& change : changes) {
    Fixture f = BaseFixture();
    change.mutate(f);
    std::string version = VersionOf(f);
    EXPECT_NE(version, base) << change.name;
    auto [it, inserted] = seen.emplace(version, change.name);
    EXPECT_TRUE(inserted) << change.name << " gives the same version as " << it->second;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed payloads: what other modules read instead of Node::data.

TEST(LoaderPayloads, NodesCarryTypedPayloads) {
  Fixture f = BaseFixture();
  f.files["kb/extra.json"] = {{"nodes", {HomaIr(), AuditC({{"female", 3}, {"male", 4}}),
                                         MakeNode("diet", "lifestyle_factor", {{"value_type", "enum"}, {"values", {"omnivore", "vegan"}}}),
                                         MakeNode("chronic_pain", "condition", {{"icd10", "G89"}, {"case_stressor", true},
                                                                                {"citations", Cites({"smith_2020"})}})}}};
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const KnowledgeBase& kb = *outcome.kb;

  ASSERT_TRUE(kb.Find("sertraline")->medication);
  EXPECT_EQ("N06AB06", kb.Find("sertraline")->medication->atc);
  EXPECT_EQ(std::vector<std::string>{"ssri"}, kb.Find("sertraline")->medication->classes);
  ASSERT_TRUE(kb.Find("tryptophan_supplement")->strategy);
  EXPECT_EQ(StrategyKind::kPrecursor, kb.Find("tryptophan_supplement")->strategy->kind);
  ASSERT_TRUE(kb.Find("chronic_pain")->condition);
  EXPECT_EQ("G89", kb.Find("chronic_pain")->condition->icd10);
  EXPECT_TRUE(kb.Find("chronic_pain")->condition->case_stressor);
  ASSERT_TRUE(kb.Find("diet")->lifestyle);
  EXPECT_EQ(LifestyleValueType::kEnum, kb.Find("diet")->lifestyle->value_type);
  EXPECT_EQ((std::vector<std::string>{"omnivore", "vegan"}), kb.Find("diet")->lifestyle->values);

  ASSERT_TRUE(kb.Find("homa_ir")->derived_index);
  EXPECT_EQ(std::vector<std::string>{"ferritin"}, kb.Find("homa_ir")->derived_index->inputs);
  EXPECT_EQ("1", kb.Find("homa_ir")->derived_index->unit);
  EXPECT_DOUBLE_EQ(2.5, kb.Find("homa_ir")->derived_index->high_above);

  const Questionnaire& audit = *kb.Find("audit_c")->questionnaire;
  EXPECT_EQ(3, audit.PositiveAt(Sex::kFemale));
  EXPECT_EQ(4, audit.PositiveAt(Sex::kMale));
  EXPECT_FALSE(audit.positive_at);
}

TEST(LoaderPayloads, OnePositiveAtServesBothSexes) {
  Fixture f = BaseFixture();
  f.files["kb/extra.json"] = {{"nodes", {AuditC(5)}}};
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const Questionnaire& audit = *outcome.kb->Find("audit_c")->questionnaire;
  EXPECT_EQ(5, audit.PositiveAt(Sex::kFemale));
  EXPECT_EQ(5, audit.PositiveAt(Sex::kMale));
}

TEST(LoaderPayloads, ContraindicationSeverityIsTyped) {
  LoadOutcome outcome = Load(BaseFixture());
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  for (const Edge& edge : outcome.kb->edges()) {
    if (edge.type != EdgeType::kContraindicatedWith) continue;
    EXPECT_EQ(ContraindicationSeverity::kRelative, edge.severity);
    EXPECT_EQ("relative", edge.ToJson()["severity"]);
  }
}

// The safety payloads: implied conditions, contraindication thresholds, interactions, alert
// gates, class groups and parents.
Fixture SafetyFixture() {
  Fixture f = BaseFixture();
  f.files["kb/safety.json"] = {
      {"nodes",
       json::array({
           MakeNode("serotonergic", "medication_class"),
           MakeNode("iron_overload", "condition",
                    {{"icd10", "E83.1"},
                     {"citations", Cites({"smith_2020"})},
                     {"implied_by", json::array({{{"lab", "ferritin"}, {"above", 300}, {"sex", "male"}},
                                                 {{"age_below", 12}, {"wording", "a child"}}})}}),
           MakeNode("serotonin_syndrome_risk", "alert",
                    {{"default_severity", "high"}, {"priority", 3}, {"citations", Cites({"smith_2020"})},
                     {"gates", {{"block", {"precursor"}}, {"caution", {"cofactor"}}, {"reason", "not now"}}}}),
       })},
      {"edges", json::array({
                    MakeEdge("tryptophan_supplement", "contraindicated_with", "ferritin",
                             {{"severity", "caution"}, {"when", {{"above", 1000}}}}),
                    MakeEdge("ssri", "interacts_with", "serotonergic",
                             {{"alert", "serotonin_syndrome_risk"}, {"alert_severity", "caution"}}),
                })},
  };
  NodeById(f, "ssri")["atc"] = {"N06AB"};
  NodeById(f, "ssri")["classes"] = {"serotonergic"};
  return f;
}

TEST(LoaderSafety, CriteriaGatesInteractionsAndClassGroupsAreTyped) {
  LoadOutcome outcome = Load(SafetyFixture());
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const KnowledgeBase& kb = *outcome.kb;
  const auto& implied = kb.Find("iron_overload")->condition->implied_by;
  ASSERT_EQ(2u, implied.size());
  EXPECT_EQ(Criterion::Subject::kLab, implied[0].subject);
  EXPECT_EQ("ferritin", implied[0].id);
  EXPECT_EQ(300, implied[0].above);
  EXPECT_EQ(Sex::kMale, implied[0].sex);
  EXPECT_EQ(Criterion::Subject::kAge, implied[1].subject);
  EXPECT_EQ(12, implied[1].age_below);
  EXPECT_EQ("a child", implied[1].wording);

  const Alert& alert = *kb.Find("serotonin_syndrome_risk")->alert;
  EXPECT_EQ(3, alert.priority);
  EXPECT_EQ(std::vector<StrategyKind>{StrategyKind::kPrecursor}, alert.gates.block);
  EXPECT_EQ(std::vector<StrategyKind>{StrategyKind::kCofactor}, alert.gates.caution);
  EXPECT_EQ("not now", alert.gates.reason);
  EXPECT_EQ(std::vector<std::string>{"N06AB"}, kb.Find("ssri")->medication_class->atc);

  int contraindications = 0, interactions = 0, class_parents = 0;
  for (const Edge& edge : kb.edges()) {
    if (edge.type == EdgeType::kContraindicatedWith) {
      ++contraindications;
      ASSERT_TRUE(edge.when) << edge.to;  // every contraindication carries its criterion
      EXPECT_EQ(edge.to, edge.when->id);
      if (edge.to == "ferritin") { EXPECT_EQ(1000, edge.when->above); }
    }
    if (edge.type == EdgeType::kInteractsWith) {
      ++interactions;
      EXPECT_EQ(AlertSeverity::kCaution, edge.alert_severity);
    }
    if (edge.type == EdgeType::kMemberOf && edge.from == "ssri" && edge.to == "serotonergic") ++class_parents;
  }
  EXPECT_EQ(2, contraindications);
  EXPECT_EQ(1, interactions);
  EXPECT_EQ(1, class_parents);
}

TEST(LoaderSafety, BrokenCriteriaAreReportedWithTheirPaths) {
  Fixture f = SafetyFixture();
  json& condition = f.files["kb/safety.json"]["nodes"][1];
  condition["implied_by"] = json::array({{{"lab", "feritin"}, {"above", 1}},
                                         {{"lab", "ferritin"}},
                                         {{"patient", "old"}},
                                         {{"above", 3}},
                                         {{"symptom", "x"}, {"lab", "ferritin"}, {"above", 1}}});
  json& edges = f.files["kb/safety.json"]["edges"];
  edges[0]["when"] = {{"abov", 1000}};
  edges[1].erase("alert_severity");
  LoadOutcome outcome = Load(f);
  EXPECT_EQ(ProblemStrings(outcome),
            (std::vector<std::string>{
                "kb/safety.json:/edges/1: missing required field 'alert_severity'",
                "kb/safety.json:/nodes/1/implied_by/3: a criterion needs exactly one of: lab, questionnaire, symptom, "
                "lifestyle, medication, patient, age_below/age_at_least",
                "kb/safety.json:/nodes/1/implied_by/4: a criterion needs exactly one of: lab, questionnaire, symptom, "
                "lifestyle, medication, patient, age_below/age_at_least",
                "kb/safety.json:/edges/0/when/abov: unknown field 'abov' in 'when' (did you mean 'above'?)",
                "kb/safety.json:/edges/0/when: a lab criterion needs 'above' or 'below' (canonical unit)",
                "kb/safety.json:/nodes/1/implied_by/0: unknown lab 'feritin' (did you mean 'ferritin'?)",
                "kb/safety.json:/nodes/1/implied_by/1: a lab criterion needs 'above' or 'below' (canonical unit)",
                "kb/safety.json:/nodes/1/implied_by/2: 'patient' must be \"pregnant\" or \"lactating\", not 'old'",
            }));
}

// ---------------------------------------------------------------------------------------------
// Lab::ReferenceFor: the most specific matching range wins.

TEST(LabTest, ReferenceForPicksTheMostSpecificRange) {
  Fixture f = BaseFixture();
  NodeById(f, "ferritin")["reference"] = json::array({
      {{"low", 1}, {"high", 100}},                                           // 0: anyone
      {{"sex", "female"}, {"low", 2}, {"high", 100}},                        // 1: women
      {{"sex", "female"}, {"pregnant", true}, {"low", 3}, {"high", 100}},    // 2: pregnant women
      {{"sex", "male"}, {"age_min", 65}, {"low", 4}, {"high", 100}},         // 3: men from 65
      {{"age_min", 18}, {"age_max", 30}, {"low", 5}, {"high", 100}},         // 4: anyone 18 to 30
      {{"sex", "female"}, {"age_min", 50}, {"low", 6}, {"high", 100}},       // 5: women from 50
  });
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const Lab& lab = *outcome.kb->Find("ferritin")->lab;

  struct Case {
    Patient patient;
    double expected_low;
  };
  const Case cases[] = {
      {{Sex::kMale, 40, false}, 1},
      {{Sex::kMale, 64.9, false}, 1},
      {{Sex::kMale, 65, false}, 4},     // age_min is inclusive
      {{Sex::kMale, 20, false}, 5},     // age range beats the catch-all
      {{Sex::kMale, 30, false}, 1},     // age_max is exclusive
      {{Sex::kFemale, 40, false}, 2},   // sex beats the catch-all
      {{Sex::kFemale, 20, false}, 2},   // sex (4) beats an age range (2)
      {{Sex::kFemale, 40, true}, 3},    // sex and pregnancy
      {{Sex::kFemale, 55, false}, 6},   // sex and age
      {{Sex::kFemale, 55, true}, 3},    // pregnancy (2) beats age_min (1)
      // Age not known (an impossible age was excluded): no age-bounded range applies.
      {{Sex::kMale, std::nullopt, false}, 1},
      {{Sex::kFemale, std::nullopt, false}, 2},
      {{Sex::kFemale, std::nullopt, true}, 3},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(Name(c.patient.sex)) + " " +
                 (c.patient.age_years ? std::to_string(*c.patient.age_years) : std::string("age not known")) + (c.patient.pregnant ? " pregnant" : ""));
    const LabRange* range = lab.ReferenceFor(c.patient);
    ASSERT_NE(range, nullptr);
    EXPECT_DOUBLE_EQ(*range->low, c.expected_low);
  }
}

TEST(LabTest, ReferenceForReturnsNullWhenNothingMatches) {
  Fixture f = BaseFixture();
  NodeById(f, "ferritin")["reference"] =
      json::array({{{"sex", "female"}, {"low", 1}}, {{"sex", "male"}, {"age_min", 18}, {"low", 2}}});
  NodeById(f, "ferritin")["optimal"] = json::array({{{"sex", "female"}, {"pregnant", false}, {"low", 50}}});
  LoadOutcome outcome = Load(f);
  ASSERT_EQ(ProblemStrings(outcome), std::vector<std::string>{});
  const Lab& lab = *outcome.kb->Find("ferritin")->lab;
  EXPECT_EQ(lab.ReferenceFor(Patient{Sex::kMale, 10, false}), nullptr);  // no range for boys
  EXPECT_EQ(lab.OptimalFor(Patient{Sex::kMale, 40, false}), nullptr);
  EXPECT_EQ(lab.OptimalFor(Patient{Sex::kFemale, 40, true}), nullptr);
  ASSERT_NE(lab.OptimalFor(Patient{Sex::kFemale, 40, false}), nullptr);
  EXPECT_DOUBLE_EQ(*lab.OptimalFor(Patient{Sex::kFemale, 40, false})->low, 50);
}

// nlohmann/json keeps the last of two equal keys; the loader must report the key instead of
// silently dropping the first value.
TEST(LoaderTest, ReportsKeysGivenTwice) {
  const char* text = R"({"citations": {"dup": {"kind": "paper", "title": "A", "source": "S", "verified": "checked", "grade": "B"},
                                        "dup": {"kind": "paper", "title": "B", "source": "S", "verified": "checked", "grade": "B"}},
                         "nodes": [{"id": "x", "kind": "symptom", "label": "X", "label": "Y", "description": "d"}]})";
  auto outcome = LoadKnowledge({SourceFile{"kb/dup.json", text}});
  std::vector<std::string> problems;
  for (const auto& problem : outcome.problems) problems.push_back(problem.ToString());
  EXPECT_EQ(problems, (std::vector<std::string>{
                          "kb/dup.json:/citations/dup: duplicate key 'dup': the earlier value would be lost",
                          "kb/dup.json:/nodes/0/label: duplicate key 'label': the earlier value would be lost"}));
}

TEST(LoaderCitations, GradeVerificationAndClaimAreTyped) {
  Fixture f = BaseFixture();
  auto& citations = f.files["kb/citations.json"]["citations"];
  citations["smith_2020"]["grade"] = "A";
  citations["smith_2020"]["claim"] = "Tryptophan availability limits serotonin synthesis.";
  citations["smith_2020"]["pmid"] = "123";
  citations["jones_2019"]["verified"] = "uncertain";
  citations["jones_2019"]["grade"] = "C";
  LoadOutcome outcome = Load(f);
  ASSERT_TRUE(outcome.problems.empty()) << outcome.problems.front().ToString();
  const auto* smith = outcome.kb->FindCitation("smith_2020");
  const auto* jones = outcome.kb->FindCitation("jones_2019");
  ASSERT_NE(smith, nullptr);
  ASSERT_NE(jones, nullptr);
  EXPECT_EQ(smith->grade, EvidenceGrade::kA);
  EXPECT_EQ(smith->verified, Verification::kChecked);
  EXPECT_EQ(smith->claim, "Tryptophan availability limits serotonin synthesis.");
  EXPECT_TRUE(smith->HasIdentifier());
  EXPECT_EQ(jones->grade, EvidenceGrade::kC);
  EXPECT_EQ(jones->verified, Verification::kUncertain);
  EXPECT_EQ(jones->claim, "");
  EXPECT_FALSE(jones->HasIdentifier());
}

TEST(LoaderCitations, BestGradeIsTheStrongestCitationAndUncertainOnlyWhenAllAre) {
  Fixture f = BaseFixture();
  auto& citations = f.files["kb/citations.json"]["citations"];
  citations["smith_2020"]["grade"] = "C";
  citations["jones_2019"]["grade"] = "B";
  citations["jones_2019"]["verified"] = "uncertain";
  LoadOutcome outcome = Load(f);
  ASSERT_TRUE(outcome.problems.empty()) << outcome.problems.front().ToString();
  const KnowledgeBase& kb = *outcome.kb;
  EXPECT_EQ(kb.BestGrade(std::vector<std::string>{"smith_2020", "jones_2019"}), EvidenceGrade::kB);
  EXPECT_EQ(kb.BestGrade(std::vector<std::string>{"smith_2020"}), EvidenceGrade::kC);
  EXPECT_EQ(kb.BestGrade(std::vector<std::string>{"no_such_key", "smith_2020"}), EvidenceGrade::kC);
  EXPECT_FALSE(kb.BestGrade(std::vector<std::string>{}).has_value());
  EXPECT_FALSE(kb.BestGrade(std::vector<std::string>{"no_such_key"}).has_value());
  EXPECT_TRUE(kb.RestsOnlyOnUncertain({"jones_2019"}));
  EXPECT_FALSE(kb.RestsOnlyOnUncertain({"jones_2019", "smith_2020"}));
  EXPECT_FALSE(kb.RestsOnlyOnUncertain({}));
  EXPECT_EQ(Name(EvidenceGrade::kA), "A");
  EXPECT_EQ(Parse<Verification>("textbook"), Verification::kTextbook);
}

}  // namespace
}  // namespace nflux::knowledge

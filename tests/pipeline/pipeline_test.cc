#include "pipeline/pipeline.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "base/text.h"
#include "explain/explain.h"
#include "real_knowledge.h"
#include "report/report.h"
#include "safety/safety_test_support.h"
#include "testutil.h"

namespace nflux::pipeline {
namespace {

using nflux::testing::ShippedPipeline;

namespace fs = std::filesystem;

Options SourceOptions() {
  Options options;
  options.knowledge_dir = NFLUX_SOURCE_DIR "/knowledge";
  options.rules_dir = NFLUX_SOURCE_DIR "/rules";
  return options;
}

std::string Example(const std::string& name) {
  auto text = ReadFileToString(NFLUX_SOURCE_DIR "/examples/" + name);
  EXPECT_OK(text);
  return text.ok() ? *text : "";
}

// The example case on escitalopram with nothing requested: what the gate says of a precursor there
// cannot come from a request.
std::string EscitalopramCase() {
  auto doc = nlohmann::json::parse(Example("ssri_5htp_request.json"));
  doc["supplements"]["requested"] = nlohmann::json::array();
  return doc.dump();
}

// The golden case of a deep serotonin synthesis deficit (iron, B6), now on escitalopram: the flux
// model alone would rank a serotonin precursor high.
std::string EscitalopramDeficitCase() {
  auto text = ReadFileToString(NFLUX_SOURCE_DIR "/rules/tests/flux_model_iron_b6_serotonin.case.json");
  EXPECT_OK(text);
  auto doc = nlohmann::json::parse(text.ok() ? *text : "{}");
  doc["medications"] = nlohmann::json::parse(R"([{"id": "escitalopram", "dose": "10 mg daily"}])");
  return doc.dump();
}

// The verdict `ranking` or `blocked` of a what-if gives `strategy`, or nullptr.
const RankedStrategy* Ranked(const std::vector<RankedStrategy>& list, const std::string& strategy) {
  for (const auto& ranked : list)
    if (ranked.effect.strategy == strategy) return &ranked;
  return nullptr;
}

TEST(PipelineCitations, CountsAddUpAndNameWhatRestsOnlyOnUncertainCitations) {
  const Pipeline& pipeline = ShippedPipeline();
  const knowledge::KnowledgeBase& kb = pipeline.knowledge();
  CitationStats stats = CitationStatsOf(kb, &pipeline.rule_base());
  EXPECT_EQ(stats.total, static_cast<int>(kb.citations().size()));
  EXPECT_EQ(stats.checked + stats.textbook + stats.uncertain, stats.total);
  int graded = 0;
  for (const auto& [grade, count] : stats.grades) graded += count;
  EXPECT_EQ(graded, stats.total);
  EXPECT_LE(stats.with_identifier, stats.total);
  EXPECT_EQ(stats.edges, static_cast<int>(kb.edges().size()));
  EXPECT_EQ(stats.rules, static_cast<int>(pipeline.rule_base().rules.size()));
  size_t uncertain_rules = 0;
  for (const auto& rule : pipeline.rule_base().rules) uncertain_rules += kb.RestsOnlyOnUncertain(rule.citations);
  EXPECT_EQ(stats.uncertain_rules.size(), uncertain_rules);
  EXPECT_EQ(CitationStatsOf(kb, nullptr).rules, 0);
}

// An edge whose every citation is `verified: uncertain` must not claim more than low certainty
// (docs/knowledge-format.md, "Citations"): verify a citation or add a checked one to raise it.
TEST(PipelineCitations, EdgesRestingOnlyOnUncertainCitationsHaveLowCertainty) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  for (const auto& edge : kb.edges()) {
    if (edge.generated || !kb.RestsOnlyOnUncertain(edge.citations)) continue;
    EXPECT_EQ(edge.certainty, "low") << edge.source.file << ":" << edge.source.json_path << " " << edge.from << " --"
                                     << knowledge::EdgeTypeName(edge.type) << "--> " << edge.to
                                     << " rests only on uncertain citations";
  }
}

TEST(PipelineOpen, BadRuleFileIsReportedWithFileAndLine) {
  fs::path dir = fs::temp_directory_path() / ("nflux_pipeline_rules_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(NFLUX_SOURCE_DIR "/rules", dir, fs::copy_options::recursive);
  std::ofstream(dir / "broken.rules") << "# a broken rule\nrule broken_rule when lab ferritin < then suggest deficit x\n";
  Options options = SourceOptions();
  options.rules_dir = dir.string();
  auto opened = Pipeline::Open(options);
  fs::remove_all(dir);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, opened.status().code());
  EXPECT_NE(std::string::npos, opened.status().message().find("broken.rules:2:")) << opened.status().message();
  EXPECT_NE(std::string::npos, opened.status().message().find("error(s) in the rule base; run 'nflux rules check'"));
}

TEST(PipelineCheck, RuleErrorsAreDataNotAFailure) {
  fs::path dir = fs::temp_directory_path() / ("nflux_pipeline_check_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "a.rules") << "rule broken_rule when lab ferritin < then suggest deficit x\n";
  Options options = SourceOptions();
  options.rules_dir = dir.string();
  auto check = CheckRules(options, ShippedPipeline().knowledge());
  fs::remove_all(dir);
  ASSERT_OK(check);
  ASSERT_EQ(1u, check->sources.size());
  EXPECT_EQ(nullptr, check->loaded.rules);
  ASSERT_FALSE(check->loaded.errors.empty());
  EXPECT_EQ(1, check->loaded.errors.front().at.line);

  options.rules_dir = "/no/such/rules";
  EXPECT_EQ(Status::Code::kNotFound, CheckRules(options, ShippedPipeline().knowledge()).status().code());
}

TEST(PipelineCheck, KnowledgeProblemsAreDataAndTheFilesAreKept) {
  auto check = CheckKnowledge(SourceOptions());
  ASSERT_OK(check);
  EXPECT_TRUE(check->outcome.problems.empty());
  EXPECT_EQ(ShippedPipeline().knowledge().version(), check->outcome.kb->version());
  EXPECT_GT(check->files.size(), 10u);

  Options broken = SourceOptions();
  broken.knowledge_dir = NFLUX_SOURCE_DIR "/tests/fixtures/no_such_folder";
  EXPECT_FALSE(CheckKnowledge(broken).ok());
}

TEST(PipelineOpen, MissingFoldersAreNotFound) {
  Options options = SourceOptions();
  options.rules_dir = "/no/such/rules";
  auto opened = Pipeline::Open(options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(Status::Code::kNotFound, opened.status().code());
  EXPECT_EQ("/no/such/rules: rules directory not found", opened.status().message());
  options = SourceOptions();
  options.knowledge_dir = "/no/such/knowledge";
  EXPECT_EQ(Status::Code::kNotFound, Pipeline::Open(options).status().code());
}

// Rule and knowledge versions are hashes of content: the same files reached by another path
// spelling, a copy elsewhere or a symbolic link give the same versions.
TEST(PipelineVersions, SameFilesSameVersionsWhateverThePath) {
  nflux::testing::TempDir temp("pipeline_versions");
  fs::copy(NFLUX_SOURCE_DIR "/rules", temp.path() / "rules", fs::copy_options::recursive);
  fs::copy(NFLUX_SOURCE_DIR "/knowledge", temp.path() / "knowledge", fs::copy_options::recursive);
  fs::create_directory_symlink(NFLUX_SOURCE_DIR "/rules", temp.path() / "linked_rules");
  fs::create_directory_symlink(NFLUX_SOURCE_DIR "/knowledge", temp.path() / "linked_knowledge");
  const std::string relative = fs::relative(NFLUX_SOURCE_DIR, fs::current_path()).string();
  const std::string rules_version = ShippedPipeline().rule_base().version;
  const std::string knowledge_version = ShippedPipeline().knowledge().version();
  struct Spelling {
    std::string knowledge, rules;
  } spellings[] = {
      {NFLUX_SOURCE_DIR "/knowledge/", NFLUX_SOURCE_DIR "/rules/"},
      {NFLUX_SOURCE_DIR "/./knowledge", NFLUX_SOURCE_DIR "/tests/../rules"},
      {relative + "/knowledge", relative + "/rules"},
      {(temp.path() / "knowledge").string(), (temp.path() / "rules").string()},
      {(temp.path() / "linked_knowledge").string(), (temp.path() / "linked_rules/").string()},
  };
  for (const auto& spelling : spellings) {
    Options options;
    options.knowledge_dir = spelling.knowledge;
    options.rules_dir = spelling.rules;
    auto knowledge = CheckKnowledge(options);
    ASSERT_OK(knowledge);
    EXPECT_EQ(knowledge_version, knowledge->outcome.kb->version()) << spelling.knowledge;
    auto rules = CheckRules(options, ShippedPipeline().knowledge());
    ASSERT_OK(rules);
    ASSERT_NE(nullptr, rules->loaded.rules) << spelling.rules;
    EXPECT_EQ(rules_version, rules->loaded.rules->version) << spelling.rules;
  }
}

// The version follows the content: a changed text or a renamed file is another version.
TEST(PipelineVersions, ContentChangesTheRulesVersion) {
  nflux::testing::TempDir temp("pipeline_rules_content");
  std::ofstream(temp.path() / "a.rules") << "# one comment\n";
  Options options = SourceOptions();
  options.rules_dir = temp.path().string();
  auto version = [&] {
    auto check = CheckRules(options, ShippedPipeline().knowledge());
    EXPECT_OK(check);
    return check.ok() && check->loaded.rules ? check->loaded.rules->version : std::string();
  };
  const std::string first = version();
  ASSERT_TRUE(first.starts_with("sha256:"));
  EXPECT_EQ(first, version());
  std::ofstream(temp.path() / "a.rules") << "# another comment\n";
  const std::string edited = version();
  EXPECT_NE(first, edited);
  fs::rename(temp.path() / "a.rules", temp.path() / "b.rules");
  EXPECT_NE(edited, version());
}

// The trace names each rule's file relative to the rules folder, so the trace id of a case is the
// same whichever path reached the folder.
TEST(PipelineVersions, TraceIdDoesNotDependOnTheRulesPath) {
  nflux::testing::TempDir temp("pipeline_trace");
  fs::copy(NFLUX_SOURCE_DIR "/rules", temp.path() / "elsewhere", fs::copy_options::recursive);
  Options options = SourceOptions();
  options.rules_dir = (temp.path() / "elsewhere").string() + "/";
  auto copy = Pipeline::Open(options);
  ASSERT_OK(copy);
  const std::string text = Example("ssri_5htp_request.json");
  auto here = ShippedPipeline().Evaluate(text, {});
  auto there = (*copy)->Evaluate(text, {});
  ASSERT_OK(here);
  ASSERT_OK(there);
  EXPECT_EQ(ShippedPipeline().ReportJson(*here)["trace_id"], (*copy)->ReportJson(*there)["trace_id"]);
  EXPECT_EQ(ShippedPipeline().ReportJson(*here)["versions"], (*copy)->ReportJson(*there)["versions"]);
  ASSERT_FALSE(there->evaluation.trace.rules.empty());
  for (const auto& rule : there->evaluation.trace.rules)
    EXPECT_EQ(std::string::npos, rule.file.find("elsewhere")) << rule.file;
}

// No rules is bad input, never an evaluation that concludes nothing: an empty folder, one without
// .rules files, .rules files without a rule.
TEST(PipelineOpen, NoRulesIsBadInputNamingTheFolder) {
  struct Row {
    std::vector<std::pair<std::string, std::string>> files;
    std::string found;
  } rows[] = {
      {{}, "no .rules files in the folder"},
      {{{"notes.txt", "rule x"}, {"tests/a.rules", "rule x"}}, "no .rules files in the folder"},
      {{{"a.rules", "# only a comment\n"}, {"b.rules", ""}}, "2 .rules file(s) with no rule in them"},
  };
  for (const auto& row : rows) {
    nflux::testing::TempDir temp("pipeline_no_rules");
    for (const auto& [name, text] : row.files) {
      fs::create_directories((temp.path() / name).parent_path());
      std::ofstream(temp.path() / name) << text;
    }
    Options options = SourceOptions();
    options.rules_dir = temp.path().string();
    auto opened = Pipeline::Open(options);
    ASSERT_FALSE(opened.ok()) << row.found;
    EXPECT_EQ(Status::Code::kInvalidArgument, opened.status().code());
    EXPECT_EQ(temp.path().string() + ": no rules loaded (" + row.found +
                  "); an evaluation without rules would conclude nothing: check --rules",
              opened.status().message());
  }
  EXPECT_OK(RequireRules("rules", 1, 1));
  EXPECT_FALSE(RequireRules("rules", 1, 0).ok());
}

TEST(PipelineEvaluate, ExampleCaseBlocksTheRequestedPrecursor) {
  EvaluationOptions options;
  options.source_name = "ssri_5htp_request.json";
  auto result = ShippedPipeline().Evaluate(Example("ssri_5htp_request.json"), options);
  ASSERT_OK(result);
  bool blocked = false;
  for (const auto& strategy : result->evaluation.blocked) blocked = blocked || strategy.id == "precursor_5htp";
  EXPECT_TRUE(blocked);
  EXPECT_FALSE(result->flux.values.empty());
  EXPECT_EQ(result->flux.values, result->report.flux.values);
  auto json = ShippedPipeline().ReportJson(*result);
  EXPECT_EQ(result->parsed.case_id, json["case_id"]);
  EXPECT_TRUE(json["trace_id"].get<std::string>().starts_with("sha256:"));
}

TEST(PipelineEvaluate, GivenFluxOverridesTheModel) {
  auto plain = ShippedPipeline().Evaluate(Example("healthy_control.json"), {});
  ASSERT_OK(plain);
  ASSERT_TRUE(plain->flux.values.count("serotonin.synthesis"));
  EXPECT_NE(0.5, plain->flux.values.at("serotonin.synthesis"));
  EvaluationOptions options;
  options.given_flux.values["serotonin.synthesis"] = 0.5;
  auto given = ShippedPipeline().Evaluate(Example("healthy_control.json"), options);
  ASSERT_OK(given);
  EXPECT_EQ(0.5, given->flux.values.at("serotonin.synthesis"));
  EXPECT_FALSE(given->flux.assumed.count("serotonin.synthesis"));
  // The model's own result is untouched; only what the engine read changes.
  EXPECT_EQ(plain->flux_model.Value("serotonin.synthesis"), given->flux_model.Value("serotonin.synthesis"));
}

TEST(PipelineEvaluate, StrictRejectsDataQualityErrorsNamingTheSource) {
  const std::string text =
      R"({"patient": {"sex": "female", "age_years": 44}, "labs": [{"test": "ferritin", "value": 20000, "unit": "ng/mL"}]})";
  EvaluationOptions options;
  options.source_name = "odd.json";
  ASSERT_OK(ShippedPipeline().Evaluate(text, options));
  options.strict = true;
  auto strict = ShippedPipeline().Evaluate(text, options);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(Status::Code::kInvalidArgument, strict.status().code());
  EXPECT_TRUE(strict.status().message().starts_with("odd.json: /labs/0/value: ")) << strict.status().message();
}

TEST(PipelineEvaluate, PredictedEffectsOnlyForSuggestedStrategies) {
  auto result = ShippedPipeline().Evaluate(Example("perimenopause.json"), {});
  ASSERT_OK(result);
  for (const auto& [strategy, effects] : result->report.predicted_effects) {
    bool suggested = false;
    for (const auto& s : result->evaluation.strategies) suggested = suggested || s.id == strategy;
    EXPECT_TRUE(suggested) << strategy;
    for (const auto& [key, change] : effects) EXPECT_LT(result->flux.values.at(key), kFluxDeficitThreshold) << key;
  }
}

// Evaluates every golden case (rules/tests/*.case.json) and hands each result to `check`, failures
// naming the file; returns how many were evaluated.
int ForEachGoldenResult(const Pipeline& pipeline, const std::function<void(const CaseEvaluation&)>& check) {
  int cases = 0;
  for (const auto& path : nflux::testing::GoldenCaseFiles()) {
    SCOPED_TRACE(path.filename().string());
    auto text = ReadFileToString(path.string());
    EXPECT_OK(text);
    auto result = text.ok() ? pipeline.Evaluate(*text, {}) : Result<CaseEvaluation>(text.status());
    EXPECT_OK(result);
    if (!result.ok()) continue;
    ++cases;
    check(*result);
  }
  return cases;
}

// next_best_data asks ExplainRules for the inputs of the rules still unknown only: on every golden
// case and every rule, the same truth as the full trace, and for an unknown rule the same tests
// (truth, input, source) without their actual values; a decided rule gets no tests, no rule its firing.
TEST(PipelineExplain, UnknownInputsAgreeWithTheFullTrace) {
  using Detail = inference::Engine::ExplainDetail;
  const Pipeline& pipeline = ShippedPipeline();
  const inference::Engine& engine = pipeline.engine();
  std::vector<const rules::Rule*> all;
  for (const auto& rule : engine.rule_base().rules) all.push_back(&rule);
  int unknown = 0, decided = 0;
  const int cases = ForEachGoldenResult(pipeline, [&](const CaseEvaluation& result) {
    auto full = engine.ExplainRules(all, result.parsed, result.flux, result.evaluation, Detail::kFull);
    auto lean = engine.ExplainRules(all, result.parsed, result.flux, result.evaluation, Detail::kUnknownInputs);
    ASSERT_EQ(full.size(), lean.size());
    for (size_t i = 0; i < full.size(); ++i) {
      SCOPED_TRACE(all[i]->id);
      EXPECT_EQ(full[i].truth, lean[i].truth);
      EXPECT_EQ(full[i].strength, lean[i].strength);
      EXPECT_FALSE(lean[i].fired);  // its firing is not looked up
      if (full[i].truth != inference::Truth::kUnknown) {
        EXPECT_TRUE(lean[i].tests.empty());
        ++decided;
        continue;
      }
      ++unknown;
      ASSERT_EQ(full[i].tests.size(), lean[i].tests.size());
      for (size_t k = 0; k < full[i].tests.size(); ++k) {
        EXPECT_EQ(full[i].tests[k].truth, lean[i].tests[k].truth);
        EXPECT_EQ(full[i].tests[k].input, lean[i].tests[k].input);
        EXPECT_EQ(full[i].tests[k].source, lean[i].tests[k].source);
        EXPECT_FALSE(full[i].tests[k].Actual().empty());
        EXPECT_TRUE(lean[i].tests[k].Actual().empty());
      }
    }
  });
  EXPECT_GT(cases, 20);
  EXPECT_GT(unknown, 100);  // both kinds met often enough to mean something
  EXPECT_GT(decided, 100);
}

// Every reason next_best_data gives is what the why-not analysis answers, on every golden case:
// "would decide R for X (now L, C; up to +I)" names the rules R that the input would decide for X,
// at X's certainty C, with that impact I; an entry's impact is its largest reason's; no reason
// twice; entries in the order output.md gives (basic work-up first, then impact, then input).
TEST(PipelineExplain, NextBestDataSaysWhatTheWhyNotAnalysisAnswers) {
  const Pipeline& pipeline = ShippedPipeline();
  const std::regex reason_form(
      R"(^(?:an input of (\S+), which )?would decide (.+) for (\S+)(?: behind \S+)? )"
      R"(\(now (likely|possible|unlikely), ([0-9.]+); up to \+([0-9.]+)\)$)");
  int reasons = 0;
  const int cases = ForEachGoldenResult(pipeline, [&](const CaseEvaluation& result) {
    const auto report = pipeline.ReportJson(result);
    const auto& next = report["next_best_data"];
    EXPECT_LE(next.size(), 8u);
    for (size_t i = 0; i < next.size(); ++i) {
      const std::string input = next[i]["input"];
      SCOPED_TRACE(input);
      if (i > 0) {
        const auto& before = next[i - 1];
        const auto rank = [](const nlohmann::ordered_json& e) {
          return std::make_tuple(!e["first_line"].get<bool>(), -e["impact"].get<double>(), e["input"].get<std::string>());
        };
        EXPECT_LT(rank(before), rank(next[i]));
      }
      // The reasons are joined by "; ", which each also holds ("(now ..., C; up to +I)").
      const std::string why = next[i]["why"];
      const std::regex next_reason("; (would decide|an input of) ");
      std::vector<std::string> parts;
      size_t at = 0;
      for (auto it = std::sregex_iterator(why.begin(), why.end(), next_reason); it != std::sregex_iterator(); ++it) {
        parts.push_back(why.substr(at, static_cast<size_t>(it->position()) - at));
        at = static_cast<size_t>(it->position()) + 2;
      }
      parts.push_back(why.substr(at));
      std::set<std::string> distinct(parts.begin(), parts.end());
      EXPECT_EQ(distinct.size(), parts.size());
      double largest = 0;
      for (const auto& part : parts) {
        SCOPED_TRACE(part);
        std::smatch m;
        ASSERT_TRUE(std::regex_match(part, m, reason_form));
        ++reasons;
        const std::string decided_input = m[1].matched ? "derived:" + m[1].str() : input;
        auto deciding = explain::WhatWouldDecide(pipeline.engine(), result.parsed, result.evaluation, m[3].str(),
                                                 result.flux);
        ASSERT_OK(deciding);
        EXPECT_EQ(FormatNumber(std::round(deciding->certainty * 1000) / 1000, 3), m[5].str());
        bool answered = false;
        for (const auto& candidate : deciding->inputs)
          answered = answered || (candidate.input == decided_input &&
                                  Join({candidate.rules.begin(), candidate.rules.end()}, ", ") == m[2].str() &&
                                  FormatNumber(std::round(candidate.impact * 1000) / 1000, 3) == m[6].str());
        EXPECT_TRUE(answered);
        largest = std::max(largest, std::stod(m[6].str()));
      }
      EXPECT_DOUBLE_EQ(next[i]["impact"].get<double>(), largest);
    }
  });
  EXPECT_GT(cases, 100);
  EXPECT_GT(reasons, 100);
}

TEST(PipelineEvaluate, ConcurrentEvaluationsAgree) {
  const std::string text = Example("ssri_5htp_request.json");
  auto reference = ShippedPipeline().Evaluate(text, {});
  ASSERT_OK(reference);
  const report::Versions versions = report::VersionsOf(ShippedPipeline().engine());
  std::string expected = report::TraceId(reference->evaluation, versions);
  std::vector<std::string> ids(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < ids.size(); ++i)
    threads.emplace_back([&, i] {
      auto result = ShippedPipeline().Evaluate(text, {});
      if (result.ok()) ids[i] = report::TraceId(result->evaluation, versions);
    });
  for (auto& thread : threads) thread.join();
  for (const auto& id : ids) EXPECT_EQ(expected, id);
}

TEST(PipelineFlux, FluxFromJsonNamesEveryProblem) {
  auto flux = FluxFromJson(nlohmann::json::parse(R"({"serotonin.synth": 0.7, "gaba.level": "x", "assumed": [1]})"),
                           "f.json");
  ASSERT_FALSE(flux.ok());
  EXPECT_EQ("f.json: /assumed/0: not a flux index\n"
            "f.json: /gaba.level: expected a number\n"
            "f.json: /serotonin.synth: not a flux index (PATHWAY.INDEX, e.g. serotonin.synthesis)",
            flux.status().message());
}

TEST(PipelineWhatIf, AppliedStrategyAndUnknownStrategy) {
  const std::string text = Example("perimenopause.json");
  WhatIfOptions options;
  options.source_name = "perimenopause.json";
  options.rank = true;
  auto result = ShippedPipeline().WhatIf(text, text, options);
  ASSERT_OK(result);
  EXPECT_FALSE(result->ranking.empty());
  EXPECT_TRUE(result->changes.empty());  // nothing changed, so no conclusion did
  auto other = ShippedPipeline().WhatIf(text, Example("healthy_control.json"), options);
  ASSERT_OK(other);
  ASSERT_FALSE(other->changes.empty());
  for (size_t i = 0; i < other->changes.size(); ++i) {
    EXPECT_NE(other->changes[i].before, other->changes[i].after) << other->changes[i].conclusion;
    if (i > 0) {
      EXPECT_LT(other->changes[i - 1].conclusion, other->changes[i].conclusion);
    }
  }
  options.apply_strategies = {"no_such_strategy"};
  EXPECT_EQ(Status::Code::kInvalidArgument, ShippedPipeline().WhatIf(text, text, options).status().code());
}

// What-if --rank ranks only what the safety gate lets through: on escitalopram, L-tryptophan and
// 5-HTP are never options, requested or not, and are listed as blocked with what blocks them.
TEST(PipelineWhatIf, RankingNeverOffersABlockedStrategy) {
  WhatIfOptions options;
  options.source_name = "case.json";
  options.rank = true;
  for (const std::string& text : {Example("ssri_5htp_request.json"), EscitalopramCase(), EscitalopramDeficitCase()}) {
    auto result = ShippedPipeline().WhatIf(text, text, options);
    ASSERT_OK(result);
    ASSERT_FALSE(result->ranking.empty());
    for (const auto& ranked : result->ranking)
      EXPECT_NE(inference::Verdict::kBlocked, ranked.safety.verdict) << ranked.effect.strategy;
    for (const auto& ranked : result->blocked) {
      EXPECT_EQ(inference::Verdict::kBlocked, ranked.safety.verdict) << ranked.effect.strategy;
      EXPECT_FALSE(ranked.safety.reasons.empty()) << ranked.effect.strategy;
    }
    for (const std::string precursor : {"precursor_tryptophan", "precursor_5htp"})
      EXPECT_EQ(nullptr, Ranked(result->ranking, precursor)) << precursor;
    // The flux model predicts a benefit from L-tryptophan here; the gate blocks it, with escitalopram's class.
    const RankedStrategy* tryptophan = Ranked(result->blocked, "precursor_tryptophan");
    ASSERT_NE(nullptr, tryptophan);
    EXPECT_GT(tryptophan->effect.improvement, 0);
    bool with_ssri = false;
    for (const auto& reason : tryptophan->safety.reasons) with_ssri = with_ssri || reason.with == "ssri";
    EXPECT_TRUE(with_ssri);
  }
}

// An applied strategy carries its verdict: its effect is shown, never without what the gate says.
TEST(PipelineWhatIf, AppliedStrategiesCarryTheirVerdict) {
  WhatIfOptions options;
  options.apply_strategies = {"precursor_tryptophan", "cofactor_iron"};
  const std::string text = EscitalopramDeficitCase();
  auto result = ShippedPipeline().WhatIf(text, text, options);
  ASSERT_OK(result);
  ASSERT_EQ(2u, result->applied.size());
  EXPECT_EQ("precursor_tryptophan", result->applied[0].id);
  EXPECT_EQ(inference::Verdict::kBlocked, result->applied[0].verdict);
  EXPECT_EQ("cofactor_iron", result->applied[1].id);
  EXPECT_EQ(inference::Verdict::kAcceptable, result->applied[1].verdict);
  EXPECT_TRUE(result->ranking.empty() && result->blocked.empty());  // no --rank
}

// The what-if's verdicts are the evaluation's: every strategy evaluate judged keeps its verdict.
TEST(PipelineWhatIf, RankingVerdictsAreTheEvaluations) {
  WhatIfOptions options;
  options.rank = true;
  for (const char* name : {"ssri_5htp_request.json", "perimenopause.json", "healthy_control.json"}) {
    const std::string text = Example(name);
    auto result = ShippedPipeline().WhatIf(text, text, options);
    ASSERT_OK(result);
    EXPECT_EQ(result->ranking.size() + result->blocked.size(),
              ShippedPipeline().flux_model().RankStrategies(result->before_case, result->before).size());
    const inference::Evaluation& evaluation = result->before_evaluation;
    for (const auto* list : {&evaluation.strategies, &evaluation.blocked, &evaluation.requested})
      for (const auto& judged : *list) {
        const RankedStrategy* ranked = Ranked(result->ranking, judged.id);
        if (!ranked) ranked = Ranked(result->blocked, judged.id);
        if (!ranked) continue;  // the flux model does not rank it
        EXPECT_EQ(judged.verdict, ranked->safety.verdict) << name << " " << judged.id;
      }
  }
}

// SafetyVerdict: the evaluation's own judgement first, else the gate's.
TEST(PipelineSafety, VerdictFromTheEvaluationElseTheGate) {
  auto result = ShippedPipeline().Evaluate(EscitalopramCase(), {});
  ASSERT_OK(result);
  const auto& [c, model, flux, evaluation, report] = *result;
  inference::StrategyResult gate = SafetyVerdict("precursor_tryptophan", c, evaluation, ShippedPipeline().knowledge());
  EXPECT_EQ(inference::Verdict::kBlocked, gate.verdict);
  inference::Evaluation judged = evaluation;
  inference::StrategyResult own;
  own.id = "precursor_tryptophan";
  own.verdict = inference::Verdict::kCaution;  // whatever the evaluation said is what counts
  judged.requested.push_back(own);
  EXPECT_EQ(inference::Verdict::kCaution,
            SafetyVerdict("precursor_tryptophan", c, judged, ShippedPipeline().knowledge()).verdict);
}

// A strategy the evaluation did not judge goes through the engine's gate with the evaluation's
// alerts: a high alert naming it blocks it, as it would in evaluate.
TEST(PipelineSafety, AnUnjudgedStrategySeesTheEvaluationsAlerts) {
  auto result = ShippedPipeline().Evaluate(Example("healthy_control.json"), {});
  ASSERT_OK(result);
  const auto& [c, model, flux, evaluation, report] = *result;
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  ASSERT_EQ(inference::Verdict::kAcceptable, SafetyVerdict("precursor_tryptophan", c, evaluation, kb).verdict);
  inference::Evaluation alerted = evaluation;
  inference::AlertResult alert;
  alert.id = "serotonin_syndrome_risk";
  alert.severity = AlertSeverity::kHigh;
  alert.message = "a serotonergic combination";
  alert.because = {"suggested:precursor_tryptophan"};
  alert.reasons = {{alert.message, alert.because, "a_rule"}};
  alerted.alerts.push_back(alert);
  inference::StrategyResult judged = SafetyVerdict("precursor_tryptophan", c, alerted, kb);
  EXPECT_EQ(inference::Verdict::kBlocked, judged.verdict);
  bool by_the_alert = false;
  for (const auto& reason : judged.reasons) by_the_alert = by_the_alert || reason.alert == "serotonin_syndrome_risk";
  EXPECT_TRUE(by_the_alert);
  // A lifestyle strategy named by the same alert carries its caution instead.
  alerted.alerts.back().because = {"suggested:lifestyle_exercise"};
  alerted.alerts.back().reasons = {{alert.message, {"suggested:lifestyle_exercise"}, "a_rule"}};
  EXPECT_EQ(inference::Verdict::kCaution, SafetyVerdict("lifestyle_exercise", c, alerted, kb).verdict);
}

// A red flag's alert gates hold in the what-if ranking too: with suicide risk standing and its
// gates blocking precursors and botanicals (a knowledge copy that says so), L-tryptophan and St
// John's wort are never options, though the flux model predicts a benefit and no rule brought them up.
TEST(PipelineWhatIf, RedFlagGatesHoldForRankedStrategies) {
  nflux::testing::TempDir temp("pipeline_gates");
  fs::copy(NFLUX_SOURCE_DIR "/knowledge", temp.path() / "knowledge", fs::copy_options::recursive);
  const fs::path conclusions = temp.path() / "knowledge" / "conclusions.json";
  auto text = ReadFileToString(conclusions.string());
  ASSERT_OK(text);
  auto doc = nlohmann::json::parse(*text);
  for (auto& node : doc["nodes"])
    if (node["id"] == "suicide_risk_urgent")
      node["gates"] = {{"block", {"precursor", "botanical"}}, {"caution", nlohmann::json::array()},
                       {"reason", "not a substitute for crisis care"}};
  std::ofstream(conclusions) << doc.dump(1);
  Options options = SourceOptions();
  options.knowledge_dir = (temp.path() / "knowledge").string();
  auto gated = Pipeline::Open(options);
  ASSERT_OK(gated);

  auto case_text = ReadFileToString(NFLUX_SOURCE_DIR "/rules/tests/flux_model_iron_b6_serotonin.case.json");
  ASSERT_OK(case_text);
  auto red_flag = nlohmann::json::parse(*case_text);
  red_flag["questionnaires"]["phq9"] = {{"items", {2, 2, 2, 2, 1, 1, 1, 1, 2}}};
  WhatIfOptions what_if;
  what_if.rank = true;
  auto result = (*gated)->WhatIf(red_flag.dump(), red_flag.dump(), what_if);
  ASSERT_OK(result);
  ASSERT_FALSE(result->before_evaluation.alerts.empty());
  ASSERT_EQ("suicide_risk_urgent", result->before_evaluation.alerts.front().id);
  for (const auto& ranked : result->ranking) {
    const knowledge::Node* node = (*gated)->knowledge().Find(ranked.effect.strategy);
    ASSERT_NE(nullptr, node);
    EXPECT_NE(StrategyKind::kPrecursor, node->strategy->kind) << ranked.effect.strategy;
    EXPECT_NE(StrategyKind::kBotanical, node->strategy->kind) << ranked.effect.strategy;
  }
  for (const std::string strategy : {"precursor_tryptophan", "st_johns_wort"}) {
    const RankedStrategy* blocked = Ranked(result->blocked, strategy);
    ASSERT_NE(nullptr, blocked) << strategy;
    bool by_the_gate = false;
    for (const auto& reason : blocked->safety.reasons) by_the_gate = by_the_gate || reason.alert == "suicide_risk_urgent";
    EXPECT_TRUE(by_the_gate) << strategy;
  }
}

// Lab changes for what-if: a table of changes and the labs they leave.
TEST(PipelineLabChanges, ReplaceOrAddEveryEntryOfTheTest) {
  const auto& kb = *nflux::testing::RealKnowledge();
  const std::string text =
      R"({"case_id": "c", "labs": [{"test": "ferritin", "value": 20, "unit": "ng/mL", "date": "2026-01-01"},)"
      R"( {"test": "b12", "value": 300}, {"test": "ferritin", "value": 25}]})";
  struct Row {
    std::vector<std::string> changes;
    std::string labs;
  } rows[] = {
      {{}, R"([{"date":"2026-01-01","test":"ferritin","unit":"ng/mL","value":20},{"test":"b12","value":300},)"
           R"({"test":"ferritin","value":25}])"},
      {{"lab.ferritin=80ng/mL"},
       R"([{"test":"ferritin","unit":"ng/mL","value":80.0},{"test":"b12","value":300},)"
       R"({"test":"ferritin","unit":"ng/mL","value":80.0}])"},
      // TSH's accepted units give the same number: no unit needed.
      {{"lab.tsh=2"}, R"([{"date":"2026-01-01","test":"ferritin","unit":"ng/mL","value":20},{"test":"b12","value":300},)"
                      R"({"test":"ferritin","value":25},{"test":"tsh","value":2.0}])"},
      {{"lab.vitamin_d_25oh=-1.5e1 nmol/L"},
       R"([{"date":"2026-01-01","test":"ferritin","unit":"ng/mL","value":20},{"test":"b12","value":300},)"
       R"({"test":"ferritin","value":25},{"test":"vitamin_d_25oh","unit":"nmol/L","value":-15.0}])"},
  };
  for (const auto& row : rows) {
    auto changed = ApplyLabChanges(text, row.changes, kb);
    ASSERT_OK(changed);
    EXPECT_EQ(row.labs, nlohmann::json::parse(*changed)["labs"].dump()) << ::testing::PrintToString(row.changes);
  }
}

TEST(PipelineLabChanges, NoLabsYetAndMalformedChanges) {
  const auto& kb = *nflux::testing::RealKnowledge();
  auto added = ApplyLabChanges(R"({"case_id": "c"})", {"lab.ferritin=80 ug/L"}, kb);
  ASSERT_OK(added);
  EXPECT_EQ(R"([{"test":"ferritin","unit":"ug/L","value":80.0}])", nlohmann::json::parse(*added)["labs"].dump());
  // Not JSON: unchanged, so the case parser reports the syntax error with its own position.
  auto not_json = ApplyLabChanges("{oops", {"lab.ferritin=80ng/mL"}, kb);
  ASSERT_OK(not_json);
  EXPECT_EQ("{oops", *not_json);
}

// A change the case parser would exclude (no unit where the units differ, a unit the lab does not
// accept, a lab nobody knows) is refused, never applied silently.
TEST(PipelineLabChanges, RefusedChangesNameWhatIsAccepted) {
  const auto& kb = *nflux::testing::RealKnowledge();
  const std::pair<const char*, const char*> bad[] = {
      {"ferritin=80", "--set ferritin=80: expected lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL"},
      {"lab.ferritin=80",
       "--set lab.ferritin=80: give a unit for ferritin (accepted units: ng/mL, ug/L, pmol/L), e.g. lab.ferritin=80ng/mL"},
      {"lab.ferritin=80 mmol", "--set lab.ferritin=80 mmol: ferritin is not measured in 'mmol' (accepted units: ng/mL, "
                               "ug/L, pmol/L)"},
      {"lab.ferritn=80ng/mL", "--set lab.ferritn=80ng/mL: unknown lab 'ferritn'"},
      {"lab.serotonin_synthesis=1", "--set lab.serotonin_synthesis=1: unknown lab 'serotonin_synthesis'"},
  };
  for (const auto& [change, message] : bad) {
    auto changed = ApplyLabChanges(R"({"case_id": "c"})", {change}, kb);
    ASSERT_FALSE(changed.ok()) << change;
    EXPECT_EQ(message, changed.status().message());
    EXPECT_EQ(Status::Code::kInvalidArgument, changed.status().code());
  }
}

// Values a regular expression once recursed on past the stack (50,000 digits or trailing spaces),
// and numbers past a double: bad input, never a crash or an internal error.
TEST(PipelineLabChanges, HostileValuesAreBadInput) {
  const auto& kb = *nflux::testing::RealKnowledge();
  const std::string too_long = "--set: longer than the limit of 256 characters";
  const std::pair<std::string, std::string> bad[] = {
      {"lab.ferritin=" + std::string(50000, '9') + "ng/mL", too_long},
      {"lab.ferritin=80ng/mL" + std::string(50000, ' '), too_long},
      {"lab.ferritin=1e999ng/mL", "--set lab.ferritin=1e999ng/mL: the value is out of range"},
      {"lab.ferritin=-inf ng/mL", "--set lab.ferritin=-inf ng/mL: expected lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL"},
      {"lab.ferritin=+-5ng/mL", "--set lab.ferritin=+-5ng/mL: expected lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL"},
      {"lab.=5ng/mL", "--set lab.=5ng/mL: expected lab.ID=VALUE[UNIT], e.g. lab.ferritin=80ng/mL"},
  };
  for (const auto& [change, message] : bad) {
    auto changed = ApplyLabChanges(R"({"case_id": "c"})", {change}, kb);
    ASSERT_FALSE(changed.ok()) << change.substr(0, 40);
    EXPECT_EQ(message, changed.status().message());
    EXPECT_EQ(Status::Code::kInvalidArgument, changed.status().code());
  }
  auto signed_value = ApplyLabChanges(R"({"case_id": "c"})", {"lab.ferritin=+80.ng/mL"}, kb);
  ASSERT_OK(signed_value);
  EXPECT_EQ(R"([{"test":"ferritin","unit":"ng/mL","value":80.0}])", nlohmann::json::parse(*signed_value)["labs"].dump());
}

TEST(PipelineKnowledge, StatsCountEveryNodeAndEdgeOnce) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  KnowledgeStats stats = StatsOf(kb);
  int nodes = 0, edges = 0;
  for (const auto& [kind, count] : stats.nodes) nodes += count;
  for (const auto& [type, count] : stats.edges) edges += count;
  EXPECT_EQ(kb.nodes().size(), static_cast<size_t>(nodes));
  EXPECT_EQ(kb.edges().size(), static_cast<size_t>(edges));
  EXPECT_GT(stats.nodes["enzyme"], 0);
  EXPECT_GE(stats.uncited_edges, 0);
  EXPECT_LT(static_cast<size_t>(stats.uncited_edges), kb.edges().size());
}

TEST(PipelineKnowledge, CitationsAroundANodeIncludeItsEdges) {
  const knowledge::KnowledgeBase& kb = ShippedPipeline().knowledge();
  const knowledge::Node* node = kb.Find("tph2");
  ASSERT_NE(nullptr, node);
  auto cited = CitationsAround(kb, *node);
  for (const auto& key : node->citations) EXPECT_TRUE(cited.count(key)) << key;
  for (const auto& edges : {kb.OutEdges("tph2"), kb.InEdges("tph2")})
    for (const knowledge::Edge* edge : edges)
      for (const auto& key : edge->citations) EXPECT_TRUE(cited.count(key)) << key;
  ASSERT_FALSE(cited.empty());
  for (const auto& [key, text] : cited) EXPECT_EQ(kb.FindCitation(key)->Format(), text) << key;
}

}  // namespace
}  // namespace nflux::pipeline

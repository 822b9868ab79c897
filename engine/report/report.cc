#include "report/report.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "base/fast_json.h"
#include "base/json_writer.h"
#include "base/sha256.h"
#include "base/text.h"
#include "explain/explain.h"
#include "report/view.h"

#ifndef NFLUX_VERSION
#define NFLUX_VERSION "0.0.0"
#endif

namespace nflux::report {
namespace {

using inference::Evaluation;
using nlohmann::ordered_json;

double Round3(double value) { return std::round(value * 1000.0) / 1000.0; }

std::string Level(double certainty) {
  if (certainty >= 0.5) return "likely";
  if (certainty >= 0.2) return "possible";
  return "unlikely";
}


void AddUnique(std::vector<std::string>& list, const std::string& item) {
  if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::vector<std::string> CitationsOf(const inference::Engine& engine, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  for (const auto& key : keys) AddUnique(out, explain::FormatCitation(engine.knowledge(), key));
  return out;
}

std::vector<std::string> RuleCitations(const inference::Engine& engine, const std::vector<std::string>& rule_ids) {
  std::vector<std::string> out;
  for (const auto& rule_id : rule_ids)
    if (const rules::Rule* rule = engine.FindRule(rule_id))
      for (const auto& citation : CitationsOf(engine, rule->citations)) AddUnique(out, citation);
  return out;
}

JsonWriter& Rounded(JsonWriter& out, const std::optional<double>& value) {
  return value ? out.Double(casefile::Round4(*value)) : out.Null();
}

JsonWriter& TextOrNull(JsonWriter& out, const std::string& text) { return text.empty() ? out.Null() : out.String(text); }

// The case's data-quality findings, as casefile::DataQualityToJson holds them, in the contract's key order.
void WriteDataQuality(JsonWriter& out, const casefile::Case& c) {
  out.BeginArray();
  for (const casefile::DataQualityIssue& issue : c.data_quality)
    out.BeginObject().Key("path").String(issue.path).Key("severity").String(casefile::SeverityName(issue.severity))
        .Key("code").String(issue.code).Key("message").String(issue.message).EndObject();
  out.EndArray();
}

// A lab's decision limit; keys sorted, as casefile::LabsToJson holds them.
void WriteDecision(JsonWriter& out, const casefile::LabDecision& decision) {
  out.BeginObject().Key("citation");
  decision.citations.empty() ? out.Null() : out.String(decision.citations.front());
  out.Key("citations").Strings(decision.citations).Key("label").String(decision.label);
  out.Key("limit").Double(casefile::Round4(decision.limit)).Key("means").String(decision.means);
  out.Key("side").String(knowledge::LimitSideName(decision.side)).Key("status").String(decision.Status());
  out.EndObject();
}

// The case's labs, as casefile::LabsToJson holds them: the contract's keys in its order, then the
// optional ones (sorted).
void WriteLabs(JsonWriter& out, const casefile::Case& c) {
  using casefile::LabStatus;
  using casefile::OptimalStatus;
  out.BeginArray();
  for (const casefile::LabResult& lab : c.labs) {
    out.BeginObject().Key("test").String(lab.test);
    out.Key("input").BeginObject().Key("value").Double(lab.input_value);
    TextOrNull(out.Key("unit"), lab.input_unit).EndObject();
    Rounded(out.Key("value"), lab.value).Key("unit").String(lab.unit).Key("status");
    lab.status == LabStatus::kUnknown ? out.Null() : out.String(casefile::LabStatusName(lab.status));
    out.Key("reference");
    if (lab.reference_low || lab.reference_high) {
      Rounded(out.BeginObject().Key("low"), lab.reference_low);
      Rounded(out.Key("high"), lab.reference_high).EndObject();
    } else {
      out.Null();
    }
    if (lab.has_optimal) {
      out.Key("optimal_status");
      lab.optimal_status == OptimalStatus::kUnknown ? out.Null()
                                                    : out.String(casefile::OptimalStatusName(lab.optimal_status));
      Rounded(out.Key("optimal").BeginObject().Key("low"), lab.optimal_low);
      Rounded(out.Key("high"), lab.optimal_high).EndObject();
    }
    if (lab.decision) WriteDecision(out.Key("decision"), *lab.decision);
    out.Key("used").Bool(lab.used);
    if (!lab.collection_time.empty()) out.Key("collection_time").String(lab.collection_time);
    if (lab.critical) out.Key("critical").Bool(true);
    if (!lab.date.empty()) out.Key("date").String(lab.date);
    out.EndObject();
  }
  out.EndArray();
}

// The case's derived indices, as casefile::DerivedToJson holds them, in the contract's key order.
void WriteDerived(JsonWriter& out, const casefile::Case& c) {
  out.BeginArray();
  for (const casefile::DerivedIndex& index : c.derived)
    out.BeginObject().Key("id").String(index.id).Key("value").Double(casefile::Round4(index.value)).Key("unit").String(index.unit)
        .Key("from").Strings(index.from).Key("status").String(index.status).EndObject();
  out.EndArray();
}

std::vector<const inference::AlertResult*> AlertsBySeverity(const Evaluation& evaluation) {
  std::vector<const inference::AlertResult*> alerts;
  for (const auto& alert : evaluation.alerts) alerts.push_back(&alert);
  std::stable_sort(alerts.begin(), alerts.end(), [](const auto* a, const auto* b) {
    return Rank(a->severity) < Rank(b->severity);
  });
  return alerts;
}

void WriteAlerts(JsonWriter& out, const inference::Engine& engine, const Evaluation& evaluation) {
  out.BeginArray();
  for (const auto* alert : AlertsBySeverity(evaluation)) {
    out.BeginObject().Key("id").String(alert->id);
    out.Key("severity").String(Name(alert->severity)).Key("message").String(alert->message);
    out.Key("because").Strings(alert->because).Key("citations").Strings(CitationsOf(engine, alert->citations));
    out.Key("reasons").BeginArray();
    for (const auto& reason : alert->reasons)
      out.BeginObject().Key("message").String(reason.message).Key("because").Strings(reason.because)
          .Key("source").String(reason.source).EndObject();
    out.EndArray().EndObject();
  }
  out.EndArray();
}

void WriteEvidence(JsonWriter& out, explain::EvidenceCache& evidence_cache, const std::vector<std::string>& rule_ids) {
  out.BeginArray();
  for (const explain::Evidence* evidence : evidence_cache.Behind(rule_ids))
    out.BeginObject().Key("kind").String(evidence->kind).Key("id").String(evidence->id).Key("text").String(evidence->text)
        .Key("rule").String(evidence->rule).Key("citation").String(evidence->citation).Key("grade")
        .String(evidence->grade).EndObject();
  out.EndArray();
}

struct RankedDeficit {
  const inference::Conclusion* conclusion;
  double certainty;
};

std::vector<RankedDeficit> RankDeficits(const Evaluation& evaluation) {
  std::vector<RankedDeficit> out;
  for (const auto& [id, conclusion] : evaluation.deficits)
    if (Round3(conclusion.certainty) > 0) out.push_back({&conclusion, Round3(conclusion.certainty)});
  std::stable_sort(out.begin(), out.end(), [](const RankedDeficit& a, const RankedDeficit& b) {
    if (a.certainty != b.certainty) return a.certainty > b.certainty;
    return a.conclusion->id < b.conclusion->id;
  });
  return out;
}

void WriteDeficits(JsonWriter& out, explain::EvidenceCache& evidence_cache, const std::vector<RankedDeficit>& ranked) {
  out.BeginArray();
  int rank = 0;
  for (const auto& [conclusion, certainty] : ranked) {
    std::vector<std::pair<std::string, double>> drivers(conclusion->drivers.begin(), conclusion->drivers.end());
    std::stable_sort(drivers.begin(), drivers.end(), [](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      return a.first < b.first;
    });
    out.BeginObject().Key("id").String(conclusion->id).Key("rank").Int(++rank).Key("certainty").Double(certainty);
    out.Key("level").String(Level(certainty)).Key("drivers").BeginArray();
    for (const auto& [id, weight] : drivers)
      out.BeginObject().Key("id").String(id).Key("weight").Double(Round3(weight)).EndObject();
    out.EndArray();
    WriteEvidence(out.Key("evidence_for"), evidence_cache, conclusion->rules);
    WriteEvidence(out.Key("evidence_against"), evidence_cache, conclusion->opposing_rules);
    std::vector<std::string> rules = conclusion->rules;
    for (const auto& rule : conclusion->opposing_rules) AddUnique(rules, rule);
    out.Key("rules").Strings(rules);
    if (!conclusion->calibration.empty()) out.Key("calibration").String(conclusion->calibration);
    out.EndObject();
  }
  out.EndArray();
}

// Every driver concluded (output.md): highest certainty first, then by id, with its evidence and
// the deficits it feeds, also when no deficit rule used it.
void WriteDrivers(JsonWriter& out, explain::EvidenceCache& evidence_cache, const Evaluation& evaluation) {
  std::vector<const inference::Conclusion*> drivers;
  for (const auto& [id, driver] : evaluation.drivers)
    if (driver.certainty > 0) drivers.push_back(&driver);
  std::stable_sort(drivers.begin(), drivers.end(),
                   [](const auto* a, const auto* b) { return a->certainty > b->certainty; });
  out.BeginArray();
  for (const auto* driver : drivers) {
    std::vector<std::string> feeds;
    for (const auto& [deficit_id, deficit] : evaluation.deficits)
      if (deficit.certainty > 0 && deficit.drivers.count(driver->id)) feeds.push_back(deficit_id);
    out.BeginObject().Key("id").String(driver->id).Key("certainty").Double(Round3(driver->certainty));
    out.Key("level").String(Level(driver->certainty)).Key("feeds").Strings(feeds);
    WriteEvidence(out.Key("evidence_for"), evidence_cache, driver->rules);
    out.EndObject();
  }
  out.EndArray();
}

// Every questionnaire of the case as scored (output.md): total, band, where the total came from,
// the safety items; a result-only instrument (MDQ) with its result.
void WriteQuestionnaires(JsonWriter& out, const inference::Engine& engine, const casefile::Case& c) {
  out.BeginArray();
  for (const auto& [id, q] : c.questionnaires) {
    out.BeginObject().Key("id").String(id).Key("name").String(view::Label(engine.knowledge(), id));
    if (!q.result.empty()) {
      out.Key("result").String(q.result).EndObject();
      continue;
    }
    out.Key("total");
    q.total ? out.Value(ordered_json(*q.total)) : out.Null();
    out.Key("band");
    q.band.empty() ? out.Null() : out.String(q.band);
    out.Key("from").String(q.items.empty() ? "total" : "items");
    if (q.positive) out.Key("positive").Bool(*q.positive);
    out.Key("items_flagged").BeginObject();
    if (q.safety_item && q.safety_item_value) out.Key(std::to_string(*q.safety_item)).Value(ordered_json(*q.safety_item_value));
    out.EndObject().EndObject();
  }
  out.EndArray();
}

void WriteOverrides(JsonWriter& out, const ReportOptions& options) {
  out.BeginArray();
  for (const auto& item : options.overrides) {
    out.BeginObject().Key("kind").String(item.kind).Key("id").String(item.id).Key("value").Double(item.value);
    out.Key("model_value");
    item.model_value ? out.Double(*item.model_value) : out.Null();
    out.EndObject();
  }
  out.EndArray();
}

std::string ReasonText(const inference::BlockReason& reason) {
  std::string text = reason.note.empty() ? "use with caution" : reason.note;
  if (!reason.with.empty()) text += " (with " + reason.with + ")";
  if (!reason.alert.empty()) text += " [alert " + reason.alert + "]";
  return text;
}

std::string WhySentence(const inference::StrategyResult& strategy, const Evaluation& evaluation) {
  std::string text;
  if (!strategy.rules.empty()) {
    text = strategy.rules.size() == 1 ? "Suggested by rule " : "Suggested by rules ";
    text += Join(strategy.rules, ", ");
  } else {
    text = strategy.requested ? "Requested for this case" : "Suggested";
  }
  std::vector<std::string> deficits;
  for (const auto& id : strategy.for_deficits) {
    auto it = evaluation.deficits.find(id);
    double certainty = it == evaluation.deficits.end() ? 0 : Round3(it->second.certainty);
    deficits.push_back(id + " (" + Level(certainty) + ", " + FormatNumber(certainty, 3) + ")");
  }
  if (!deficits.empty()) text += " for " + Join(deficits, ", ");
  if (strategy.requested && !strategy.rules.empty()) text += "; also requested";
  text += "; passed the safety gate";
  text += strategy.verdict == inference::Verdict::kCaution ? " with cautions." : ".";
  return text;
}

void WritePredictedEffect(JsonWriter& out, const ReportOptions& options, const std::string& id) {
  out.BeginObject();
  auto it = options.predicted_effects.find(id);
  if (it != options.predicted_effects.end())
    for (const auto& [key, change] : it->second) out.Key(key).Double(change);
  out.EndObject();
}

void WriteStrategies(JsonWriter& out, const inference::Engine& engine, const Evaluation& evaluation,
                     const ReportOptions& options) {
  // In the engine's order: one ranking (safety::RankStrategies, docs/ranking.md) for every front end.
  out.BeginArray();
  int rank = 0;
  for (const auto& strategy : evaluation.strategies) {
    std::vector<std::string> cautions;
    for (const auto& reason : strategy.reasons)
      if (reason.severity == ContraindicationSeverity::kCaution || strategy.verdict == inference::Verdict::kCaution)
        AddUnique(cautions, ReasonText(reason));
    std::vector<std::string> citations = RuleCitations(engine, strategy.rules);
    if (citations.empty())
      if (const auto* node = engine.knowledge().Find(strategy.id)) citations = CitationsOf(engine, node->citations);
    out.BeginObject().Key("id").String(strategy.id).Key("kind").String(Name(strategy.kind)).Key("rank").Int(++rank);
    out.Key("score").Double(Round3(strategy.score)).Key("rank_reason").String(strategy.rank_reason);
    out.Key("for_deficits").Strings(strategy.for_deficits);
    WritePredictedEffect(out.Key("predicted_effect"), options, strategy.id);
    out.Key("cautions").Strings(cautions).Key("why").String(WhySentence(strategy, evaluation));
    out.Key("citations").Strings(citations).EndObject();
  }
  out.EndArray();
}

// Every reason behind a verdict, with what the case showed and the first citation formatted.
void WriteReasons(JsonWriter& out, const inference::Engine& engine, const inference::StrategyResult& strategy) {
  out.BeginArray();
  for (const auto& reason : strategy.reasons) {
    out.BeginObject().Key("alert").String(reason.alert).Key("with").String(reason.with);
    out.Key("severity").String(Name(reason.severity)).Key("detail").String(reason.detail).Key("note").String(reason.note);
    out.Key("citation").String(reason.citations.empty()
                                   ? std::string()
                                   : explain::FormatCitation(engine.knowledge(), reason.citations.front()));
    out.EndObject();
  }
  out.EndArray();
}

void WriteBlocked(JsonWriter& out, const inference::Engine& engine, const Evaluation& evaluation) {
  out.BeginArray();
  for (const auto& strategy : evaluation.blocked) {
    out.BeginObject().Key("id").String(strategy.id).Key("requested").Bool(strategy.requested);
    WriteReasons(out.Key("current").Bool(strategy.current).Key("reasons"), engine, strategy);
    out.EndObject();
  }
  out.EndArray();
}

void WriteRequested(JsonWriter& out, const inference::Engine& engine, const Evaluation& evaluation) {
  out.BeginArray();
  for (const auto& strategy : evaluation.requested) {
    out.BeginObject().Key("id").String(strategy.id).Key("verdict").String(inference::VerdictName(strategy.verdict));
    out.Key("requested").Bool(strategy.requested).Key("current").Bool(strategy.current);
    WriteReasons(out.Key("reasons"), engine, strategy);
    out.EndObject();
  }
  out.EndArray();
}

// {pathway, index} of a flux key: split at its first dot, as flux::ParseIndexKey splits the
// model's index keys (and values given by hand split alike); a key without a dot is a pathway's
// "value". Views into the key.
std::pair<std::string_view, std::string_view> SplitFluxKey(std::string_view key) {
  auto dot = key.find('.');
  if (dot == std::string_view::npos) return {key, "value"};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

ordered_json FluxJson(const inference::FluxValues& flux, const ReportOptions& options) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : flux.values) {
    auto [pathway, index] = SplitFluxKey(key);
    out[std::string(pathway)][std::string(index)] = std::round(value * 1e4) / 1e4;
  }
  for (const auto& [pathway, inputs] : options.flux_assumed_inputs)
    if (out.contains(pathway)) out[pathway]["assumed"] = inputs;
  for (const auto& [key, assumed] : flux.assumed) {
    if (!assumed) continue;
    auto dot = key.find('.');
    std::string pathway = dot == std::string::npos ? key : key.substr(0, dot);
    if (options.flux_assumed_inputs.count(pathway)) continue;
    if (!out[pathway].contains("assumed")) out[pathway]["assumed"] = ordered_json::array();
    out[pathway]["assumed"].push_back(dot == std::string::npos ? key : key.substr(dot + 1));
  }
  return out;
}

// One pathway of the "flux" object: its indices in the order they came, then "assumed"; views
// into the flux values and report options.
struct PathwayJson {
  std::string_view pathway;
  std::vector<std::pair<std::string_view, double>> indices;
  const std::vector<std::string>* assumed_inputs = nullptr;  // ReportOptions::flux_assumed_inputs, when given
  std::vector<std::string_view> assumed;                     // otherwise the assumed index names, if any
};

// FluxJson(flux, options) written straight out, without the DOM: the same pathways and keys in
// the same order. REQUIRES: no index is named "assumed" (FluxJson's object would merge it).
void WriteFlux(JsonWriter& out, const inference::FluxValues& flux, const ReportOptions& options) {
  std::vector<PathwayJson> pathways;
  pathways.reserve(16);
  auto pathway_of = [&](std::string_view name) -> PathwayJson& {
    // The values are in key order, so a pathway's indices come one after another.
    if (!pathways.empty() && pathways.back().pathway == name) return pathways.back();
    for (auto& pathway : pathways)
      if (pathway.pathway == name) return pathway;
    return pathways.emplace_back(PathwayJson{name, {}, nullptr, {}});
  };
  for (const auto& [key, value] : flux.values) {
    auto [pathway, index] = SplitFluxKey(key);
    auto& indices = pathway_of(pathway).indices;
    const double rounded = std::round(value * 1e4) / 1e4;
    auto found = std::find_if(indices.begin(), indices.end(), [&index = index](const auto& item) { return item.first == index; });
    if (found != indices.end()) found->second = rounded;
    else indices.emplace_back(index, rounded);
  }
  for (auto& pathway : pathways)
    if (auto it = options.flux_assumed_inputs.find(std::string(pathway.pathway)); it != options.flux_assumed_inputs.end())
      pathway.assumed_inputs = &it->second;
  std::optional<std::string_view> last_name;  // the assumed keys too are in key order: a pathway's come together
  bool inputs_given = false;
  for (const auto& [key, assumed] : flux.assumed) {
    if (!assumed) continue;
    auto dot = key.find('.');
    std::string_view name = std::string_view(key).substr(0, dot);
    if (name != last_name) {
      last_name = name;
      inputs_given = options.flux_assumed_inputs.count(std::string(name)) > 0;
    }
    if (inputs_given) continue;
    pathway_of(name).assumed.push_back(dot == std::string::npos ? std::string_view(key) : std::string_view(key).substr(dot + 1));
  }
  out.BeginObject();
  for (const auto& pathway : pathways) {
    out.Key(pathway.pathway).BeginObject();
    for (const auto& [index, value] : pathway.indices) out.Key(index).Double(value);
    if (pathway.assumed_inputs) {
      out.Key("assumed").Strings(*pathway.assumed_inputs);
    } else if (!pathway.assumed.empty()) {
      out.Key("assumed").BeginArray();
      for (std::string_view name : pathway.assumed) out.String(name);
      out.EndArray();
    }
    out.EndObject();
  }
  out.EndObject();
}

// Whether WriteFlux writes what FluxJson holds: no index named "assumed" (only given by hand).
bool FluxWritable(const inference::FluxValues& flux) {
  for (const auto& [key, value] : flux.values)
    if (key.ends_with(".assumed") && SplitFluxKey(key).second == "assumed") return false;
  return true;
}

// Data a practitioner can collect (a lab, a symptom, a questionnaire...), not a conclusion of the
// engine or a flux index of the model.
bool IsCaseData(std::string_view input) {
  for (const char* prefix : {"flux:", "fact:", "driver:", "deficit:", "alert:"})
    if (input.starts_with(prefix)) return false;
  return true;
}

// One conclusion next_best_data asks about: a deficit, or a driver behind one (`behind` names
// the deficit). Both refer to the evaluation's ids.
struct Question {
  std::string_view id;
  std::string_view behind;
};

// One reason to collect an input: `input` would decide `question`, now at `certainty`. Kept as
// references into the why-not answers and written out (AppendWhyText) only for the entries reported.
struct Why {
  const Question* question;
  const explain::DecidingInput* input;
  double certainty;  // Round3'd, as is the impact written
  double impact;
};

// Appends why an input is suggested: "would decide RULES for ID (now LEVEL, C; up to +I)".
void AppendWhyText(const Why& why, std::string& out) {
  const std::string_view input = why.input->input;
  if (input.starts_with("derived:")) out.append("an input of ").append(input.substr(8)).append(", which ");
  out.append("would decide ");
  for (size_t i = 0; i < why.input->rules.size(); ++i) out.append(i ? ", " : "").append(why.input->rules[i]);
  out.append(" for ").append(why.question->id);
  if (!why.question->behind.empty()) out.append(" behind ").append(why.question->behind);
  out.append(" (now ").append(Level(why.certainty)).append(", ").append(FormatNumber(why.certainty, 3));
  out.append("; up to +").append(FormatNumber(why.impact, 3)).append(")");
}

// One suggestion of next_best_data, merged over every conclusion it would decide.
struct NextData {
  std::string_view input;  // into the why-not answers, or NextBestData::derived_labs
  double impact = 0;
  bool first_line = false;  // a lab of the basic work-up (knowledge `work_up`)
  // In the order found. Each once: a question's inputs are distinct and a derived input's labs
  // too, so a (question, input) pair reaches an entry once, and no two pairs read alike.
  std::vector<Why> why;
};

// The suggestions of one report, in the order first found (a few dozen: a linear look-up).
struct NextBestData {
  std::vector<NextData> entries;
  std::deque<std::string> derived_labs;  // "lab:x" for a derived index's input (stable addresses)

  NextData& Entry(std::string_view input) {
    for (auto& entry : entries)
      if (entry.input == input) return entry;
    return entries.emplace_back(NextData{input, 0, false, {}});
  }
};

// Adds the case data that would decide `question` to `next`: the input itself, or for a derived
// index (never suggested on its own) the input labs it is computed from that the case lacks.
// REQUIRES: `question` and `deciding` outlive `next`.
void AddDecidingInputs(const inference::Engine& engine, const casefile::Case& c, const Question& question,
                       const explain::Deciding& deciding, NextBestData& next) {
  const knowledge::KnowledgeBase& kb = engine.knowledge();
  const double certainty = Round3(deciding.certainty);
  auto add = [&](std::string_view collectable, const Why& why) {
    NextData& entry = next.Entry(collectable);
    entry.impact = std::max(entry.impact, why.impact);
    entry.first_line = collectable.starts_with("lab:") && kb.IsFirstLineLab(collectable.substr(4));
    entry.why.push_back(why);
  };
  for (const auto& input : deciding.inputs) {
    const double impact = Round3(input.impact);
    if (impact <= 0 || !IsCaseData(input.input)) continue;
    const Why why{&question, &input, certainty, impact};
    if (!input.input.starts_with("derived:")) {
      add(input.input, why);
      continue;
    }
    const knowledge::Node* node = kb.Find(std::string_view(input.input).substr(std::string_view("derived:").size()));
    if (node == nullptr || !node->derived_index) continue;
    for (const auto& lab : node->derived_index->inputs) {
      const bool measured = std::any_of(c.labs.begin(), c.labs.end(),
                                        [&](const casefile::LabResult& r) { return r.test == lab && r.used && r.value; });
      if (!measured) add(next.derived_labs.emplace_back("lab:" + lab), why);
    }
  }
}

// The drivers the rules of `deficit` name that are not yet likely, sorted and each once: what a
// work-up would decide. Views of the rule base's ids.
std::vector<std::string_view> UndecidedDrivers(const inference::Engine& engine, const Evaluation& evaluation,
                                               const std::string& deficit) {
  std::vector<std::string_view> drivers;
  for (const rules::Rule* rule : engine.RulesConcluding(deficit))
    for (const auto& action : rule->actions)
      if (action.kind == rules::ActionKind::kSuggestDeficit && action.id == deficit)
        drivers.insert(drivers.end(), action.ids.begin(), action.ids.end());
  std::sort(drivers.begin(), drivers.end());
  drivers.erase(std::unique(drivers.begin(), drivers.end()), drivers.end());
  std::erase_if(drivers, [&](std::string_view driver) {
    auto it = evaluation.drivers.find(std::string(driver));
    return it != evaluation.drivers.end() && Level(Round3(it->second.certainty)) == "likely";
  });
  return drivers;
}

// next_best_data (output.md): for the leading deficits, the data that would decide them and the
// drivers behind them; the basic work-up (first-line labs) first, then by impact, then by input.
void WriteNextBestData(JsonWriter& out, const inference::Engine& engine, const casefile::Case& c,
                       const Evaluation& evaluation, const std::vector<RankedDeficit>& ranked,
                       const ReportOptions& options) {
  constexpr size_t kDeficitsConsidered = 5;
  std::vector<Question> questions;
  std::vector<std::string_view> drivers_seen;
  for (size_t i = 0; i < ranked.size() && i < kDeficitsConsidered; ++i) {
    const std::string& deficit = ranked[i].conclusion->id;
    if (Level(ranked[i].certainty) != "likely") questions.push_back({deficit, {}});
    for (std::string_view driver : UndecidedDrivers(engine, evaluation, deficit)) {
      if (std::find(drivers_seen.begin(), drivers_seen.end(), driver) != drivers_seen.end()) continue;
      drivers_seen.push_back(driver);
      questions.push_back({driver, deficit});
    }
  }
  // All questions at once: each rule that could decide one is evaluated once for the case.
  std::vector<std::string> ids;
  ids.reserve(questions.size());
  for (const auto& question : questions) ids.emplace_back(question.id);
  std::vector<Result<explain::Deciding>> answers = explain::WhatWouldDecideEach(engine, c, evaluation, ids, options.flux);
  NextBestData next;
  for (size_t i = 0; i < questions.size(); ++i)
    if (answers[i].ok()) AddDecidingInputs(engine, c, questions[i], *answers[i], next);
  std::vector<const NextData*> sorted;
  sorted.reserve(next.entries.size());
  for (const auto& entry : next.entries) sorted.push_back(&entry);
  // Inputs are unique: the order is total, no stable sort needed.
  std::sort(sorted.begin(), sorted.end(), [](const NextData* a, const NextData* b) {
    if (a->first_line != b->first_line) return a->first_line;
    if (a->impact != b->impact) return a->impact > b->impact;
    return a->input < b->input;
  });
  if (sorted.size() > options.max_next_best_data) sorted.resize(options.max_next_best_data);
  out.BeginArray();
  std::string why;
  for (const NextData* entry : sorted) {
    why.clear();
    for (const Why& reason : entry->why) {
      if (!why.empty()) why += "; ";
      AppendWhyText(reason, why);
    }
    out.BeginObject().Key("input").String(entry->input).Key("impact").Double(entry->impact)
        .Key("first_line").Bool(entry->first_line).Key("why").String(why).EndObject();
  }
  out.EndArray();
}

}  // namespace

std::string VersionsText(const Versions& versions) {
  return "engine " + versions.engine + ", knowledge " + versions.knowledge.substr(0, 19) + ", rules " +
         versions.rules.substr(0, 19);
}

Versions VersionsOf(const inference::Engine& engine) {
  return {NFLUX_VERSION, engine.knowledge().version(), engine.rule_base().version};
}

namespace {

// The trace's content as fixed-width fields, texts prefixed by their length (so no two traces
// share one), fed to SHA-256 as it is written: what TraceId hashes. Numbers are their bytes, little
// endian (a double its IEEE-754 bits): no formatting on the path of every case. The fields pass
// through a fixed buffer, so no copy of the trace is built.
class TraceHasher {
 public:
  // cppcheck-suppress uninitMemberVar ; buffer_ is written before it is read (used_ counts it)
  TraceHasher() = default;
  TraceHasher(const TraceHasher&) = delete;
  TraceHasher& operator=(const TraceHasher&) = delete;

  TraceHasher& Text(std::string_view text) {
    Int(text.size());
    Append(text.data(), text.size());
    return *this;
  }
  TraceHasher& Int(uint64_t value) {
    if constexpr (std::endian::native == std::endian::big) value = __builtin_bswap64(value);
    Reserve(8);
    std::memcpy(buffer_ + used_, &value, 8);
    used_ += 8;
    return *this;
  }
  TraceHasher& Byte(int value) {
    Reserve(1);
    buffer_[used_++] = static_cast<char>(value);
    return *this;
  }
  TraceHasher& Double(double value) { return Int(std::bit_cast<uint64_t>(value)); }
  // "sha256:<hex>" of everything written.
  std::string Id() {
    Flush();
    return "sha256:" + sha_.HexDigest();
  }

 private:
  void Reserve(size_t size) {
    if (sizeof buffer_ - used_ < size) Flush();
  }
  void Append(const char* data, size_t size) {
    if (size == 0) return;  // an empty view may have no data pointer at all (memcpy's must not be null)
    Reserve(size);
    if (size > sizeof buffer_) {
      sha_.Update({data, size});
      return;
    }
    std::memcpy(buffer_ + used_, data, size);
    used_ += size;
  }
  void Flush() {
    if (used_ > 0) sha_.Update({buffer_, used_});
    used_ = 0;
  }

  Sha256 sha_;
  size_t used_ = 0;
  char buffer_[8192];
};

// What the case decided in each rule considered. What the rule base fixed (title, file, line,
// stratum, citations, each test's text, input and kind) is left out: the rules version, hashed
// first, determines it. What a test found is hashed as the data it is kept as (TestTrace::found,
// and its number or text), not as the text Actual() would write from that data and the test.
void AddRuleTrace(const inference::RuleTrace& rule, TraceHasher& out) {
  out.Text(rule.rule).Byte(static_cast<int>(rule.truth)).Byte(rule.fired).Double(rule.strength).Int(static_cast<uint64_t>(rule.order));
  out.Byte(rule.clinical).Int(rule.tests.size());
  for (const auto& test : rule.tests) {
    out.Byte(static_cast<int>(test.truth)).Byte(static_cast<int>(test.found));
    if (test.found == inference::Found::kText) out.Text(test.text);
    else out.Double(test.number);
    out.Double(test.strength);
  }
  out.Int(rule.contributions.size());
  for (const auto& contribution : rule.contributions)
    out.Byte(static_cast<int>(contribution.kind)).Text(contribution.id).Double(contribution.certainty);
}

}  // namespace

std::string TraceId(const Evaluation& evaluation, const Versions& versions) {
  const inference::Trace& trace = evaluation.trace;
  TraceHasher hasher;
  hasher.Text(versions.engine).Text(versions.knowledge).Text(versions.rules);
  hasher.Int(static_cast<uint64_t>(trace.firings)).Int(static_cast<uint64_t>(trace.considered)).Text(trace.stopped);
  hasher.Int(trace.rules.size());
  for (const auto& rule : trace.rules) AddRuleTrace(rule, hasher);
  return hasher.Id();
}

std::string EvaluationJsonText(const inference::Engine& engine, const casefile::Case& c,
                               const Evaluation& evaluation, const Versions& versions, const ReportOptions& options,
                               TraceIdField trace_id) {
  std::vector<RankedDeficit> ranked = RankDeficits(evaluation);
  std::string text;
  text.reserve(16384);
  JsonWriter out(text);
  out.BeginObject().Key("case_id").String(c.case_id);
  out.Key("versions").BeginObject().Key("engine").String(versions.engine).Key("knowledge").String(versions.knowledge)
      .Key("rules").String(versions.rules).EndObject();
  WriteAlerts(out.Key("alerts"), engine, evaluation);
  WriteDataQuality(out.Key("data_quality"), c);
  WriteLabs(out.Key("labs"), c);
  WriteDerived(out.Key("derived"), c);
  WriteQuestionnaires(out.Key("questionnaires"), engine, c);
  explain::EvidenceCache evidence_cache(engine, evaluation);  // drivers and deficits share rules
  WriteDrivers(out.Key("drivers"), evidence_cache, evaluation);
  WriteDeficits(out.Key("deficits"), evidence_cache, ranked);
  WriteStrategies(out.Key("strategies"), engine, evaluation, options);
  WriteBlocked(out.Key("blocked_strategies"), engine, evaluation);
  WriteRequested(out.Key("requested_supplements"), engine, evaluation);
  if (FluxWritable(options.flux)) WriteFlux(out.Key("flux"), options.flux, options);
  else out.Key("flux").Value(FluxJson(options.flux, options));
  WriteNextBestData(out.Key("next_best_data"), engine, c, evaluation, ranked, options);
  WriteOverrides(out.Key("overrides"), options);
  out.Key("trace_id").String(trace_id == TraceIdField::kHash ? TraceId(evaluation, versions) : "").EndObject();
  out.Flush();
  return text;
}

ordered_json EvaluationToJson(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                              const Versions& versions, const ReportOptions& options) {
  return ParseWrittenJson(EvaluationJsonText(engine, c, evaluation, versions, options));
}

Tally TallyOf(const Evaluation& evaluation) {
  Tally out;
  for (const auto& [conclusion, certainty] : RankDeficits(evaluation)) {
    const std::string level = Level(certainty);
    if (level == "likely") out.likely.push_back(conclusion->id);
    if (level == "possible") out.possible.push_back(conclusion->id);
  }
  for (const auto* alert : AlertsBySeverity(evaluation)) out.alerts.push_back(alert->id);
  for (const auto& strategy : evaluation.blocked) out.blocked.push_back(strategy.id);
  return out;
}

}  // namespace nflux::report

#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <string_view>

#include "base/text.h"
#include "explain/explain.h"
#include "flux/flux.h"

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

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += separator;
    out += items[i];
  }
  return out;
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
    if (const rules::Rule* rule = explain::FindRule(engine.rule_base(), rule_id))
      for (const auto& citation : CitationsOf(engine, rule->citations)) AddUnique(out, citation);
  return out;
}

// A copy of `value` with each object's keys in the contract's order: the listed ones first (those
// present), then the rest as they came. The case module's helpers return sorted keys.
ordered_json InOrder(const nlohmann::json& value, std::initializer_list<std::string_view> order) {
  if (value.is_array()) {
    ordered_json out = ordered_json::array();
    for (const auto& item : value) out.push_back(InOrder(item, order));
    return out;
  }
  if (!value.is_object()) return ordered_json(value);
  ordered_json out = ordered_json::object();
  for (std::string_view key : order)
    if (auto found = value.find(key); found != value.end())
      out.emplace(std::string(key), InOrder(*found, {"value", "unit", "low", "high"}));
  for (const auto& [key, item] : value.items())
    if (std::find(order.begin(), order.end(), key) == order.end()) out.emplace(key, ordered_json(item));
  return out;
}

ordered_json AlertsJson(const inference::Engine& engine, const Evaluation& evaluation) {
  std::vector<const inference::AlertResult*> alerts;
  for (const auto& alert : evaluation.alerts) alerts.push_back(&alert);
  std::stable_sort(alerts.begin(), alerts.end(), [](const auto* a, const auto* b) {
    return Rank(a->severity) < Rank(b->severity);
  });
  ordered_json out = ordered_json::array();
  for (const auto* alert : alerts) {
    ordered_json reasons = ordered_json::array();
    for (const auto& reason : alert->reasons)
      reasons.push_back({{"message", reason.message}, {"because", reason.because}, {"source", reason.source}});
    out.push_back({{"id", alert->id},
                   {"severity", std::string(Name(alert->severity))},
                   {"message", alert->message},
                   {"because", alert->because},
                   {"citations", CitationsOf(engine, alert->citations)},
                   {"reasons", reasons}});
  }
  return out;
}

ordered_json EvidenceJson(const inference::Engine& engine, const Evaluation& evaluation,
                          const std::vector<std::string>& rule_ids) {
  ordered_json out = ordered_json::array();
  for (const auto& evidence : explain::EvidenceBehind(engine, evaluation, rule_ids))
    out.push_back({{"kind", evidence.kind},
                   {"id", evidence.id},
                   {"text", evidence.text},
                   {"rule", evidence.rule},
                   {"citation", evidence.citation},
                   {"grade", evidence.grade}});
  return out;
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

ordered_json DeficitsJson(const inference::Engine& engine, const Evaluation& evaluation,
                          const std::vector<RankedDeficit>& ranked) {
  ordered_json out = ordered_json::array();
  int rank = 0;
  for (const auto& [conclusion, certainty] : ranked) {
    std::vector<std::pair<std::string, double>> drivers(conclusion->drivers.begin(), conclusion->drivers.end());
    std::stable_sort(drivers.begin(), drivers.end(), [](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second > b.second;
      return a.first < b.first;
    });
    ordered_json drivers_json = ordered_json::array();
    for (const auto& [id, weight] : drivers) drivers_json.push_back({{"id", id}, {"weight", Round3(weight)}});
    std::vector<std::string> rules = conclusion->rules;
    for (const auto& rule : conclusion->opposing_rules) AddUnique(rules, rule);
    out.push_back({{"id", conclusion->id},
                   {"rank", ++rank},
                   {"certainty", certainty},
                   {"level", Level(certainty)},
                   {"drivers", drivers_json},
                   {"evidence_for", EvidenceJson(engine, evaluation, conclusion->rules)},
                   {"evidence_against", EvidenceJson(engine, evaluation, conclusion->opposing_rules)},
                   {"rules", rules}});
    if (!conclusion->calibration.empty()) out.back()["calibration"] = conclusion->calibration;
  }
  return out;
}

// Every driver concluded (output.md): highest certainty first, then by id, with its evidence and
// the deficits it feeds, also when no deficit rule used it.
ordered_json DriversJson(const inference::Engine& engine, const Evaluation& evaluation) {
  std::vector<const inference::Conclusion*> drivers;
  for (const auto& [id, driver] : evaluation.drivers)
    if (driver.certainty > 0) drivers.push_back(&driver);
  std::stable_sort(drivers.begin(), drivers.end(),
                   [](const auto* a, const auto* b) { return a->certainty > b->certainty; });
  ordered_json out = ordered_json::array();
  for (const auto* driver : drivers) {
    std::vector<std::string> feeds;
    for (const auto& [deficit_id, deficit] : evaluation.deficits)
      if (deficit.certainty > 0 && deficit.drivers.count(driver->id)) feeds.push_back(deficit_id);
    out.push_back({{"id", driver->id},
                   {"certainty", Round3(driver->certainty)},
                   {"level", Level(driver->certainty)},
                   {"feeds", feeds},
                   {"evidence_for", EvidenceJson(engine, evaluation, driver->rules)}});
  }
  return out;
}

// "PHQ-9" from "PHQ-9 (Patient Health Questionnaire-9)": the short name a report shows.
std::string ShortLabel(const inference::Engine& engine, const std::string& id) {
  const knowledge::Node* node = engine.knowledge().Find(id);
  if (!node || node->label.empty()) return id;
  return node->label.substr(0, node->label.find(" ("));
}

// Every questionnaire of the case as scored (output.md): total, band, where the total came from,
// the safety items; a result-only instrument (MDQ) with its result.
ordered_json QuestionnairesJson(const inference::Engine& engine, const casefile::Case& c) {
  ordered_json out = ordered_json::array();
  for (const auto& [id, q] : c.questionnaires) {
    ordered_json entry = {{"id", id}, {"name", ShortLabel(engine, id)}};
    if (!q.result.empty()) {
      entry["result"] = q.result;
      out.push_back(std::move(entry));
      continue;
    }
    entry["total"] = q.total ? ordered_json(*q.total) : ordered_json();
    entry["band"] = q.band.empty() ? ordered_json() : ordered_json(q.band);
    entry["from"] = q.items.empty() ? "total" : "items";
    if (q.positive) entry["positive"] = *q.positive;
    ordered_json flagged = ordered_json::object();
    if (q.safety_item && q.safety_item_value) flagged[std::to_string(*q.safety_item)] = *q.safety_item_value;
    entry["items_flagged"] = std::move(flagged);
    out.push_back(std::move(entry));
  }
  return out;
}

ordered_json OverridesJson(const ReportOptions& options) {
  ordered_json out = ordered_json::array();
  for (const auto& item : options.overrides)
    out.push_back({{"kind", item.kind},
                   {"id", item.id},
                   {"value", item.value},
                   {"model_value", item.model_value ? ordered_json(*item.model_value) : ordered_json()}});
  return out;
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

ordered_json PredictedEffect(const ReportOptions& options, const std::string& id) {
  ordered_json out = ordered_json::object();
  auto it = options.predicted_effects.find(id);
  if (it != options.predicted_effects.end())
    for (const auto& [key, change] : it->second) out[key] = change;
  return out;
}

ordered_json StrategiesJson(const inference::Engine& engine, const Evaluation& evaluation,
                            const ReportOptions& options) {
  // In the engine's order: one ranking (safety::RankStrategies, docs/ranking.md) for every front end.
  std::vector<const inference::StrategyResult*> strategies;
  for (const auto& strategy : evaluation.strategies) strategies.push_back(&strategy);
  ordered_json out = ordered_json::array();
  int rank = 0;
  for (const auto* strategy : strategies) {
    std::vector<std::string> cautions;
    for (const auto& reason : strategy->reasons)
      if (reason.severity == ContraindicationSeverity::kCaution || strategy->verdict == inference::Verdict::kCaution)
        AddUnique(cautions, ReasonText(reason));
    std::vector<std::string> citations = RuleCitations(engine, strategy->rules);
    if (citations.empty())
      if (const auto* node = engine.knowledge().Find(strategy->id)) citations = CitationsOf(engine, node->citations);
    out.push_back({{"id", strategy->id},
                   {"kind", std::string(Name(strategy->kind))},
                   {"rank", ++rank},
                   {"score", Round3(strategy->score)},
                   {"rank_reason", strategy->rank_reason},
                   {"for_deficits", strategy->for_deficits},
                   {"predicted_effect", PredictedEffect(options, strategy->id)},
                   {"cautions", cautions},
                   {"why", WhySentence(*strategy, evaluation)},
                   {"citations", citations}});
  }
  return out;
}

// Every reason behind a verdict, with what the case showed and the first citation formatted.
ordered_json ReasonsJson(const inference::Engine& engine, const inference::StrategyResult& strategy) {
  ordered_json reasons = ordered_json::array();
  for (const auto& reason : strategy.reasons)
    reasons.push_back({{"alert", reason.alert},
                       {"with", reason.with},
                       {"severity", std::string(Name(reason.severity))},
                       {"detail", reason.detail},
                       {"note", reason.note},
                       {"citation", reason.citations.empty()
                                        ? std::string()
                                        : explain::FormatCitation(engine.knowledge(), reason.citations.front())}});
  return reasons;
}

ordered_json BlockedJson(const inference::Engine& engine, const Evaluation& evaluation) {
  ordered_json out = ordered_json::array();
  for (const auto& strategy : evaluation.blocked)
    out.push_back({{"id", strategy.id},
                   {"requested", strategy.requested},
                   {"current", strategy.current},
                   {"reasons", ReasonsJson(engine, strategy)}});
  return out;
}

ordered_json RequestedJson(const inference::Engine& engine, const Evaluation& evaluation) {
  ordered_json out = ordered_json::array();
  for (const auto& strategy : evaluation.requested)
    out.push_back({{"id", strategy.id},
                   {"verdict", std::string(inference::VerdictName(strategy.verdict))},
                   {"requested", strategy.requested},
                   {"current", strategy.current},
                   {"reasons", ReasonsJson(engine, strategy)}});
  return out;
}

// {pathway, index} of a flux key: the model's own split (flux::ParseIndexKey) for its index keys;
// any other key (values given by hand) splits at its dot, or is a pathway's "value".
std::pair<std::string, std::string> SplitFluxKey(const std::string& key) {
  if (auto parsed = flux::ParseIndexKey(key))
    return {std::string(parsed->first), flux::IndexNames()[static_cast<size_t>(parsed->second)]};
  auto dot = key.find('.');
  if (dot == std::string::npos) return {key, "value"};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

ordered_json FluxJson(const inference::FluxValues& flux, const ReportOptions& options) {
  ordered_json out = ordered_json::object();
  for (const auto& [key, value] : flux.values) {
    auto [pathway, index] = SplitFluxKey(key);
    out[pathway][index] = std::round(value * 1e4) / 1e4;
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

// Data a practitioner can collect (a lab, a symptom, a questionnaire...), not a conclusion of the
// engine or a flux index of the model.
bool IsCaseData(const std::string& input) {
  for (const char* prefix : {"flux:", "fact:", "driver:", "deficit:", "alert:"})
    if (input.rfind(prefix, 0) == 0) return false;
  return true;
}

// One suggestion of next_best_data, merged over every conclusion it would decide.
struct NextData {
  double impact = 0;
  bool first_line = false;  // a lab of the basic work-up (knowledge `work_up`)
  std::vector<std::string> why;
};

// The case data an input of a why-not stands for: a derived index is never suggested on its own,
// only the input labs it is computed from that the case lacks.
std::vector<std::string> CollectableInputs(const knowledge::KnowledgeBase& kb, const casefile::Case& c,
                                           const std::string& input) {
  if (!input.starts_with("derived:")) return {input};
  const knowledge::Node* node = kb.Find(input.substr(std::string_view("derived:").size()));
  if (node == nullptr || !node->derived_index) return {};
  std::vector<std::string> labs;
  for (const auto& lab : node->derived_index->inputs) {
    const bool measured = std::any_of(c.labs.begin(), c.labs.end(),
                                      [&](const casefile::LabResult& r) { return r.test == lab && r.used && r.value; });
    if (!measured) labs.push_back("lab:" + lab);
  }
  return labs;
}

// Adds the case data that would decide `id` (a deficit, or a driver `behind` a deficit) to `entries`.
void AddDecidingInputs(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                       const ReportOptions& options, const std::string& id, const std::string& behind,
                       std::map<std::string, NextData>& entries) {
  auto why_not = explain::WhyNot(engine, c, evaluation, id, options.flux);
  if (!why_not.ok()) return;
  const double certainty = Round3(why_not->certainty);
  for (const auto& input : why_not->inputs) {
    if (Round3(input.impact) <= 0 || !IsCaseData(input.input)) continue;
    std::string text = "would decide " + Join(input.rules, ", ") + " for " + id + behind + " (now " +
                       Level(certainty) + ", " + FormatNumber(certainty, 3) + "; up to +" +
                       FormatNumber(Round3(input.impact), 3) + ")";
    if (input.input.starts_with("derived:"))
      text = std::string("an input of ").append(input.input, 8).append(", which ").append(text);
    for (const auto& collectable : CollectableInputs(engine.knowledge(), c, input.input)) {
      NextData& entry = entries[collectable];
      entry.impact = std::max(entry.impact, Round3(input.impact));
      entry.first_line = collectable.starts_with("lab:") && engine.knowledge().IsFirstLineLab(collectable.substr(4));
      if (std::find(entry.why.begin(), entry.why.end(), text) == entry.why.end()) entry.why.push_back(text);
    }
  }
}

// The drivers the rules of `deficit` name that are not yet likely: what a work-up would decide.
std::vector<std::string> UndecidedDrivers(const inference::Engine& engine, const Evaluation& evaluation,
                                          const std::string& deficit) {
  std::set<std::string> drivers;
  for (const rules::Rule* rule : engine.RulesConcluding(deficit))
    for (const auto& action : rule->actions)
      if (action.kind == rules::ActionKind::kSuggestDeficit && action.id == deficit)
        drivers.insert(action.ids.begin(), action.ids.end());
  std::vector<std::string> out;
  for (const auto& driver : drivers) {
    auto it = evaluation.drivers.find(driver);
    if (it == evaluation.drivers.end() || Level(Round3(it->second.certainty)) != "likely") out.push_back(driver);
  }
  return out;
}

// next_best_data (output.md): for the leading deficits, the data that would decide them and the
// drivers behind them; the basic work-up (first-line labs) first, then by impact, then by input.
ordered_json NextBestDataJson(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                              const std::vector<RankedDeficit>& ranked, const ReportOptions& options) {
  constexpr size_t kDeficitsConsidered = 5;
  std::map<std::string, NextData> entries;
  std::set<std::string> drivers_seen;
  for (size_t i = 0; i < ranked.size() && i < kDeficitsConsidered; ++i) {
    const std::string& deficit = ranked[i].conclusion->id;
    if (Level(ranked[i].certainty) != "likely") AddDecidingInputs(engine, c, evaluation, options, deficit, "", entries);
    for (const auto& driver : UndecidedDrivers(engine, evaluation, deficit))
      if (drivers_seen.insert(driver).second)
        AddDecidingInputs(engine, c, evaluation, options, driver, " behind " + deficit, entries);
  }
  std::vector<std::pair<std::string, NextData>> sorted(entries.begin(), entries.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second.first_line != b.second.first_line) return a.second.first_line;
    if (a.second.impact != b.second.impact) return a.second.impact > b.second.impact;
    return a.first < b.first;
  });
  if (sorted.size() > options.max_next_best_data) sorted.resize(options.max_next_best_data);
  ordered_json out = ordered_json::array();
  for (const auto& [input, entry] : sorted)
    out.push_back({{"input", input},
                   {"impact", entry.impact},
                   {"first_line", entry.first_line},
                   {"why", Join(entry.why, "; ")}});
  return out;
}

// ---------------------------------------------------------------------------------------------
// Text helpers over the JSON.

std::string Str(const ordered_json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return FormatNumber(value.get<double>(), 4);
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return value.dump();
}

std::string Field(const ordered_json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return "";
  return Str(object[key]);
}

std::vector<std::string> Wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string Upper(std::string text) {
  for (auto& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

std::string StringList(const ordered_json& array) {
  std::vector<std::string> items;
  if (array.is_array())
    for (const auto& item : array) items.push_back(Str(item));
  return Join(items, ", ");
}

std::string LabValue(const ordered_json& lab) {
  std::string text = Field(lab, "value");
  if (text.empty() && lab.contains("input")) text = Field(lab["input"], "value") + " " + Field(lab["input"], "unit");
  else text += " " + Field(lab, "unit");
  return text;
}

std::string Range(const ordered_json& range) {
  if (!range.is_object()) return "";
  std::string low = Field(range, "low"), high = Field(range, "high");
  if (low.empty() && high.empty()) return "";
  if (low.empty()) return "< " + high;
  if (high.empty()) return "> " + low;
  return low + "-" + high;
}

// prefix + text + suffix, or "" when text is empty.
std::string Affix(const char* prefix, const std::string& text, const char* suffix) {
  if (text.empty()) return "";
  std::string out = prefix;
  out += text;
  out += suffix;
  return out;
}

std::string Pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

const ordered_json& Get(const ordered_json& object, const char* key) {
  static const ordered_json kEmpty = ordered_json::array();
  if (!object.is_object() || !object.contains(key)) return kEmpty;
  return object[key];
}

// "PHQ-9 14 (moderate), item 9: 0", "MDQ positive", "GAD-7 total excluded": one questionnaire.
std::string QuestionnaireLine(const ordered_json& q) {
  std::string name = Field(q, "name").empty() ? Field(q, "id") : Field(q, "name");
  if (q.contains("result")) return name + " " + Field(q, "result");
  if (Field(q, "total").empty()) return name + " total excluded (see data quality)";
  std::string text = name + " " + Field(q, "total") + Affix(" (", Field(q, "band"), ")");
  if (q.contains("positive") && Field(q, "band").empty()) text += q["positive"].get<bool>() ? ", positive" : ", negative";
  if (!Field(q, "from").empty() && Field(q, "from") != "items") text += ", total as typed";
  for (const auto& [item, answer] : Get(q, "items_flagged").items()) text += ", item " + item + ": " + Str(answer);
  return text;
}

// "flux serotonin.synthesis = 0.5 (model 0.97)": one override.
std::string OverrideLine(const ordered_json& item) {
  std::string model = Field(item, "model_value");
  return Field(item, "kind") + " " + Field(item, "id") + " = " + Field(item, "value") +
         " (model " + (model.empty() ? "none" : model) + ")";
}

// "iron_deficiency  likely (0.85), feeds serotonin_synthesis, dopamine_synthesis": one driver.
std::string DriverLine(const ordered_json& driver) {
  std::string text = Field(driver, "id") + "  " + Field(driver, "level") + " (" + Field(driver, "certainty") + ")";
  if (!Get(driver, "feeds").empty()) text += ", feeds " + StringList(Get(driver, "feeds"));
  return text;
}

}  // namespace

Versions VersionsOf(const inference::Engine& engine) {
  return {NFLUX_VERSION, engine.knowledge().version(), engine.rule_base().version};
}

std::string TraceId(const Evaluation& evaluation) { return "sha256:" + Sha256Hex(evaluation.trace.ToJson().dump()); }

ordered_json EvaluationToJson(const inference::Engine& engine, const casefile::Case& c, const Evaluation& evaluation,
                              const Versions& versions, const ReportOptions& options) {
  std::vector<RankedDeficit> ranked = RankDeficits(evaluation);
  ordered_json out;
  out["case_id"] = c.case_id;
  out["versions"] = {{"engine", versions.engine}, {"knowledge", versions.knowledge}, {"rules", versions.rules}};
  out["alerts"] = AlertsJson(engine, evaluation);
  out["data_quality"] = InOrder(casefile::DataQualityToJson(c), {"path", "severity", "code", "message"});
  out["labs"] = InOrder(casefile::LabsToJson(c), {"test", "input", "value", "unit", "status", "reference",
                                                   "optimal_status", "optimal", "decision", "used"});
  out["derived"] = InOrder(casefile::DerivedToJson(c), {"id", "value", "unit", "from", "status"});
  out["questionnaires"] = QuestionnairesJson(engine, c);
  out["drivers"] = DriversJson(engine, evaluation);
  out["deficits"] = DeficitsJson(engine, evaluation, ranked);
  out["strategies"] = StrategiesJson(engine, evaluation, options);
  out["blocked_strategies"] = BlockedJson(engine, evaluation);
  out["requested_supplements"] = RequestedJson(engine, evaluation);
  out["flux"] = FluxJson(options.flux, options);
  out["next_best_data"] = NextBestDataJson(engine, c, evaluation, ranked, options);
  out["overrides"] = OverridesJson(options);
  out["trace_id"] = TraceId(evaluation);
  return out;
}

namespace {

// ---- The text report, one section per function.

constexpr size_t kBox = 76;  // width of the alert box's text

// Case, versions, and what the report is for.
void TextHeader(const ordered_json& report, std::ostream& out) {
  out << "NeuroFlux evaluation: " << Field(report, "case_id") << "\n";
  const auto& versions = Get(report, "versions");
  out << "engine " << Field(versions, "engine") << ", knowledge " << Field(versions, "knowledge").substr(0, 19)
      << ", rules " << Field(versions, "rules").substr(0, 19) << "\n";
  for (const auto& item : Get(report, "overrides"))
    out << "OVERRIDE (not from the case or the models): " << OverrideLine(item) << "\n";
  out << "Decision support for a qualified practitioner; not a diagnosis.\n\n";
}

// The boxed red flags and alerts, always shown.
void TextAlerts(const ordered_json& report, std::ostream& out) {
  const auto& alerts = Get(report, "alerts");
  std::string border = "+" + std::string(kBox + 2, '-') + "+\n";
  auto box_line = [&](const std::string& text) {
    out << "| " << text << std::string(text.size() < kBox ? kBox - text.size() : 0, ' ') << " |\n";
  };
  out << border;
  box_line(alerts.empty() ? "RED FLAGS / ALERTS: none raised" : "RED FLAGS / ALERTS (" + std::to_string(alerts.size()) + ")");
  for (const auto& alert : alerts) {
    box_line("");
    for (const auto& line : Wrap("[" + Upper(Field(alert, "severity")) + "] " + Field(alert, "id") + ": " +
                                     Field(alert, "message"),
                                 kBox))
      box_line(line);
    if (!Get(alert, "because").empty())
      for (const auto& line : Wrap("because: " + StringList(Get(alert, "because")), kBox - 2)) box_line("  " + line);
    for (const auto& citation : Get(alert, "citations"))
      for (const auto& line : Wrap("source: " + Str(citation), kBox - 2)) box_line("  " + line);
  }
  out << border << "\n";
}

// Data-quality issues, when there are any.
void TextDataQuality(const ordered_json& report, std::ostream& out) {
  const auto& quality = Get(report, "data_quality");
  if (!quality.empty()) {
    out << "DATA QUALITY\n";
    for (const auto& issue : quality)
      out << "  [" << Field(issue, "severity") << "] " << Field(issue, "path") << ": " << Field(issue, "message") << "\n";
    out << "\n";
  }
}

// The questionnaire scores, when there are any.
void TextQuestionnaires(const ordered_json& report, std::ostream& out) {
  const auto& questionnaires = Get(report, "questionnaires");
  if (questionnaires.empty()) return;
  out << "QUESTIONNAIRES\n";
  for (const auto& q : questionnaires) out << "  " << QuestionnaireLine(q) << "\n";
  out << "\n";
}

// The root causes (drivers) concluded, before the deficits they feed.
void TextDrivers(const ordered_json& report, std::ostream& out) {
  const auto& drivers = Get(report, "drivers");
  out << "ROOT CAUSES FOUND (" << drivers.size() << ")\n";
  if (drivers.empty()) out << "  none concluded\n";
  for (const auto& driver : drivers) {
    out << "  " << DriverLine(driver) << "\n";
    for (const auto& evidence : Get(driver, "evidence_for"))
      out << "     + " << Field(evidence, "text") << "  [rule " << Field(evidence, "rule") << "]\n";
  }
  out << "\n";
}

// Ranked deficits with drivers and evidence.
void TextDeficits(const ordered_json& report, std::ostream& out) {
  const auto& deficits = Get(report, "deficits");
  out << "DEFICITS (" << deficits.size() << ")\n";
  if (deficits.empty()) out << "  none concluded\n";
  for (const auto& deficit : deficits) {
    out << "  " << Field(deficit, "rank") << ". " << Field(deficit, "id") << "  " << Field(deficit, "level") << " ("
        << Field(deficit, "certainty") << ")\n";
    std::vector<std::string> drivers;
    for (const auto& driver : Get(deficit, "drivers")) drivers.push_back(Field(driver, "id") + " " + Field(driver, "weight"));
    if (!drivers.empty()) out << "     drivers: " << Join(drivers, ", ") << "\n";
    if (!Field(deficit, "calibration").empty()) out << "     " << Field(deficit, "calibration") << "\n";
    for (const char* side : {"evidence_for", "evidence_against"})
      for (const auto& evidence : Get(deficit, side)) {
        out << "     " << (std::string(side) == "evidence_for" ? "+ " : "- ") << Field(evidence, "text") << "  [rule "
            << Field(evidence, "rule") << Affix(", grade ", Field(evidence, "grade"), "") << "]\n";
        if (!Field(evidence, "citation").empty()) out << "         " << Field(evidence, "citation") << "\n";
      }
  }
  out << "\n";
}

// Ranked strategies with why, cautions and sources.
void TextStrategies(const ordered_json& report, std::ostream& out) {
  const auto& strategies = Get(report, "strategies");
  out << "STRATEGIES TO CONSIDER (" << strategies.size() << ")\n";
  if (strategies.empty()) out << "  none\n";
  for (const auto& strategy : strategies) {
    out << "  " << Field(strategy, "rank") << ". " << Field(strategy, "id") << " (" << Field(strategy, "kind") << ")";
    if (!Get(strategy, "for_deficits").empty()) out << " for " << StringList(Get(strategy, "for_deficits"));
    out << "\n";
    for (const auto& line : Wrap("score " + Field(strategy, "score") + ": " + Field(strategy, "rank_reason"), 70))
      out << "     " << line << "\n";
    for (const auto& line : Wrap(Field(strategy, "why"), 70)) out << "     " << line << "\n";
    for (const auto& caution : Get(strategy, "cautions")) out << "     CAUTION: " << Str(caution) << "\n";
    for (const auto& citation : Get(strategy, "citations")) out << "     source: " << Str(citation) << "\n";
  }
  out << "\n";
}

// " (requested)", " (taken)" or "" for a blocked or judged strategy.
std::string HowNamed(const ordered_json& strategy) {
  auto flag = [&](const char* key) { return Get(strategy, key).is_boolean() && strategy[key].get<bool>(); };
  return flag("requested") ? " (requested)" : flag("current") ? " (taken)" : "";
}

// Strategies blocked by a contraindication, when there are any.
void TextBlocked(const ordered_json& report, std::ostream& out) {
  const auto& blocked = Get(report, "blocked_strategies");
  if (!blocked.empty()) {
    out << "BLOCKED BY SAFETY (" << blocked.size() << ")\n";
    for (const auto& strategy : blocked) {
      out << "  " << Field(strategy, "id") << HowNamed(strategy) << "\n";
      for (const auto& reason : Get(strategy, "reasons")) {
        out << "     " << Field(reason, "severity") << ": " << Field(reason, "detail");
        if (!Field(reason, "alert").empty()) out << " (alert " << Field(reason, "alert") << ")";
        out << "\n";
        if (!Field(reason, "note").empty()) out << "         " << Field(reason, "note") << "\n";
        if (!Field(reason, "citation").empty()) out << "         " << Field(reason, "citation") << "\n";
      }
    }
    out << "\n";
  }
}

// The verdict on each requested supplement, when there are any.
void TextRequested(const ordered_json& report, std::ostream& out) {
  const auto& requested = Get(report, "requested_supplements");
  if (!requested.empty()) {
    out << "REQUESTED SUPPLEMENTS\n";
    for (const auto& item : requested) {
      out << "  " << Pad(Field(item, "id") + HowNamed(item), 40) << Field(item, "verdict") << "\n";
      for (const auto& reason : Get(item, "reasons")) out << "     " << Field(reason, "detail") << "\n";
    }
    out << "\n";
  }
}

// The data that would most change the conclusions, when there are any.
void TextNextBestData(const ordered_json& report, std::ostream& out) {
  const auto& next = Get(report, "next_best_data");
  if (!next.empty()) {
    out << "NEXT BEST DATA\n";
    for (const auto& item : next) {
      out << "  " << Pad(Field(item, "input"), 30) << "impact " << Field(item, "impact")
          << (Field(item, "first_line") == "yes" ? "  (basic work-up)" : "") << "\n";
      for (const auto& line : Wrap(Field(item, "why"), 70)) out << "     " << line << "\n";
    }
    out << "\n";
  }
}

// "below the iron-deficiency limit 30 [who_2020_ferritin]" from a lab's `decision`, or "".
std::string LabDecision(const ordered_json& lab) {
  const ordered_json& decision = Get(lab, "decision");
  if (!decision.is_object()) return "";
  std::string status = Field(decision, "status");
  std::string text = (status == "within" ? "within" : status) + " the " + Field(decision, "label") + " " +
                     Field(decision, "limit");
  return text + Affix(" [", Field(decision, "citation"), "]");
}

// The lab table and derived indices.
void TextLabs(const ordered_json& report, std::ostream& out) {
  const auto& labs = Get(report, "labs");
  out << "LABS (" << labs.size() << ")\n";
  if (!labs.empty()) {
    out << "  " << Pad("test", 24) << Pad("value", 18) << Pad("status", 9) << Pad("reference", 16) << "optimal\n";
    for (const auto& lab : labs) {
      std::string status = Field(lab, "status");
      if (Get(lab, "used").is_boolean() && !lab["used"].get<bool>()) status = "EXCLUDED";
      std::string optimal = Range(Get(lab, "optimal"));
      if (!optimal.empty()) optimal += " (" + Field(lab, "optimal_status") + ")";
      const std::string decision = LabDecision(lab);
      out << "  " << Pad(Field(lab, "test"), 24) << Pad(LabValue(lab), 18) << Pad(status, 9)
          << Pad(Range(Get(lab, "reference")), 16) << optimal << (optimal.empty() || decision.empty() ? "" : "; ")
          << decision << "\n";
    }
  }
  const auto& derived = Get(report, "derived");
  for (const auto& index : derived)
    out << "  " << Pad(Field(index, "id"), 24) << Pad(Field(index, "value") + " " + Field(index, "unit"), 18)
        << Pad(Field(index, "status"), 9) << "from " << StringList(Get(index, "from")) << "\n";
}

// ---- The Markdown report, one section per function.

// Case, versions, and what the report is for.
void MarkdownHeader(const ordered_json& report, std::ostream& out) {
  out << "# NeuroFlux evaluation: " << Field(report, "case_id") << "\n\n";
  const auto& versions = Get(report, "versions");
  out << "engine `" << Field(versions, "engine") << "`, knowledge `" << Field(versions, "knowledge") << "`, rules `"
      << Field(versions, "rules") << "`\n\n";
  if (!Get(report, "overrides").empty()) {
    out << "Overrides (not from the case or the models):\n\n";
    for (const auto& item : Get(report, "overrides")) out << "- " << OverrideLine(item) << "\n";
    out << "\n";
  }
  out << "> Decision support for a qualified practitioner; not a diagnosis.\n\n";
}

// Red flags and alerts, always shown.
void MarkdownAlerts(const ordered_json& report, std::ostream& out) {
  out << "## Red flags and alerts\n\n";
  const auto& alerts = Get(report, "alerts");
  if (alerts.empty()) out << "None raised.\n";
  for (const auto& alert : alerts) {
    out << "- **" << Upper(Field(alert, "severity")) << "** `" << Field(alert, "id") << "`: " << Field(alert, "message");
    if (!Get(alert, "because").empty()) out << " (because: " << StringList(Get(alert, "because")) << ")";
    out << "\n";
    for (const auto& citation : Get(alert, "citations")) out << "  - " << Str(citation) << "\n";
  }
  out << "\n";
}

// Data-quality issues, when there are any.
void MarkdownDataQuality(const ordered_json& report, std::ostream& out) {
  const auto& quality = Get(report, "data_quality");
  if (!quality.empty()) {
    out << "## Data quality\n\n";
    for (const auto& issue : quality)
      out << "- **" << Field(issue, "severity") << "** `" << Field(issue, "path") << "`: " << Field(issue, "message") << "\n";
    out << "\n";
  }
}

// The questionnaire scores, when there are any.
void MarkdownQuestionnaires(const ordered_json& report, std::ostream& out) {
  const auto& questionnaires = Get(report, "questionnaires");
  if (questionnaires.empty()) return;
  out << "## Questionnaires\n\n";
  for (const auto& q : questionnaires) out << "- " << QuestionnaireLine(q) << "\n";
  out << "\n";
}

// The root causes (drivers) concluded, before the deficits they feed.
void MarkdownDrivers(const ordered_json& report, std::ostream& out) {
  out << "## Root causes found\n\n";
  const auto& drivers = Get(report, "drivers");
  if (drivers.empty()) out << "None concluded.\n";
  for (const auto& driver : drivers) {
    out << "- `" << Field(driver, "id") << "`: " << Field(driver, "level") << " (" << Field(driver, "certainty") << ")";
    if (!Get(driver, "feeds").empty()) out << ", feeds " << StringList(Get(driver, "feeds"));
    out << "\n";
    for (const auto& evidence : Get(driver, "evidence_for"))
      out << "  - " << Field(evidence, "text") << " (rule `" << Field(evidence, "rule") << "`)\n";
  }
  out << "\n";
}

// Ranked deficits with drivers and evidence.
void MarkdownDeficits(const ordered_json& report, std::ostream& out) {
  out << "## Deficits\n\n";
  const auto& deficits = Get(report, "deficits");
  if (deficits.empty()) out << "None concluded.\n\n";
  for (const auto& deficit : deficits) {
    out << "### " << Field(deficit, "rank") << ". " << Field(deficit, "id") << ": " << Field(deficit, "level") << " ("
        << Field(deficit, "certainty") << ")\n\n";
    std::vector<std::string> drivers;
    for (const auto& driver : Get(deficit, "drivers")) {
      std::string text = "`";
      text += Field(driver, "id");
      text += "` ";
      text += Field(driver, "weight");
      drivers.push_back(std::move(text));
    }
    if (!drivers.empty()) out << "Drivers: " << Join(drivers, ", ") << "\n\n";
    if (!Field(deficit, "calibration").empty()) out << "*" << Field(deficit, "calibration") << "*\n\n";
    for (const char* side : {"evidence_for", "evidence_against"})
      for (const auto& evidence : Get(deficit, side))
        out << "- " << (std::string(side) == "evidence_for" ? "for: " : "against: ") << Field(evidence, "text")
            << " (rule `" << Field(evidence, "rule") << "`" << Affix("; grade ", Field(evidence, "grade"), "")
            << Affix("; ", Field(evidence, "citation"), "") << ")\n";
    out << "\n";
  }
}

// Ranked strategies with why, cautions and sources.
void MarkdownStrategies(const ordered_json& report, std::ostream& out) {
  out << "## Strategies to consider\n\n";
  const auto& strategies = Get(report, "strategies");
  if (strategies.empty()) out << "None.\n";
  for (const auto& strategy : strategies) {
    out << Field(strategy, "rank") << ". `" << Field(strategy, "id") << "` (" << Field(strategy, "kind") << "): "
        << Field(strategy, "why") << "\n";
    out << "   - Score " << Field(strategy, "score") << ": " << Field(strategy, "rank_reason") << "\n";
    for (const auto& caution : Get(strategy, "cautions")) out << "   - **Caution:** " << Str(caution) << "\n";
    for (const auto& citation : Get(strategy, "citations")) out << "   - " << Str(citation) << "\n";
  }
  out << "\n";
}

// Strategies blocked by a contraindication, when there are any.
void MarkdownBlocked(const ordered_json& report, std::ostream& out) {
  const auto& blocked = Get(report, "blocked_strategies");
  if (!blocked.empty()) {
    out << "## Blocked by safety\n\n";
    for (const auto& strategy : blocked) {
      out << "- `" << Field(strategy, "id") << "`"
          << (Get(strategy, "requested").is_boolean() && strategy["requested"].get<bool>() ? " (requested)" : "") << "\n";
      for (const auto& reason : Get(strategy, "reasons"))
        out << "  - " << Field(reason, "severity") << " contraindication with `" << Field(reason, "with") << "`"
            << Affix(" (alert `", Field(reason, "alert"), "`)")
            << Affix(": ", Field(reason, "citation"), "") << "\n";
    }
    out << "\n";
  }
}

// The verdict on each requested supplement, when there are any.
void MarkdownRequested(const ordered_json& report, std::ostream& out) {
  const auto& requested = Get(report, "requested_supplements");
  if (!requested.empty()) {
    out << "## Requested supplements\n\n| supplement | verdict |\n|---|---|\n";
    for (const auto& item : requested) out << "| `" << Field(item, "id") << "` | " << Field(item, "verdict") << " |\n";
    out << "\n";
  }
}

// The data that would most change the conclusions, when there are any.
void MarkdownNextBestData(const ordered_json& report, std::ostream& out) {
  const auto& next = Get(report, "next_best_data");
  if (!next.empty()) {
    out << "## Next best data\n\n";
    for (const auto& item : next)
      out << "- `" << Field(item, "input") << "` (impact " << Field(item, "impact")
          << (Field(item, "first_line") == "yes" ? ", basic work-up" : "") << "): " << Field(item, "why") << "\n";
    out << "\n";
  }
}

// The lab table and derived indices.
void MarkdownLabs(const ordered_json& report, std::ostream& out) {
  out << "## Labs\n\n| test | value | status | reference | optimal | decision limit |\n|---|---|---|---|---|---|\n";
  for (const auto& lab : Get(report, "labs")) {
    std::string status = Field(lab, "status");
    if (Get(lab, "used").is_boolean() && !lab["used"].get<bool>()) status = "excluded";
    std::string optimal = Range(Get(lab, "optimal"));
    if (!optimal.empty()) optimal += " (" + Field(lab, "optimal_status") + ")";
    out << "| `" << Field(lab, "test") << "` | " << LabValue(lab) << " | " << status << " | "
        << Range(Get(lab, "reference")) << " | " << optimal << " | " << LabDecision(lab) << " |\n";
  }
  for (const auto& index : Get(report, "derived"))
    out << "| `" << Field(index, "id") << "` (derived) | " << Field(index, "value") << " " << Field(index, "unit")
        << " | " << Field(index, "status") << " | | |\n";
}

}  // namespace

std::string EvaluationToText(const ordered_json& report) {
  std::ostringstream out;
  TextHeader(report, out);
  TextAlerts(report, out);
  TextDataQuality(report, out);
  TextQuestionnaires(report, out);
  TextDrivers(report, out);
  TextDeficits(report, out);
  TextStrategies(report, out);
  TextBlocked(report, out);
  TextRequested(report, out);
  TextNextBestData(report, out);
  TextLabs(report, out);
  out << "\ntrace " << Field(report, "trace_id") << "\n";
  return out.str();
}

std::string EvaluationToMarkdown(const ordered_json& report) {
  std::ostringstream out;
  MarkdownHeader(report, out);
  MarkdownAlerts(report, out);
  MarkdownDataQuality(report, out);
  MarkdownQuestionnaires(report, out);
  MarkdownDrivers(report, out);
  MarkdownDeficits(report, out);
  MarkdownStrategies(report, out);
  MarkdownBlocked(report, out);
  MarkdownRequested(report, out);
  MarkdownNextBestData(report, out);
  MarkdownLabs(report, out);
  out << "\ntrace `" << Field(report, "trace_id") << "`\n";
  return out.str();
}

}  // namespace nflux::report

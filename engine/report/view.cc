#include "report/view.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <sstream>

#include "base/text.h"
#include "report/report.h"

namespace nflux::report::view {
namespace {

using nlohmann::ordered_json;

// ---- Reading the JSON without throwing: a missing key reads as empty.

const ordered_json& Get(const ordered_json& object, const char* key) {
  static const ordered_json kEmpty = ordered_json::array();
  if (!object.is_object() || !object.contains(key) || object[key].is_null()) return kEmpty;
  return object[key];
}

std::string Str(const ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number()) return Number(value.get<double>());
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return "";
}

std::string Field(const ordered_json& object, const char* key) { return Str(Get(object, key)); }

double NumberField(const ordered_json& object, const char* key) {
  const ordered_json& value = Get(object, key);
  return value.is_number() ? value.get<double>() : 0;
}

bool Flag(const ordered_json& object, const char* key) {
  const ordered_json& value = Get(object, key);
  return value.is_boolean() && value.get<bool>();
}


void AddUnique(std::vector<std::string>& list, const std::string& item) {
  if (!item.empty() && std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

// What building the view needs at hand: the knowledge base, the case's labs and derived indices by
// id (evidence about a lab is rewritten from the lab itself), and the citations numbered so far.
struct Builder {
  const knowledge::KnowledgeBase& kb;
  std::map<std::string, const ordered_json*> labs, derived;
  View& view;

  // The number of a formatted citation; a new one gets the next number.
  int Cite(const std::string& text) {
    if (text.empty()) return 0;
    auto it = std::find(view.citations.begin(), view.citations.end(), text);
    if (it != view.citations.end()) return static_cast<int>(it - view.citations.begin()) + 1;
    view.citations.push_back(text);
    return static_cast<int>(view.citations.size());
  }
  // The number of a citation given by its knowledge key.
  int CiteKey(const std::string& key) {
    const knowledge::Citation* citation = kb.FindCitation(key);
    return Cite(citation ? citation->Format() : key);
  }
};

bool IsIdChar(char ch) { return std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.'; }

// A token of a sentence shown with labels: a knowledge id as its label, a flux key
// ("serotonin.synthesis") as "Serotonin synthesis", other snake_case words as words.
std::string TokenText(const knowledge::KnowledgeBase& kb, std::string token) {
  std::string tail;
  while (!token.empty() && token.back() == '.') {
    tail += '.';
    token.pop_back();
  }
  const bool id_like = token.find('_') != std::string::npos || kb.Find(token) != nullptr;
  if (auto dot = token.find('.'); dot != std::string::npos && dot > 0 && kb.Find(token.substr(0, dot)) &&
                                   !std::isdigit(static_cast<unsigned char>(token[0])))
    return Label(kb, token.substr(0, dot)) + " " + Words(token.substr(dot + 1)) + tail;
  if (token.find('_') != std::string::npos && kb.Find(token)) return Label(kb, token) + tail;
  return (id_like ? Words(token) : token) + tail;
}

// `text` with every snake_case id (and `own_id`, the evidence's subject) shown by its label.
std::string Humanize(const knowledge::KnowledgeBase& kb, const std::string& text, const std::string& own_id = "") {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (!IsIdChar(text[i]) || (i > 0 && (std::isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '/'))) {
      out += text[i++];
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsIdChar(text[end])) ++end;
    std::string token = text.substr(i, end - i);
    const bool own = !own_id.empty() && token == own_id && kb.Find(token) != nullptr;
    const bool inside_word = end < text.size() && (std::isalpha(static_cast<unsigned char>(text[end])));
    // A one-word lab id before its value ("from ferritin 18 ng/mL") is the lab, not an English word.
    const bool before_number =
        end + 1 < text.size() && text[end] == ' ' && std::isdigit(static_cast<unsigned char>(text[end + 1]));
    const knowledge::Node* node = before_number ? kb.Find(token) : nullptr;
    const bool measured_lab = node && node->kind == knowledge::NodeKind::kLab;
    out += inside_word ? token : own || measured_lab ? Label(kb, token) : TokenText(kb, token);
    i = end;
  }
  for (const auto& [ucum, human] : {std::pair<std::string, std::string>{"[IU]", "IU"}, {"{1.73 m2}", "1.73 m2"}})
    for (size_t at = out.find(ucum); at != std::string::npos; at = out.find(ucum, at)) out.replace(at, ucum.size(), human);
  return out;
}

// "lab:ferritin" as "Ferritin", "requested:precursor_5htp" as "5-HTP requested".
std::string InputLabel(const knowledge::KnowledgeBase& kb, const std::string& input) {
  auto colon = input.find(':');
  if (colon == std::string::npos) return Label(kb, input);
  const std::string kind = input.substr(0, colon), id = input.substr(colon + 1);
  if (kind == "requested") return Label(kb, id) + " requested";
  if (kind == "current") return Label(kb, id) + " taken";
  if (kind == "data_quality") return id.empty() ? "data quality" : "data quality " + id;
  if (kind == "patient") return Words(id);
  return Label(kb, id);
}

// "below the iron-deficiency limit 45 [3]"; a lab not beyond its limit "not below the ...": "within"
// the limit could be taken for inside the deficient range.
std::string DecisionText(Builder& b, const ordered_json& decision) {
  const std::string status = Field(decision, "status"), side = Field(decision, "side");
  return (status == "within" && !side.empty() ? "not " + side : status) + " the " + Field(decision, "label") + " " +
         Field(decision, "limit") + " " + CitationRefs({b.CiteKey(Field(decision, "citation"))});
}

// "Ferritin 16 ng/mL (entered 36 nmol/L): low; reference 15-150; below the iron-deficiency limit 45".
std::string LabLine(Builder& b, const ordered_json& lab, bool with_optimal) {
  std::string text = Label(b.kb, Field(lab, "test")) + " ";
  const std::string unit = HumanUnit(Field(lab, "unit"));
  const ordered_json& input = Get(lab, "input");
  const std::string entered = Field(input, "value") + " " + HumanUnit(Field(input, "unit"));
  if (Get(lab, "value").is_number()) {
    text += Field(lab, "value") + (unit.empty() ? "" : " " + unit);
    if (Field(input, "unit") != Field(lab, "unit") && !Field(input, "unit").empty())
      text += " (entered " + entered + ")";
  } else {
    text += entered;
  }
  std::vector<std::string> parts;
  if (!Flag(lab, "used") && Get(lab, "used").is_boolean()) parts.emplace_back("excluded");
  else if (!Field(lab, "status").empty()) parts.push_back(Field(lab, "status"));
  if (!RangeText(Get(lab, "reference")).empty()) parts.push_back("reference " + RangeText(Get(lab, "reference")));
  if (with_optimal && !RangeText(Get(lab, "optimal")).empty())
    parts.push_back("optimal " + RangeText(Get(lab, "optimal")) + " (" + Field(lab, "optimal_status") + ")");
  if (Get(lab, "decision").is_object()) parts.push_back(DecisionText(b, Get(lab, "decision")));
  if (Flag(lab, "critical")) parts.emplace_back("CRITICAL");
  return parts.empty() ? text : text + ": " + Join(parts, "; ");
}

// An evidence entry's text with labels; a lab's rebuilt from the lab (units as entered beside the
// canonical ones, one-sided ranges as "< 3").
std::string EvidenceText(Builder& b, const ordered_json& evidence) {
  const std::string kind = Field(evidence, "kind"), id = Field(evidence, "id");
  if (kind == "lab" && b.labs.count(id)) return LabLine(b, *b.labs[id], false);
  if (kind == "derived" && b.derived.count(id)) {
    const ordered_json& index = *b.derived[id];
    const std::string unit = HumanUnit(Field(index, "unit"));
    return Label(b.kb, id) + " " + Field(index, "value") + (unit.empty() ? "" : " " + unit) + " (" +
           Field(index, "status") + ")";
  }
  std::string text = Humanize(b.kb, Field(evidence, "text"), id);
  // "Protein intake 45 g/d": a lifestyle number with the unit its label's gloss held.
  const knowledge::Node* node = kind == "lifestyle" ? b.kb.Find(id) : nullptr;
  if (node && node->lifestyle && !node->lifestyle->unit.empty() && !text.empty() &&
      std::isdigit(static_cast<unsigned char>(text.back())))
    text += " " + HumanUnit(node->lifestyle->unit);
  return text;
}

std::vector<Evidence> EvidenceList(Builder& b, const ordered_json& entry) {
  std::vector<Evidence> out;
  for (const char* side : {"evidence_for", "evidence_against"})
    for (const auto& evidence : Get(entry, side)) {
      Evidence item;
      item.against = std::string(side) == "evidence_against";
      item.text = EvidenceText(b, evidence);
      item.rule = Field(evidence, "rule");
      item.grade = Field(evidence, "grade");
      item.citation = b.Cite(Field(evidence, "citation"));
      out.push_back(std::move(item));
    }
  return out;
}

void BuildHeader(const ordered_json& json, View& view) {
  view.case_id = Field(json, "case_id");
  const ordered_json& versions = Get(json, "versions");
  view.versions = report::VersionsText({Field(versions, "engine"), Field(versions, "knowledge"), Field(versions, "rules")});
  for (const auto& item : Get(json, "overrides")) {
    const std::string model = Field(item, "model_value");
    view.overrides.push_back(Field(item, "kind") + " " + Field(item, "id") + " = " + Field(item, "value") +
                             " (model " + (model.empty() ? "none" : model) + ")");
  }
  view.trace_id = Field(json, "trace_id");
}

void BuildAlerts(Builder& b, const ordered_json& json) {
  for (const auto& alert : Get(json, "alerts")) {
    Alert item{Field(alert, "id"), Field(alert, "severity"), Label(b.kb, Field(alert, "id")),
               Humanize(b.kb, Field(alert, "message")), {}, {}};
    for (const auto& input : Get(alert, "because")) AddUnique(item.because, InputLabel(b.kb, Str(input)));
    for (const auto& citation : Get(alert, "citations")) item.citations.push_back(b.Cite(Str(citation)));
    b.view.alerts.push_back(std::move(item));
  }
  for (const auto& issue : Get(json, "data_quality"))
    b.view.quality.push_back(
        {Field(issue, "severity"), Field(issue, "path"), Field(issue, "code"), Humanize(b.kb, Field(issue, "message"))});
}

void BuildQuestionnaires(Builder& b, const ordered_json& json) {
  for (const auto& q : Get(json, "questionnaires")) {
    const std::string id = Field(q, "id");
    std::string text;
    if (q.contains("result")) {
      text = Field(q, "result");
    } else if (Field(q, "total").empty()) {
      text = "total excluded (see data quality)";
    } else {
      text = Field(q, "total") + (Field(q, "band").empty() ? "" : " (" + Words(Field(q, "band")) + ")");
      if (q.contains("positive") && Field(q, "band").empty()) text += Flag(q, "positive") ? ", positive" : ", negative";
      if (Field(q, "from") == "total") text += ", total as typed";
      for (const auto& [number, answer] : Get(q, "items_flagged").items()) text += ", item " + number + ": " + Str(answer);
    }
    b.view.questionnaires.push_back({id, Label(b.kb, id), text});
  }
}

void BuildDrivers(Builder& b, const ordered_json& json) {
  for (const auto& driver : Get(json, "drivers")) {
    Driver item{Field(driver, "id"), Label(b.kb, Field(driver, "id")), Field(driver, "level"),
                NumberField(driver, "certainty"), {}, EvidenceList(b, driver)};
    for (const auto& deficit : Get(driver, "feeds")) item.feeds.push_back(Label(b.kb, Str(deficit)));
    b.view.drivers.push_back(std::move(item));
  }
}

// One line of why for a deficit: its drivers, then the first pieces of evidence for it.
std::string DeficitWhy(const Deficit& deficit) {
  std::vector<std::string> parts;
  for (const auto& [label, weight] : deficit.drivers) AddUnique(parts, label);
  for (const auto& evidence : deficit.evidence) {
    const bool told = std::any_of(parts.begin(), parts.end(),
                                  [&](const std::string& part) { return evidence.text.rfind(part, 0) == 0; });
    if (!evidence.against && !told && parts.size() < 4) AddUnique(parts, evidence.text.substr(0, evidence.text.find(':')));
  }
  if (parts.empty()) return deficit.calibration;
  return Join(parts, "; ");
}

void BuildDeficits(Builder& b, const ordered_json& json) {
  for (const auto& deficit : Get(json, "deficits")) {
    Deficit item;
    item.id = Field(deficit, "id");
    item.label = Label(b.kb, item.id);
    item.level = Field(deficit, "level");
    item.calibration = Field(deficit, "calibration");
    item.rank = static_cast<int>(NumberField(deficit, "rank"));
    item.certainty = NumberField(deficit, "certainty");
    for (const auto& driver : Get(deficit, "drivers"))
      item.drivers.emplace_back(Label(b.kb, Field(driver, "id")), NumberField(driver, "weight"));
    item.evidence = EvidenceList(b, deficit);
    for (const auto& rule : Get(deficit, "rules")) item.rules.push_back(Str(rule));
    item.why = DeficitWhy(item);
    b.view.deficits.push_back(std::move(item));
  }
}

// "Serotonin synthesis deficit (likely), ..." for the deficits a strategy addresses that the
// evaluation concluded; the ranking's reason when it addresses none of them.
std::string StrategyWhy(Builder& b, const ordered_json& strategy) {
  std::vector<std::string> addressed;
  for (const auto& id : Get(strategy, "for_deficits"))
    for (const auto& deficit : b.view.deficits)
      if (deficit.id == Str(id)) addressed.push_back(deficit.label + " (" + deficit.level + ")");
  const std::string reason = Humanize(b.kb, Field(strategy, "rank_reason"));
  std::string first = reason.substr(0, reason.find("; "));
  if (addressed.empty()) return first;
  std::string why = "for " + Join(addressed, ", ");
  if (first.rfind("corrects ", 0) == 0) why = first.substr(0, first.find(" (")) + "; " + why;
  return why;
}

// The largest predicted flux changes, labelled: "Serotonin synthesis +0.14".
std::vector<std::string> Effects(const knowledge::KnowledgeBase& kb, const ordered_json& strategy) {
  std::vector<std::pair<double, std::string>> changes;
  for (const auto& [key, change] : Get(strategy, "predicted_effect").items())
    if (change.is_number()) changes.emplace_back(change.get<double>(), key);
  std::stable_sort(changes.begin(), changes.end(),
                   [](const auto& x, const auto& y) { return std::fabs(x.first) > std::fabs(y.first); });
  std::vector<std::string> out;
  for (size_t i = 0; i < changes.size() && i < 3; ++i)
    out.push_back(TokenText(kb, changes[i].second) + " " + (changes[i].first >= 0 ? "+" : "") + Number(changes[i].first));
  return out;
}

void BuildStrategies(Builder& b, const ordered_json& json) {
  for (const auto& strategy : Get(json, "strategies")) {
    Strategy item;
    item.id = Field(strategy, "id");
    item.label = Label(b.kb, item.id);
    item.kind = Field(strategy, "kind");
    item.rank = static_cast<int>(NumberField(strategy, "rank"));
    item.score = NumberField(strategy, "score");
    for (const auto& caution : Get(strategy, "cautions")) item.cautions.push_back(Humanize(b.kb, Str(caution)));
    item.verdict = item.cautions.empty() ? "acceptable" : "acceptable with caution";
    item.why = StrategyWhy(b, strategy);
    item.rank_reason = Humanize(b.kb, Field(strategy, "rank_reason"));
    item.effects = Effects(b.kb, strategy);
    for (const auto& citation : Get(strategy, "citations")) item.citations.push_back(b.Cite(Str(citation)));
    b.view.strategies.push_back(std::move(item));
  }
}

std::string How(const ordered_json& strategy) {
  return Flag(strategy, "requested") ? "requested" : Flag(strategy, "current") ? "taken" : "";
}

// "Serotonin syndrome risk with Escitalopram": what blocks a strategy, or what its caution rests
// on, in one line.
std::string ReasonsSummary(const knowledge::KnowledgeBase& kb, const ordered_json& strategy) {
  std::vector<std::string> alerts, details;
  for (const auto& reason : Get(strategy, "reasons")) {
    AddUnique(alerts, Field(reason, "alert").empty() ? Field(reason, "severity") + " contraindication"
                                                     : Label(kb, Field(reason, "alert")));
    if (Field(reason, "detail") != Label(kb, Field(reason, "alert")))
      AddUnique(details, Humanize(kb, Field(reason, "detail")));
  }
  return Join(alerts, ", ") + (details.empty() ? "" : " with " + Join(details, ", "));
}

void BuildBlocked(Builder& b, const ordered_json& json) {
  for (const auto& strategy : Get(json, "blocked_strategies")) {
    Blocked item{Field(strategy, "id"), Label(b.kb, Field(strategy, "id")), How(strategy), {},
                 ReasonsSummary(b.kb, strategy)};
    for (const auto& reason : Get(strategy, "reasons")) {
      std::string text = Label(b.kb, Field(reason, "with"));
      if (!Field(reason, "detail").empty() && Field(reason, "detail") != text) text += " (" + Field(reason, "detail") + ")";
      if (!Field(reason, "note").empty()) text += ": " + Field(reason, "note");
      if (!Field(reason, "alert").empty()) text += " [alert: " + Label(b.kb, Field(reason, "alert")) + "]";
      item.reasons.push_back({Field(reason, "severity"), Humanize(b.kb, text), b.Cite(Field(reason, "citation"))});
    }
    b.view.blocked.push_back(std::move(item));
  }
  for (const auto& item : Get(json, "requested_supplements")) {
    const std::string verdict = Field(item, "verdict");
    b.view.requested.push_back({Field(item, "id"), Label(b.kb, Field(item, "id")), Words(verdict), How(item),
                                verdict == "blocked", Get(item, "reasons").empty() ? "" : ReasonsSummary(b.kb, item)});
  }
}

// One line of why for a next test: what it would decide ("Iron deficiency behind Serotonin
// synthesis deficit"), from the first reason the JSON gives.
std::string NextWhy(const knowledge::KnowledgeBase& kb, const std::string& why) {
  std::string first = why.substr(0, why.find("; would decide"));
  auto for_at = first.find(" for ");
  auto now_at = first.find(" (now ");
  if (for_at == std::string::npos) return Humanize(kb, first);
  std::string decided = first.substr(for_at + 5, now_at == std::string::npos ? std::string::npos : now_at - for_at - 5);
  std::string prefix = first.rfind("an input of ", 0) == 0 ? Humanize(kb, first.substr(0, first.find(", which"))) + "; " : "";
  const auto behind = decided.find(" behind ");
  if (behind == std::string::npos) return prefix + "decides " + Label(kb, decided);
  return prefix + "decides " + Label(kb, decided.substr(0, behind)) + " behind " + Label(kb, decided.substr(behind + 8));
}

void BuildNextTests(Builder& b, const ordered_json& json) {
  for (const auto& item : Get(json, "next_best_data"))
    b.view.next_tests.push_back({Field(item, "input"), InputLabel(b.kb, Field(item, "input")),
                                 NextWhy(b.kb, Field(item, "why")), NumberField(item, "impact"), Flag(item, "first_line")});
}

void BuildLabs(Builder& b, const ordered_json& json) {
  for (const auto& lab : Get(json, "labs")) {
    Lab item;
    item.id = Field(lab, "test");
    item.label = Label(b.kb, item.id);
    const std::string unit = HumanUnit(Field(lab, "unit"));
    const ordered_json& input = Get(lab, "input");
    item.value = Get(lab, "value").is_number() ? Field(lab, "value") + (unit.empty() ? "" : " " + unit) : "";
    if (item.value.empty() || Field(input, "unit") != Field(lab, "unit"))
      item.entered = Field(input, "value") + " " + HumanUnit(Field(input, "unit"));
    item.used = !Get(lab, "used").is_boolean() || Flag(lab, "used");
    item.status = item.used ? Field(lab, "status") : "excluded";
    if (Flag(lab, "critical")) item.status = "crit. " + item.status;  // fits the text table's column
    item.reference = RangeText(Get(lab, "reference"));
    if (!RangeText(Get(lab, "optimal")).empty())
      item.optimal = RangeText(Get(lab, "optimal")) + " (" + Field(lab, "optimal_status") + ")";
    if (Get(lab, "decision").is_object()) item.decision = DecisionText(b, Get(lab, "decision"));
    b.view.labs.push_back(std::move(item));
  }
  for (const auto& index : Get(json, "derived")) {
    const std::string unit = HumanUnit(Field(index, "unit"));
    Derived item{Field(index, "id"), Label(b.kb, Field(index, "id")), Field(index, "value") + (unit.empty() ? "" : " " + unit),
                 Field(index, "status"), {}};
    for (const auto& lab : Get(index, "from")) item.from.push_back(Label(b.kb, Str(lab)));
    b.view.derived.push_back(std::move(item));
  }
}

void BuildFlux(Builder& b, const ordered_json& json) {
  for (const auto& [id, indices] : Get(json, "flux").items()) {
    FluxRow row{id, Label(b.kb, id), {}, {}};
    for (const auto& [index, value] : indices.items())
      if (value.is_number()) row.values[index] = value.get<double>();
    for (const auto& input : Get(indices, "assumed")) AddUnique(row.assumed, InputLabel(b.kb, Str(input)));
    b.view.flux.push_back(std::move(row));
  }
}

// Fewer entries per summary list when the first screen would be too long: red flags are never cut.
void FitSummary(View& view) {
  // The text summary's lines as text.cc lays them out, an alert or an override counted as two
  // (its most): a bound, so that a summary within it fits.
  auto lines = [&view] {
    const SummaryLimits& l = view.limits;
    size_t n = 3 + 2 * view.overrides.size();  // title, disclaimer, versions
    n += 2 + 2 * view.alerts.size();           // a blank line, RED FLAGS
    if (!view.quality.empty())
      n += 1 + std::min(view.quality.size(), l.quality) + (view.quality.size() > l.quality ? 1 : 0);
    n += 1 + std::min(view.drivers.size(), l.drivers);
    n += 1 + 2 * std::min(view.deficits.size(), l.deficits) + 1 + 2 * std::min(view.strategies.size(), l.strategies);
    if (!view.blocked.empty()) n += 1 + view.blocked.size();
    const auto requested = NotBlocked(view.requested);
    if (!requested.empty()) ++n;
    for (size_t i = 0; i < requested.size() && i < l.requested; ++i) n += requested[i]->summary.empty() ? 1 : 2;
    if (!view.next_tests.empty()) n += 1 + std::min(view.next_tests.size(), l.next_tests);
    return n + 1;  // the blank line before the details
  };
  for (int round = 0; round < 4 && lines() > 40; ++round) {
    SummaryLimits& l = view.limits;
    for (size_t* limit : {&l.strategies, &l.deficits, &l.next_tests, &l.drivers, &l.quality, &l.requested})
      if (*limit > 2 && lines() > 40) --*limit;
  }
}

}  // namespace

View BuildView(const ordered_json& evaluation, const knowledge::KnowledgeBase& kb) {
  View view;
  Builder builder{kb, {}, {}, view};
  for (const auto& lab : Get(evaluation, "labs")) builder.labs.emplace(Field(lab, "test"), &lab);
  for (const auto& index : Get(evaluation, "derived")) builder.derived.emplace(Field(index, "id"), &index);
  BuildHeader(evaluation, view);
  BuildAlerts(builder, evaluation);
  BuildQuestionnaires(builder, evaluation);
  BuildDrivers(builder, evaluation);
  BuildDeficits(builder, evaluation);
  BuildStrategies(builder, evaluation);
  BuildBlocked(builder, evaluation);
  BuildNextTests(builder, evaluation);
  BuildLabs(builder, evaluation);
  BuildFlux(builder, evaluation);
  FitSummary(view);
  return view;
}

std::vector<const Requested*> NotBlocked(const std::vector<Requested>& requested) {
  std::vector<const Requested*> out;
  for (const auto& item : requested)
    if (!item.blocked) out.push_back(&item);
  // Those with a caution first: what a short summary must not cut.
  std::stable_partition(out.begin(), out.end(), [](const Requested* item) { return !item->summary.empty(); });
  return out;
}

std::string Label(const knowledge::KnowledgeBase& kb, const std::string& id) {
  const knowledge::Node* node = kb.Find(id);
  if (!node || node->label.empty()) return id;
  return WithoutParentheticals(node->label);
}

std::string HumanUnit(const std::string& unit) {
  if (unit == "1") return "";
  std::string out;
  for (char ch : unit) {
    if (ch == '[' || ch == ']' || ch == '{' || ch == '}') continue;
    out += ch == '_' ? ' ' : ch;
  }
  return out;
}

std::string RangeText(const ordered_json& range) {
  if (!range.is_object()) return "";
  const std::string low = Field(range, "low"), high = Field(range, "high");
  if (low.empty() && high.empty()) return "";
  if (low.empty()) return "< " + high;
  if (high.empty()) return "> " + low;
  return low + "-" + high;
}

std::string Number(double value) { return FormatNumber(value, 4); }

std::vector<std::string> Wrap(const std::string& text, size_t width, size_t first_width) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string word, line;
  width = std::max<size_t>(width, 1);
  auto limit = [&] { return lines.empty() && first_width ? first_width : width; };
  while (words >> word) {
    while (word.size() > limit()) {  // a word longer than a line (a URL) is cut
      if (!line.empty()) lines.push_back(std::move(line));
      line.clear();
      const size_t cut = limit();
      lines.push_back(word.substr(0, cut));
      word = word.substr(cut);
    }
    if (!line.empty() && line.size() + 1 + word.size() > limit()) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(line);
  return lines;
}

std::string Clip(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width > 3 ? width - 3 : 0) + "...";
}

std::string Words(std::string text) {
  std::replace(text.begin(), text.end(), '_', ' ');
  return text;
}

std::string CitationRefs(const std::vector<int>& numbers) {
  std::vector<std::string> parts;
  for (int n : numbers)
    if (n > 0 && std::find(parts.begin(), parts.end(), std::to_string(n)) == parts.end()) parts.push_back(std::to_string(n));
  return parts.empty() ? "" : "[" + Join(parts, ", ") + "]";
}

}  // namespace nflux::report::view

// Criteria ("the case shows X") and the safety payloads of nodes: implied conditions, medication
// class groups, alert gates and priorities, and the `when` of contraindication edges. Parsed here,
// checked against the loaded ids once every file is read; evaluated by engine/safety.
#include <set>

#include "base/json.h"
#include "base/text.h"
#include "knowledge/builder.h"

namespace nflux::knowledge {
namespace {

using nlohmann::json;
using Subject = Criterion::Subject;

// Subject keys of a criterion in `implied_by`, with the node kinds their id may name.
struct SubjectKey {
  const char* key;
  Subject subject;
  std::set<NodeKind> kinds;  // empty: not a node id
};
const std::vector<SubjectKey>& SubjectKeys() {
  static const std::vector<SubjectKey> keys = {
      {"lab", Subject::kLab, {NodeKind::kLab}},
      {"questionnaire", Subject::kQuestionnaire, {NodeKind::kQuestionnaire}},
      {"symptom", Subject::kSymptom, {NodeKind::kSymptom}},
      {"lifestyle", Subject::kLifestyle, {NodeKind::kLifestyleFactor}},
      {"medication", Subject::kMedication, {NodeKind::kMedication, NodeKind::kMedicationClass}},
      {"patient", Subject::kPatient, {}},
  };
  return keys;
}

const std::vector<std::string> kComparators = {"above", "below", "at_least", "item", "positive", "sex",
                                               "age_below", "age_at_least", "wording", "citations"};

// The subject an edge's target stands for.
std::optional<Subject> SubjectOfTarget(NodeKind kind) {
  switch (kind) {
    case NodeKind::kLab: return Subject::kLab;
    case NodeKind::kQuestionnaire: return Subject::kQuestionnaire;
    case NodeKind::kSymptom: return Subject::kSymptom;
    case NodeKind::kLifestyleFactor: return Subject::kLifestyle;
    case NodeKind::kMedication: case NodeKind::kMedicationClass: return Subject::kMedication;
    case NodeKind::kCondition: return Subject::kCondition;
    case NodeKind::kStrategy: return Subject::kStrategy;
    case NodeKind::kAlert: return Subject::kAlert;
    case NodeKind::kDriver: return Subject::kDriver;
    default: return std::nullopt;
  }
}

}  // namespace

// The comparators of a criterion; the subject is set by the caller.
void Builder::ReadComparators(const json& object, const SourceRef& at, Criterion& criterion) {
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, object, at.json_path);
  criterion.above = fields.OptionalNumber("above");
  criterion.below = fields.OptionalNumber("below");
  criterion.at_least = fields.OptionalNumber("at_least");
  if (std::optional<long long> item = fields.OptionalInteger("item")) criterion.item = static_cast<int>(*item);
  criterion.positive = fields.OptionalBool("positive").value_or(false);
  criterion.sex = fields.OptionalEnum<Sex>("sex");
  criterion.age_below = fields.OptionalNumber("age_below");
  criterion.age_at_least = fields.OptionalNumber("age_at_least");
  criterion.wording = fields.OptionalString("wording").value_or("");
  criterion.citations = fields.OptionalStringArray("citations").value_or(std::vector<std::string>{});
  if (!criterion.citations.empty())
    pending_citations_.push_back(PendingCitations{criterion.citations, at.file, JsonChild(at.json_path, "citations")});
  criterion.source = at;
}

// One entry of a condition's `implied_by`: exactly one subject key (or an age bound) and its
// comparators.
std::optional<Criterion> Builder::ParseImpliedBy(const json& object, const SourceRef& at) {
  if (!object.is_object()) {
    Report(at, R"(a criterion must be a JSON object such as {"lab": "egfr", "below": 30})");
    return std::nullopt;
  }
  std::vector<std::string> allowed = kComparators;
  for (const auto& key : SubjectKeys()) allowed.emplace_back(key.key);
  for (const auto& key : JsonReader::UnknownFields(object, allowed, true))
    Report(at.file, JsonChild(at.json_path, key), "unknown field " + SingleQuoted(key) + " in a criterion" + DidYouMean(key, allowed));
  Criterion criterion;
  ReadComparators(object, at, criterion);
  int subjects = 0;
  for (const auto& key : SubjectKeys()) {
    const json* value = JsonReader::Field(object, key.key);
    if (value == nullptr) continue;
    ++subjects;
    criterion.subject = key.subject;
    if (value->is_string()) criterion.id = value->get<std::string>();
    else Report(at.file, JsonChild(at.json_path, key.key), std::string("'") + key.key + "' must be an id");
  }
  if (subjects == 0 && (criterion.age_below || criterion.age_at_least)) {
    criterion.subject = Subject::kAge;
    ++subjects;
  }
  if (subjects != 1) {
    Report(at, "a criterion needs exactly one of: lab, questionnaire, symptom, lifestyle, medication, patient, "
               "age_below/age_at_least");
    return std::nullopt;
  }
  return criterion;
}

// The `when` of a contraindication edge: comparators only, the subject being the edge's target.
void Builder::ReadEdgeWhen(RawEdge& raw, const Node& target) {
  Edge& edge = raw.edge;
  if (edge.type != EdgeType::kContraindicatedWith) return;
  Criterion criterion;
  const std::string path = JsonChild(edge.source.json_path, "when");
  if (const json* when = JsonReader::Field(raw.json, "when")) {
    if (!when->is_object()) {
      Report(edge.source.file, path, "'when' must be an object of comparators such as {\"above\": 300}");
      return;
    }
    for (const auto& key : JsonReader::UnknownFields(*when, kComparators, true))
      Report(edge.source.file, JsonChild(path, key), "unknown field " + SingleQuoted(key) + " in 'when'" + DidYouMean(key, kComparators));
    ReadComparators(*when, SourceRef{edge.source.file, path}, criterion);
  }
  criterion.subject = SubjectOfTarget(target.kind).value_or(Subject::kCondition);
  criterion.id = target.id;
  criterion.source = SourceRef{edge.source.file, path};
  edge.when = std::move(criterion);
  CheckCriterion(*edge.when);
}

// The comparators fit the subject, and the id names a node of the right kind.
void Builder::CheckCriterion(const Criterion& criterion) {
  const SourceRef& at = criterion.source;
  auto kind_ok = [&](const std::set<NodeKind>& kinds) {
    auto it = node_index_.find(criterion.id);
    return it != node_index_.end() && kinds.count(nodes_[it->second].kind);
  };
  for (const auto& key : SubjectKeys()) {
    if (key.subject != criterion.subject || key.kinds.empty() || kind_ok(key.kinds)) continue;
    std::vector<std::string> ids;
    for (NodeKind kind : key.kinds) for (auto& id : IdsOf(kind)) ids.push_back(id);
    Report(at, std::string("unknown ") + key.key + " " + SingleQuoted(criterion.id) + DidYouMean(criterion.id, ids));
  }
  switch (criterion.subject) {
    case Subject::kLab:
      if (!criterion.above && !criterion.below) Report(at, "a lab criterion needs 'above' or 'below' (canonical unit)");
      break;
    case Subject::kQuestionnaire:
      if (!criterion.positive && !criterion.at_least)
        Report(at, "a questionnaire criterion needs 'positive': true or 'at_least' (with 'item' for one item)");
      break;
    case Subject::kPatient:
      if (criterion.id != "pregnant" && criterion.id != "lactating")
        Report(at, R"('patient' must be "pregnant" or "lactating", not )" + SingleQuoted(criterion.id));
      break;
    default:
      break;
  }
  if (criterion.item && criterion.subject != Subject::kQuestionnaire) Report(at, "'item' is only for questionnaires");
}

void Builder::ParseConditionCriteria(const json& node_json, const SourceRef& at, Condition& condition) {
  const json* list = JsonReader::Field(node_json, "implied_by");
  if (list == nullptr) return;
  const std::string path = JsonChild(at.json_path, "implied_by");
  if (!list->is_array()) {
    Report(at.file, path, "'implied_by' must be an array of criteria");
    return;
  }
  for (size_t i = 0; i < list->size(); ++i)
    if (auto criterion = ParseImpliedBy((*list)[i], SourceRef{at.file, JsonChild(path, i)}))
      condition.implied_by.push_back(std::move(*criterion));
}

void Builder::ParseMedicationClass(const json& node_json, const SourceRef& at, Node& node) {
  JsonReader reader = ReaderFor(at.file);
  MedicationClass medication_class;
  medication_class.atc = ObjectReader(reader, node_json, at.json_path).OptionalStringArray("atc").value_or(std::vector<std::string>{});
  node.medication_class = std::move(medication_class);
}

void Builder::ParseAlert(const json& node_json, const SourceRef& at, Node& node) {
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, node_json, at.json_path);
  Alert alert;
  std::set<std::string> severities;
  for (AlertSeverity severity : AllValues<AlertSeverity>()) severities.emplace(Name(severity));
  alert.default_severity = Parse<AlertSeverity>(RequireWord(node_json, at, node.kind, "default_severity", severities, false));
  if (std::optional<long long> priority = fields.OptionalInteger("priority")) alert.priority = static_cast<int>(*priority);
  if (const json* gates = fields.Field("gates")) {
    ObjectReader gate_fields(reader, *gates, fields.PathOf("gates"));
    gate_fields.RejectUnknownFields({"block", "caution", "reason"}, true);
    auto kinds = [&](const char* key) {
      std::vector<StrategyKind> out;
      const json* list = gate_fields.Field(key);
      if (list == nullptr || !reader.Array(*list, gate_fields.PathOf(key))) return out;
      for (size_t i = 0; i < list->size(); ++i)
        if (auto kind = reader.Enum<StrategyKind>((*list)[i], JsonChild(gate_fields.PathOf(key), i))) out.push_back(*kind);
      return out;
    };
    alert.gates.block = kinds("block");
    alert.gates.caution = kinds("caution");
    alert.gates.reason = gate_fields.OptionalString("reason").value_or("");
    if (alert.gates.reason.empty()) Report(at.file, gate_fields.PathOf("reason"), "'gates' needs a 'reason' shown with each verdict");
  }
  node.alert = std::move(alert);
}

void Builder::CheckCriteria() {
  for (const auto& node : nodes_) {
    if (node.condition)
      for (const auto& criterion : node.condition->implied_by) CheckCriterion(criterion);
    if (!node.lab) continue;
    for (const auto& range : node.lab->optimal)
      for (const auto& criterion : range.when) CheckCriterion(criterion);
    for (const auto& limit : node.lab->decision_limits)
      for (const auto& criterion : limit.when) CheckCriterion(criterion);
  }
}

}  // namespace nflux::knowledge

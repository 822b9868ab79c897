#include "knowledge/builder.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/json.h"
#include "base/sha256.h"
#include "base/text.h"
#include "knowledge/schema.h"

namespace nflux::knowledge {
namespace {

using nlohmann::json;

const std::set<std::string> kCommonNodeFields = {"id", "kind", "label", "description", "citations",
                                                 "synonyms", "certainty", "note"};
const std::set<std::string> kEdgeFields = {"from",   "type",           "to",     "sign",     "weight",
                                           "role",   "severity",       "alert",  "unless",   "when",
                                           "alert_severity", "evidence", "certainty", "note", "citations"};
const std::set<std::string> kCitationFields = {"kind", "title", "authors", "source", "year", "pmid", "pmcid",
                                               "doi", "reactome", "isbn", "note", "verified", "url",
                                               "grade", "claim"};
const std::set<std::string> kCertainties = {"high", "moderate", "low"};
const std::set<std::string> kVerified = {"checked", "textbook", "uncertain"};

// "a lab", "an enzyme".
std::string Article(std::string_view noun) {
  // Vowel sounds, including numbers said with one ("an 80-year-old", "an 18-year-old").
  bool vowel = !noun.empty() && (std::string_view("aeiou8").find(noun[0]) != std::string_view::npos ||
                                 noun.substr(0, 2) == "11" || noun.substr(0, 2) == "18");
  return (vowel ? "an " : "a ") + std::string(noun);
}

std::string Join(const std::set<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : ", ") + word;
  return text;
}

bool IsComment(const std::string& key) { return !key.empty() && key[0] == '_'; }

std::string JsonChild(const std::string& path, const std::string& key) { return path + "/" + key; }
std::string JsonChild(const std::string& path, size_t index) { return path + "/" + std::to_string(index); }

// Reads an optional array of strings; reports a problem and returns false when it is not one.
bool StringArray(const json& parent, const char* field, std::vector<std::string>* out, std::string* error) {
  out->clear();
  if (!parent.contains(field)) return true;
  const json& value = parent.at(field);
  if (!value.is_array()) {
    *error = std::string("'") + field + "' must be an array of strings";
    return false;
  }
  for (const auto& item : value) {
    if (!item.is_string()) {
      *error = std::string("'") + field + "' must be an array of strings";
      return false;
    }
    out->push_back(item.get<std::string>());
  }
  return true;
}

std::optional<double> OptionalNumber(const json& parent, const char* field) {
  if (!parent.contains(field) || parent.at(field).is_null() || !parent.at(field).is_number()) return std::nullopt;
  return parent.at(field).get<double>();
}

std::vector<std::string> KeysOf(const std::set<std::string>& a, const std::set<std::string>& b = {}) {
  std::vector<std::string> keys(a.begin(), a.end());
  keys.insert(keys.end(), b.begin(), b.end());
  return keys;
}

}  // namespace

Builder::Builder(std::vector<Problem>* problems) : problems_(problems) {}

void Builder::Report(const SourceRef& at, const std::string& message) {
  problems_->push_back(Problem{at.file, at.json_path, message});
}

void Builder::Report(const std::string& file, const std::string& json_path, const std::string& message) {
  problems_->push_back(Problem{file, json_path, message});
}

bool Builder::AddFile(const SourceFile& file) {
  StrictJson parsed = ParseJsonStrict(file.text);
  if (parsed.syntax_error) {
    problems_->push_back(Problem{file.path, "", "invalid JSON: " + parsed.syntax_error->message,
                                parsed.syntax_error->line, parsed.syntax_error->column});
    return false;
  }
  // A key given twice would silently drop the first value: report it instead.
  for (const auto& path : parsed.duplicate_keys)
    Report(file.path, path, "duplicate key " + SingleQuoted(path.substr(path.rfind('/') + 1)) + ": the earlier value would be lost");
  json document = std::move(parsed.value);
  std::string name = file.path.substr(file.path.find_last_of('/') + 1);
  if (name == "vocabulary.json") {
    vocabulary_ = std::move(document);
    vocabulary_file_ = file.path;
    return true;
  }
  if (!document.is_object()) {
    Report(file.path, "", "a knowledge file must be a JSON object with 'nodes', 'edges' and/or 'citations'");
    return true;
  }
  for (const auto& [key, value] : document.items()) {
    if (IsComment(key)) continue;
    if (key == "nodes" || key == "edges") {
      if (!value.is_array()) {
        Report(file.path, "/" + key, SingleQuoted(key) + " must be an array");
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        SourceRef at{file.path, JsonChild("/" + key, i)};
        if (key == "nodes") ParseNode(value[i], at);
        else ParseEdge(value[i], at);
      }
    } else if (key == "citations") {
      if (!value.is_object()) {
        Report(file.path, "/citations", "'citations' must be an object keyed by citation key");
        continue;
      }
      for (const auto& [citation_key, citation] : value.items())
        ParseCitation(citation_key, citation, SourceRef{file.path, "/citations/" + citation_key});
    } else if (key == "work_up") {
      ParseWorkUp(value, SourceRef{file.path, "/work_up"});
    } else {
      Report(file.path, "/" + key,
             "unknown top-level key " + SingleQuoted(key) + DidYouMean(key, {"nodes", "edges", "citations", "work_up"}) +
                 "; a knowledge file has 'nodes', 'edges', 'citations' and 'work_up'");
    }
  }
  return true;
}

// The basic work-up ({"first_line": [lab ids], "citations": [...], "note": ...}): the labs a
// clinician orders first, which next-best-data suggests before second-line tests.
void Builder::ParseWorkUp(const json& value, const SourceRef& at) {
  if (!value.is_object()) return Report(at, "'work_up' must be an object with 'first_line' and 'citations'");
  for (const auto& [key, item] : value.items())
    if (!IsComment(key) && key != "first_line" && key != "citations" && key != "note")
      Report(at.file, JsonChild(at.json_path, key), "unknown field " + SingleQuoted(key) + " in 'work_up'" +
                                                        DidYouMean(key, {"first_line", "citations", "note"}));
  std::vector<std::string> labs, citations;
  std::string error;
  if (!StringArray(value, "first_line", &labs, &error) || labs.empty())
    Report(at.file, JsonChild(at.json_path, "first_line"), error.empty() ? "'first_line' needs at least one lab id" : error);
  if (!StringArray(value, "citations", &citations, &error) || citations.empty())
    Report(at.file, JsonChild(at.json_path, "citations"),
           error.empty() ? "missing citation: the work-up must cite at least one source" : error);
  CheckCitationKeys(citations, at, "citations");
  for (size_t i = 0; i < labs.size(); ++i) {
    pending_labs_.push_back(PendingLab{labs[i], at.file, JsonChild(JsonChild(at.json_path, "first_line"), i)});
    if (std::find(first_line_labs_.begin(), first_line_labs_.end(), labs[i]) == first_line_labs_.end())
      first_line_labs_.push_back(labs[i]);
  }
  work_up_json_ = value;
}

// A node: its common header, its fields, then the payload its kind carries.
void Builder::ParseNode(const json& node_json, const SourceRef& at) {
  if (!node_json.is_object()) {
    Report(at, "a node must be a JSON object");
    return;
  }
  Node node;
  node.source = at;
  node.data = node_json;
  if (!ReadNodeHeader(node_json, at, node)) return;
  CheckNodeFields(node_json, at, node);
  ParsePayload(node_json, at, node);
  CheckNodeArrays(node_json, at);
  AddNode(std::move(node));
}

JsonReader Builder::ReaderFor(const std::string& file) {
  return JsonReader([this, file](const std::string& path, const std::string& message) { Report(file, path, message); });
}

// id, kind, label, description and citations; false when the node cannot be used.
bool Builder::ReadNodeHeader(const json& node_json, const SourceRef& at, Node& node) {
  bool ok = true;
  auto text_field = [&](const char* field, std::string* out) {
    if (!node_json.contains(field) || !node_json.at(field).is_string() ||
        node_json.at(field).get<std::string>().empty()) {
      Report(at.file, JsonChild(at.json_path, field), std::string("missing or empty '") + field + "'");
      ok = false;
      return;
    }
    *out = node_json.at(field).get<std::string>();
  };
  text_field("id", &node.id);
  if (!node.id.empty() && !IsSnakeCaseId(node.id)) {
    Report(at.file, JsonChild(at.json_path, "id"), "id " + SingleQuoted(node.id) + " is not snake_case ([a-z][a-z0-9_]*)");
    ok = false;
  }
  std::string kind_name;
  text_field("kind", &kind_name);
  if (!kind_name.empty()) {
    if (auto kind = ParseKind(kind_name)) {
      node.kind = *kind;
    } else {
      std::vector<std::string> names;
      for (auto k : AllKinds()) names.emplace_back(KindName(k));
      Report(at.file, JsonChild(at.json_path, "kind"), "unknown node kind " + SingleQuoted(kind_name) + DidYouMean(kind_name, names));
      ok = false;
    }
  }
  text_field("label", &node.label);
  text_field("description", &node.description);
  std::string error;
  if (!StringArray(node_json, "citations", &node.citations, &error))
    Report(at.file, JsonChild(at.json_path, "citations"), error);
  return ok;
}

// No field the kind does not know; a known certainty; a citation where the kind needs one.
void Builder::CheckNodeFields(const json& node_json, const SourceRef& at, const Node& node) {
  const auto& allowed = FieldsFor(node.kind);
  for (const auto& [key, value] : node_json.items()) {
    if (IsComment(key) || kCommonNodeFields.count(key) || allowed.count(key)) continue;
    Report(at.file, JsonChild(at.json_path, key),
           "unknown field " + SingleQuoted(key) + " for " + Article(KindName(node.kind)) + " node" +
               DidYouMean(key, KeysOf(kCommonNodeFields, allowed)));
  }
  if (node_json.contains("certainty") &&
      (!node_json["certainty"].is_string() || !kCertainties.count(node_json["certainty"].get<std::string>())))
    Report(at.file, JsonChild(at.json_path, "certainty"), "certainty must be one of: high, moderate, low");
  if (KindNeedsCitation(node.kind) && node.citations.empty())
    Report(at.file, JsonChild(at.json_path, "citations"),
           "missing citation: " + Article(KindName(node.kind)) + " node must cite at least one source");
}

// The text of a field the kind requires ("a medication node needs 'atc'"), or "".
std::string Builder::RequireString(const json& node_json, const SourceRef& at, NodeKind kind, const char* field) {
  if (!node_json.contains(field) || !node_json.at(field).is_string() || node_json.at(field).get<std::string>().empty()) {
    Report(at.file, JsonChild(at.json_path, field), Article(KindName(kind)) + " node needs '" + field + "'");
    return "";
  }
  return node_json.at(field).get<std::string>();
}

// A word from `values` ("'phase' must be one of: ..."), or "" when absent or not one of them.
std::string Builder::RequireWord(const json& node_json, const SourceRef& at, NodeKind kind, const char* field,
                                 const std::set<std::string>& values, bool required) {
  if (!node_json.contains(field)) {
    if (required)
      Report(at.file, JsonChild(at.json_path, field),
             Article(KindName(kind)) + " node needs '" + field + "' (" + Join(values) + ")");
    return "";
  }
  const json& value = node_json.at(field);
  if (!value.is_string() || !values.count(value.get<std::string>())) {
    Report(at.file, JsonChild(at.json_path, field), std::string("'") + field + "' must be one of: " + Join(values));
    return "";
  }
  return value.get<std::string>();
}

// Every word of an enum's name table, for RequireWord.
template <typename E>
std::set<std::string> WordsOf() {
  std::set<std::string> words;
  for (E value : AllValues<E>()) words.emplace(Name(value));
  return words;
}

void Builder::ParsePayload(const json& node_json, const SourceRef& at, Node& node) {
  switch (node.kind) {
    case NodeKind::kEnzyme:
      if (!node_json.contains("cofactors"))
        Report(at.file, JsonChild(at.json_path, "cofactors"),
               "enzyme " + SingleQuoted(node.id) + " does not list its cofactors (add \"cofactors\": [] if it needs none)");
      break;
    case NodeKind::kPathwayStep: ParsePathwayStep(node_json, at); break;
    case NodeKind::kMedication: ParseMedication(node_json, at, node); break;
    case NodeKind::kCondition: ParseCondition(node_json, at, node); break;
    case NodeKind::kStrategy: {
      std::string kind = RequireWord(node_json, at, node.kind, "strategy_kind", WordsOf<StrategyKind>(), true);
      JsonReader reader = ReaderFor(at.file);
      std::optional<long long> priority = ObjectReader(reader, node_json, at.json_path).OptionalInteger("priority");
      node.strategy = Strategy{Parse<StrategyKind>(kind).value_or(StrategyKind::kOther),
                               priority ? std::optional<int>(static_cast<int>(*priority)) : std::nullopt};
      break;
    }
    case NodeKind::kMedicationClass: ParseMedicationClass(node_json, at, node); break;
    case NodeKind::kAlert: {
      ParseAlert(node_json, at, node);
      break;
    }
    case NodeKind::kLifestyleFactor: ParseLifestyleFactor(node_json, at, node); break;
    case NodeKind::kDerivedIndex: ParseDerivedIndex(node_json, at, node); break;
    case NodeKind::kLab: ParseLab(node_json, at, node); break;
    case NodeKind::kQuestionnaire: ParseQuestionnaire(node_json, at, node); break;
    default: break;
  }
}

void Builder::ParsePathwayStep(const json& node_json, const SourceRef& at) {
  RequireString(node_json, at, NodeKind::kPathwayStep, "pathway");
  RequireWord(node_json, at, NodeKind::kPathwayStep, "phase",
              {"transport", "synthesis", "storage", "release", "reuptake", "breakdown", "recycling"}, true);
  if (node_json.contains("rate_limiting") && !node_json["rate_limiting"].is_boolean())
    Report(at.file, JsonChild(at.json_path, "rate_limiting"), "'rate_limiting' must be true or false");
  for (const char* field : {"substrates", "products"})
    if (!node_json.contains(field))
      Report(at.file, JsonChild(at.json_path, field), std::string("a pathway_step needs '") + field + "'");
}

void Builder::ParseMedication(const json& node_json, const SourceRef& at, Node& node) {
  Medication medication;
  medication.atc = RequireString(node_json, at, node.kind, "atc");
  std::string error;
  StringArray(node_json, "classes", &medication.classes, &error);  // reported by CheckNodeArrays
  JsonReader reader = ReaderFor(at.file);
  medication.rxnorm = ObjectReader(reader, node_json, at.json_path).OptionalString("rxnorm").value_or("");
  node.medication = std::move(medication);
}

void Builder::ParseCondition(const json& node_json, const SourceRef& at, Node& node) {
  Condition condition;
  condition.icd10 = RequireString(node_json, at, node.kind, "icd10");
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, node_json, at.json_path);
  condition.case_stressor = fields.OptionalBool("case_stressor").value_or(false);
  condition.snomed = fields.OptionalStringArray("snomed").value_or(std::vector<std::string>{});
  ParseConditionCriteria(node_json, at, condition);
  node.condition = std::move(condition);
}

void Builder::ParseLifestyleFactor(const json& node_json, const SourceRef& at, Node& node) {
  LifestyleFactor factor;
  std::string type = RequireWord(node_json, at, node.kind, "value_type", WordsOf<LifestyleValueType>(), true);
  factor.value_type = Parse<LifestyleValueType>(type).value_or(LifestyleValueType::kNumber);
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, node_json, at.json_path);
  factor.min = fields.OptionalNumber("min");
  factor.max = fields.OptionalNumber("max");
  factor.unit = fields.OptionalString("unit").value_or("");
  factor.values = fields.OptionalStringArray("values").value_or(std::vector<std::string>{});
  if (factor.min && factor.max && *factor.min > *factor.max)
    Report(at.file, fields.PathOf("min"), "min " + FormatNumber(*factor.min) + " is above max " + FormatNumber(*factor.max));
  if (factor.value_type == LifestyleValueType::kEnum && factor.values.empty())
    Report(at.file, fields.PathOf("values"), "an enum lifestyle factor needs 'values' (the allowed words)");
  node.lifestyle = std::move(factor);
}

void Builder::ParseDerivedIndex(const json& node_json, const SourceRef& at, Node& node) {
  DerivedIndex index;
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, node_json, at.json_path);
  index.inputs = fields.OptionalStringArray("inputs").value_or(std::vector<std::string>{});
  if (index.inputs.empty()) Report(at.file, fields.PathOf("inputs"), "a derived_index needs 'inputs' (lab ids)");
  for (size_t i = 0; i < index.inputs.size(); ++i)
    pending_labs_.push_back(PendingLab{index.inputs[i], at.file, JsonChild(fields.PathOf("inputs"), i)});
  index.unit = fields.RequiredString("unit").value_or("");
  index.high_above = fields.RequiredNumber("high_above").value_or(0);
  node.derived_index = std::move(index);
}

// Arrays of ids that become generated edges must be arrays of strings.
void Builder::CheckNodeArrays(const json& node_json, const SourceRef& at) {
  for (const char* field : {"substrates", "products", "enzymes", "cofactors", "classes", "synonyms"}) {
    std::vector<std::string> ignored;
    std::string error;
    if (!StringArray(node_json, field, &ignored, &error)) Report(at.file, JsonChild(at.json_path, field), error);
  }
}

void Builder::AddNode(Node node) {
  auto [it, inserted] = node_index_.emplace(node.id, nodes_.size());
  if (!inserted) {
    const auto& first = nodes_[it->second].source;
    Report(node.source.file, JsonChild(node.source.json_path, "id"),
           "duplicate id " + SingleQuoted(node.id) + " (first defined at " + first.file + ":" + first.json_path + ")");
    return;
  }
  nodes_.push_back(std::move(node));
}

bool Builder::ParseRanges(const json& ranges, const SourceRef& at, const units::Analyte& analyte,
                          std::vector<LabRange>* out) {
  if (!ranges.is_array()) {
    Report(at, "ranges must be an array of objects");
    return false;
  }
  for (size_t i = 0; i < ranges.size(); ++i) ParseRange(ranges[i], JsonChild(at.json_path, i), at.file, analyte, out);
  return true;
}

// One range; added to `out` when it is usable.
void Builder::ParseRange(const json& r, const std::string& path, const std::string& file, const units::Analyte& analyte,
                         std::vector<LabRange>* out) {
  const SourceRef at{file, path};
  static const std::set<std::string> kRangeFields = {"sex", "age_min", "age_max", "pregnant", "low", "high",
                                                     "unit", "certainty", "citations", "note", "when"};
  if (!r.is_object()) {
    Report(at.file, path, "a range must be an object");
    return;
  }
  LabRange range;
  bool ok = true;
  for (const auto& [key, value] : r.items()) {
    if (IsComment(key) || kRangeFields.count(key)) continue;
    Report(at.file, JsonChild(path, key),
           "unknown field " + SingleQuoted(key) + " in a range" + DidYouMean(key, KeysOf(kRangeFields)));
  }
  for (const char* field : {"age_min", "age_max", "low", "high"}) {
    if (r.contains(field) && !r[field].is_null() && !r[field].is_number()) {
      Report(at.file, JsonChild(path, field), std::string("'") + field + "' must be a number");
      ok = false;
    }
  }
  if (r.contains("sex")) {
    const std::string sex = r["sex"].is_string() ? r["sex"].get<std::string>() : "";
    range.sex = Parse<Sex>(sex);
    if (sex != "any" && !range.sex) {
      Report(at.file, JsonChild(path, "sex"), "'sex' must be one of: any, female, male");
      ok = false;
    }
  }
  if (r.contains("pregnant")) {
    if (!r["pregnant"].is_boolean()) {
      Report(at.file, JsonChild(path, "pregnant"), "'pregnant' must be true or false");
      ok = false;
    } else {
      range.pregnant = r["pregnant"].get<bool>();
    }
  }
  if (r.contains("certainty") && (!r["certainty"].is_string() || !kCertainties.count(r["certainty"].get<std::string>()))) {
    Report(at.file, JsonChild(path, "certainty"), "certainty must be one of: high, moderate, low");
  } else if (r.contains("certainty")) {
    range.certainty = r["certainty"].get<std::string>();
  }
  std::string error;
  if (!StringArray(r, "citations", &range.citations, &error)) Report(at.file, JsonChild(path, "citations"), error);
  CheckCitationKeys(range.citations, SourceRef{at.file, path}, "citations");
  range.when = ParseWhenList(r, at);
  if (!ok) return;
  range.age_min = OptionalNumber(r, "age_min");
  range.age_max = OptionalNumber(r, "age_max");
  range.low = OptionalNumber(r, "low");
  range.high = OptionalNumber(r, "high");
  if (!range.low && !range.high) {
    Report(at.file, path, "a range needs 'low', 'high' or both");
    return;
  }
  if (r.contains("unit")) {
    std::string unit = r["unit"].is_string() ? r["unit"].get<std::string>() : "";
    for (auto* bound : {&range.low, &range.high}) {
      if (!*bound) continue;
      auto converted = units::Convert(**bound, unit, analyte.canonical_unit, &analyte);
      if (!converted.ok()) {
        Report(at.file, JsonChild(path, "unit"), converted.status().message());
        ok = false;
        break;
      }
      *bound = *converted;
    }
    if (!ok) return;
  }
  if (range.low && range.high && *range.low > *range.high)
    Report(at.file, path, "range low " + FormatNumber(*range.low) + " is above high " + FormatNumber(*range.high));
  if (range.age_min && range.age_max && *range.age_min >= *range.age_max)
    Report(at.file, path, "age_min must be below age_max");
  out->push_back(std::move(range));
}

// A lab: its codes, its units (canonical, conversions, accepted), its ranges and its limits.
void Builder::ParseLab(const json& node_json, const SourceRef& at, Node& node) {
  Lab lab;
  ReadLabCodes(node_json, at, node, lab);
  lab.analyte.id = node.id;
  if (!ReadCanonicalUnit(node_json, at, lab)) return;
  if (node_json.contains("conversions")) ReadConversions(node_json["conversions"], at, lab);
  ReadAcceptedUnits(node_json, at, lab);
  ReadLabRanges(node_json, at, node, lab);
  ReadDecisionLimits(node_json, at, lab);
  ReadLabLimits(node_json, at, lab);
  lab.to_canonical = std::make_shared<const units::CanonicalConverters>(lab.analyte);
  node.lab = std::move(lab);
}

void Builder::ReadLabCodes(const json& node_json, const SourceRef& at, const Node& node, Lab& lab) {
  auto path = [&](const std::string& field) { return JsonChild(at.json_path, field); };
  if (node_json.contains("loinc") && node_json["loinc"].is_string()) lab.loinc = node_json["loinc"].get<std::string>();
  if (node_json.contains("loinc_certainty")) {
    // "none": no code could be verified; the lab then carries no LOINC rather than a guessed one.
    std::set<std::string> allowed = kVerified;
    allowed.insert("none");
    const auto& value = node_json["loinc_certainty"];
    if (!value.is_string() || !allowed.count(value.get<std::string>()))
      Report(at.file, path("loinc_certainty"), "'loinc_certainty' must be one of: " + Join(allowed));
    else
      lab.loinc_certainty = value.get<std::string>();
  }
  if (lab.loinc.empty() && lab.loinc_certainty != "none")
    Report(at.file, path("loinc"), "lab " + SingleQuoted(node.id) + R"( has no LOINC code (if none can be verified, say "loinc_certainty": "none"))");
  if (!lab.loinc.empty() && lab.loinc_certainty == "none")
    Report(at.file, path("loinc_certainty"), "'loinc_certainty' is \"none\" but a LOINC code is given");
  if (node_json.contains("specimen") && node_json["specimen"].is_string())
    lab.specimen = node_json["specimen"].get<std::string>();
}

// The canonical unit and molar mass; false when there is no usable canonical unit.
bool Builder::ReadCanonicalUnit(const json& node_json, const SourceRef& at, Lab& lab) {
  auto path = [&](const std::string& field) { return JsonChild(at.json_path, field); };
  if (!node_json.contains("canonical_unit") || !node_json["canonical_unit"].is_string()) {
    Report(at.file, path("canonical_unit"), "a lab needs 'canonical_unit'");
    return false;
  }
  auto canonical = units::ParseUnit(node_json["canonical_unit"].get<std::string>());
  if (!canonical.ok()) {
    Report(at.file, path("canonical_unit"), canonical.status().message());
    return false;
  }
  lab.analyte.canonical_unit = units::NormaliseUnitText(node_json["canonical_unit"].get<std::string>());
  if (node_json.contains("molar_mass")) {
    const auto& value = node_json["molar_mass"];
    if (!value.is_null() && (!value.is_number() || value.get<double>() <= 0))
      Report(at.file, path("molar_mass"), "'molar_mass' must be a positive number (g/mol)");
    else if (!value.is_null())
      lab.analyte.molar_mass = value.get<double>();
  }
  return true;
}

void Builder::ReadConversions(const json& conversions, const SourceRef& at, Lab& lab) {
  const std::string path = JsonChild(at.json_path, "conversions");
  if (!conversions.is_array()) {
    Report(at.file, path, "'conversions' must be an array");
    return;
  }
  for (size_t i = 0; i < conversions.size(); ++i) {
    const auto& c = conversions[i];
    std::string cpath = JsonChild(path, i);
    if (!c.is_object() || !c.contains("unit") || !c["unit"].is_string() || !c.contains("factor") ||
        !c["factor"].is_number()) {
      Report(at.file, cpath, "a conversion needs 'unit' (text) and 'factor' (number)");
      continue;
    }
    auto unit = units::ParseUnit(c["unit"].get<std::string>());
    if (!unit.ok()) {
      Report(at.file, JsonChild(cpath, "unit"), unit.status().message());
      continue;
    }
    units::ExplicitConversion conversion;
    conversion.unit = units::NormaliseUnitText(c["unit"].get<std::string>());
    conversion.factor = c["factor"].get<double>();
    if (c.contains("offset") && c["offset"].is_number()) conversion.offset = c["offset"].get<double>();
    std::vector<std::string> citations;
    std::string error;
    if (!StringArray(c, "citations", &citations, &error)) Report(at.file, JsonChild(cpath, "citations"), error);
    CheckCitationKeys(citations, SourceRef{at.file, cpath}, "citations");
    for (const auto& [key, value] : c.items())
      if (!IsComment(key) && key != "unit" && key != "factor" && key != "offset" && key != "citations" && key != "note")
        Report(at.file, JsonChild(cpath, key), "unknown field " + SingleQuoted(key) + " in a conversion");
    lab.analyte.conversions.push_back(conversion);
  }
}

void Builder::ReadAcceptedUnits(const json& node_json, const SourceRef& at, Lab& lab) {
  auto path = [&](const std::string& field) { return JsonChild(at.json_path, field); };
  std::vector<std::string> unit_texts;
  std::string error;
  if (!StringArray(node_json, "units", &unit_texts, &error)) Report(at.file, path("units"), error);
  bool has_canonical = false;
  for (size_t i = 0; i < unit_texts.size(); ++i) {
    std::string normalised = units::NormaliseUnitText(unit_texts[i]);
    if (normalised == lab.analyte.canonical_unit) has_canonical = true;
    Status convertible = units::CheckConvertible(unit_texts[i], lab.analyte.canonical_unit, &lab.analyte);
    if (!convertible.ok()) {
      Report(at.file, JsonChild(path("units"), i), convertible.message());
      continue;
    }
    lab.units.push_back(normalised);
  }
  if (!has_canonical)
    Report(at.file, path("units"), "'units' must include the canonical unit " + SingleQuoted(lab.analyte.canonical_unit));

}

void Builder::ReadLabRanges(const json& node_json, const SourceRef& at, const Node& node, Lab& lab) {
  auto path = [&](const std::string& field) { return JsonChild(at.json_path, field); };
  if (!node_json.contains("reference") || !node_json["reference"].is_array() || node_json["reference"].empty()) {
    Report(at.file, path("reference"), "lab " + SingleQuoted(node.id) + " has no reference range");
  } else {
    ParseRanges(node_json["reference"], SourceRef{at.file, path("reference")}, lab.analyte, &lab.reference);
    // Every adult must be covered, whatever their sex and age.
    for (Sex sex : AllValues<Sex>()) {
      for (double age : {18.0, 40.0, 80.0}) {
        if (!lab.reference.empty() && !lab.ReferenceFor(Patient{sex, age, false})) {
          Report(at.file, path("reference"), "no reference range applies to " + Article(FormatNumber(age) + "-year-old") +
                                                 " " + std::string(Name(sex)) + " patient");
          break;
        }
      }
    }
  }
  for (size_t i = 0; i < lab.reference.size(); ++i)
    if (!lab.reference[i].when.empty())
      Report(at.file, JsonChild(JsonChild(path("reference"), i), "when"),
             "'when' is only for optimal ranges and decision limits; a reference range is the laboratory's");
  if (node_json.contains("optimal"))
    ParseRanges(node_json["optimal"], SourceRef{at.file, path("optimal")}, lab.analyte, &lab.optimal);
}

// `when`: an array of criteria that must all hold (absent: always).
std::vector<Criterion> Builder::ParseWhenList(const json& object, const SourceRef& at) {
  std::vector<Criterion> out;
  const json* list = JsonReader::Field(object, "when");
  if (list == nullptr) return out;
  const std::string path = JsonChild(at.json_path, "when");
  if (!list->is_array() || list->empty()) {
    Report(at.file, path, R"('when' must be a non-empty array of criteria such as {"lab": "hs_crp", "above": 5})");
    return out;
  }
  for (size_t i = 0; i < list->size(); ++i)
    if (auto criterion = ParseImpliedBy((*list)[i], SourceRef{at.file, JsonChild(path, i)}))
      out.push_back(std::move(*criterion));
  return out;
}

// `decision_limits`: cited clinical limits apart from the reference interval, all of one side.
void Builder::ReadDecisionLimits(const json& node_json, const SourceRef& at, Lab& lab) {
  const json* list = JsonReader::Field(node_json, "decision_limits");
  if (list == nullptr) return;
  const std::string path = JsonChild(at.json_path, "decision_limits");
  if (!list->is_array()) {
    Report(at.file, path, R"('decision_limits' must be an array of limits such as {"below": 30, "means": ...})");
    return;
  }
  for (size_t i = 0; i < list->size(); ++i)
    if (auto limit = ParseDecisionLimit((*list)[i], SourceRef{at.file, JsonChild(path, i)}, lab.analyte))
      lab.decision_limits.push_back(std::move(*limit));
  for (size_t i = 1; i < lab.decision_limits.size(); ++i)
    if (lab.decision_limits[i].side != lab.decision_limits[0].side)
      Report(lab.decision_limits[i].source, "every decision limit of a lab must be on one side ('" +
                                                std::string(LimitSideName(lab.decision_limits[0].side)) + "' like the first)");
  // Rules and the flux model read "no limit applies" as "not beyond it": a general limit must exist.
  for (Sex sex : AllValues<Sex>())
    if (!lab.decision_limits.empty() && !lab.LimitFor(Patient{sex, 40, false}, nullptr))
      Report(at.file, path, "no decision limit without 'when' applies to a " + std::string(Name(sex)) +
                                " patient; add a general one (the conditional ones refine it)");
}

// One decision limit: exactly one of `below` / `above` (canonical unit, or `unit`), `means`,
// `label`, `citations`, optional `sex` and `when`.
std::optional<DecisionLimit> Builder::ParseDecisionLimit(const json& object, const SourceRef& at,
                                                         const units::Analyte& analyte) {
  if (!object.is_object()) {
    Report(at, "a decision limit must be an object");
    return std::nullopt;
  }
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, object, at.json_path);
  fields.RejectUnknownFields({"below", "above", "unit", "means", "label", "sex", "when", "citations", "note"}, true);
  DecisionLimit limit;
  limit.source = at;
  std::optional<double> below = fields.OptionalNumber("below"), above = fields.OptionalNumber("above");
  if (below.has_value() == above.has_value()) {
    Report(at, "a decision limit needs exactly one of 'below' and 'above'");
    return std::nullopt;
  }
  limit.side = below ? LimitSide::kBelow : LimitSide::kAbove;
  limit.value = below ? *below : *above;
  if (std::optional<std::string> unit = fields.OptionalString("unit")) {
    auto converted = units::Convert(limit.value, *unit, analyte.canonical_unit, &analyte);
    if (!converted.ok()) {
      Report(at.file, fields.PathOf("unit"), converted.status().message());
      return std::nullopt;
    }
    limit.value = *converted;
  }
  limit.means = fields.RequiredString("means").value_or("");
  limit.label = fields.RequiredString("label").value_or("");
  limit.sex = fields.OptionalEnum<Sex>("sex");
  limit.citations = fields.OptionalStringArray("citations").value_or(std::vector<std::string>{});
  if (limit.citations.empty()) Report(at.file, fields.PathOf("citations"), "a decision limit needs 'citations' (its source)");
  CheckCitationKeys(limit.citations, at, "citations");
  limit.when = ParseWhenList(object, at);
  return limit;
}

void Builder::ReadLabLimits(const json& node_json, const SourceRef& at, Lab& lab) {
  auto path = [&](const std::string& field) { return JsonChild(at.json_path, field); };
  auto limits = [&](const char* field, const char* low_key, const char* high_key, std::optional<double>* low,
                    std::optional<double>* high) {
    if (!node_json.contains(field)) return;
    const auto& value = node_json[field];
    if (!value.is_object()) {
      Report(at.file, path(field), std::string("'") + field + "' must be an object with '" + low_key + "' and '" +
                                        high_key + "'");
      return;
    }
    for (const auto& [key, v] : value.items()) {
      if (IsComment(key) || key == "note") continue;
      if (key != low_key && key != high_key) {
        Report(at.file, JsonChild(path(field), key),
               "unknown field " + SingleQuoted(key) + " (expected '" + low_key + "' or '" + high_key + "')");
      } else if (!v.is_null() && !v.is_number()) {
        Report(at.file, JsonChild(path(field), key), "'" + key + "' must be a number or null");
      }
    }
    *low = OptionalNumber(value, low_key);
    *high = OptionalNumber(value, high_key);
    if (*low && *high && **low >= **high) Report(at.file, path(field), std::string(low_key) + " must be below " + high_key);
  };
  limits("plausible", "min", "max", &lab.plausible_min, &lab.plausible_max);
  limits("critical", "low", "high", &lab.critical_low, &lab.critical_high);
}

void Builder::ParseQuestionnaire(const json& node_json, const SourceRef& at, Node& node) {
  Questionnaire q;
  auto path = [&](const std::string& field) { return JsonChild(at.json_path, field); };
  auto integer = [&](const char* field, int* out, bool required) {
    if (!node_json.contains(field)) {
      if (required) Report(at.file, path(field), std::string("a questionnaire needs '") + field + "'");
      return;
    }
    if (!node_json[field].is_number_integer()) {
      Report(at.file, path(field), std::string("'") + field + "' must be a whole number");
      return;
    }
    *out = node_json[field].get<int>();
  };
  if (node_json.contains("result_only")) q.result_only = node_json["result_only"].is_boolean() && node_json["result_only"].get<bool>();
  integer("items", &q.items, !q.result_only);
  integer("item_min", &q.item_min, !q.result_only);
  integer("item_max", &q.item_max, !q.result_only);
  if (q.item_max < q.item_min) Report(at.file, path("item_max"), "item_max must not be below item_min");
  if (node_json.contains("reverse_items")) {
    const auto& reverse = node_json["reverse_items"];
    for (size_t i = 0; reverse.is_array() && i < reverse.size(); ++i) {
      if (!reverse[i].is_number_integer() || reverse[i].get<int>() < 1 || reverse[i].get<int>() > q.items)
        Report(at.file, JsonChild(path("reverse_items"), i), "reverse item must be an item number from 1 to " + std::to_string(q.items));
      else
        q.reverse_items.push_back(reverse[i].get<int>());
    }
  }
  if (node_json.contains("safety_item")) {
    int item = 0;
    integer("safety_item", &item, false);
    if (item < 1 || item > q.items) Report(at.file, path("safety_item"), "safety_item must be an item number from 1 to " + std::to_string(q.items));
    else q.safety_item = item;
  }
  if (node_json.contains("positive_at")) ParsePositiveAt(node_json["positive_at"], SourceRef{at.file, path("positive_at")}, q);
  if (node_json.contains("loinc") && node_json["loinc"].is_string()) q.loinc = node_json["loinc"].get<std::string>();
  if (node_json.contains("bands")) {
    const auto& bands = node_json["bands"];
    for (size_t i = 0; bands.is_array() && i < bands.size(); ++i) {
      const auto& b = bands[i];
      if (!b.is_object() || !b.contains("min") || !b.contains("max") || !b.contains("label") ||
          !b["min"].is_number_integer() || !b["max"].is_number_integer() || !b["label"].is_string()) {
        Report(at.file, JsonChild(path("bands"), i), "a band needs whole-number 'min', 'max' and a 'label'");
        continue;
      }
      q.bands.push_back(QuestionnaireBand{b["min"].get<int>(), b["max"].get<int>(), b["label"].get<std::string>()});
    }
  }
  ParseQuestionnaireCodes(node_json, at, q);
  node.questionnaire = std::move(q);
}

// The codes a FHIR record names a questionnaire by: "panel_loinc", "item_loinc" (one per item, ""
// for an item without a code) and "answers" (LOINC answer code -> score within the item range).
void Builder::ParseQuestionnaireCodes(const json& node_json, const SourceRef& at, Questionnaire& q) {
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, node_json, at.json_path);
  q.panel_loinc = fields.OptionalString("panel_loinc").value_or("");
  if (auto items = fields.OptionalStringArray("item_loinc")) {
    if (static_cast<int>(items->size()) != q.items)
      Report(at.file, fields.PathOf("item_loinc"),
             "'item_loinc' must give one code per item (" + std::to_string(q.items) + "), got " + std::to_string(items->size()));
    else
      q.item_loinc = std::move(*items);
  }
  const json* answers = fields.Field("answers");
  if (answers == nullptr) return;
  if (!answers->is_object()) {
    Report(at.file, fields.PathOf("answers"), "'answers' must be an object of LOINC answer code -> score");
    return;
  }
  for (const auto& [code, score] : answers->items()) {
    std::optional<int> value = reader.IntegerInRange(score, JsonChild(fields.PathOf("answers"), code), q.item_min, q.item_max, "score");
    if (value) q.answers[code] = *value;
  }
}

// "positive_at": 4 (either sex) or {"female": 3, "male": 4} (AUDIT-C's sex-specific cut-offs).
void Builder::ParsePositiveAt(const json& value, const SourceRef& at, Questionnaire& q) {
  JsonReader reader = ReaderFor(at.file);
  const int low = q.items * q.item_min;
  const int high = q.items * q.item_max;
  if (!value.is_object()) {
    if (value.is_number_integer()) q.positive_at = reader.IntegerInRange(value, at.json_path, low, high, "positive_at");
    else Report(at, "'positive_at' must be a whole number or an object with 'female' and 'male'");
    return;
  }
  ObjectReader fields(reader, value, at.json_path);
  fields.RejectUnknownFields({"female", "male"}, true);
  for (Sex sex : AllValues<Sex>()) {
    const std::string key(Name(sex));
    std::optional<int>& out = sex == Sex::kFemale ? q.positive_at_female : q.positive_at_male;
    if (const json* cut = fields.Field(key)) out = reader.IntegerInRange(*cut, fields.PathOf(key), low, high, "positive_at");
    else Report(at, "'positive_at' needs a cut-off for each sex (missing '" + key + "')");
  }
}

// An edge: its ends and type, its attributes, its lists; kept when its ends and type are readable.
void Builder::ParseEdge(const json& edge_json, const SourceRef& at) {
  if (!edge_json.is_object()) {
    Report(at, "an edge must be a JSON object");
    return;
  }
  RawEdge raw;
  raw.json = edge_json;
  raw.edge.source = at;
  raw.from_path = JsonChild(at.json_path, "from");
  raw.to_path = JsonChild(at.json_path, "to");
  raw.citations_path = JsonChild(at.json_path, "citations");
  if (!ReadEdgeEnds(edge_json, at, raw.edge)) return;
  raw.edge.sign = RuleFor(raw.edge.type).default_sign;
  ReadEdgeAttributes(edge_json, at, raw.edge);
  ReadEdgeLists(edge_json, at, raw);
  edges_.push_back(std::move(raw));
}

// No unknown field; from, type and to present; false when the edge cannot be used.
bool Builder::ReadEdgeEnds(const json& edge_json, const SourceRef& at, Edge& edge) {
  for (const auto& [key, value] : edge_json.items()) {
    if (IsComment(key) || kEdgeFields.count(key)) continue;
    Report(at.file, JsonChild(at.json_path, key), "unknown field " + SingleQuoted(key) + " in an edge" + DidYouMean(key, KeysOf(kEdgeFields)));
  }
  bool ok = true;
  for (const char* field : {"from", "type", "to"}) {
    if (!edge_json.contains(field) || !edge_json[field].is_string() || edge_json[field].get<std::string>().empty()) {
      Report(at.file, JsonChild(at.json_path, field), std::string("an edge needs '") + field + "'");
      ok = false;
    }
  }
  if (!ok) return false;
  edge.from = edge_json["from"].get<std::string>();
  edge.to = edge_json["to"].get<std::string>();
  std::string type_name = edge_json["type"].get<std::string>();
  auto type = ParseEdgeType(type_name);
  if (!type) {
    std::vector<std::string> names;
    for (auto t : AllEdgeTypes()) names.emplace_back(EdgeTypeName(t));
    Report(at.file, JsonChild(at.json_path, "type"), "unknown edge type " + SingleQuoted(type_name) + DidYouMean(type_name, names));
    return false;
  }
  edge.type = *type;
  return true;
}

void Builder::ReadEdgeAttributes(const json& edge_json, const SourceRef& at, Edge& edge) {
  auto text = [&](const char* field) -> std::string {
    if (!edge_json.contains(field)) return "";
    if (!edge_json[field].is_string()) {
      Report(at.file, JsonChild(at.json_path, field), std::string("'") + field + "' must be text");
      return "";
    }
    return edge_json[field].get<std::string>();
  };
  auto check_enum = [&](const char* field, const std::string& value, const std::set<std::string>& allowed) {
    if (!value.empty() && !allowed.count(value))
      Report(at.file, JsonChild(at.json_path, field), std::string("'") + field + "' must be one of: " + Join(allowed));
  };
  edge.role = text("role");
  const std::string severity = text("severity");
  edge.alert = text("alert");
  edge.evidence = text("evidence");
  edge.certainty = text("certainty");
  edge.note = text("note");
  check_enum("evidence", edge.evidence, {"H", "A", "M"});
  check_enum("certainty", edge.certainty, kCertainties);
  if (!edge.role.empty() && edge.type != EdgeType::kTransports)
    Report(at.file, JsonChild(at.json_path, "role"), "'role' is only for 'transports' edges");
  check_enum("role", edge.role, {"reuptake", "vesicular", "bbb", "uptake"});
  if (edge.role == "reuptake") edge.sign = -1;
  if (edge.type == EdgeType::kContraindicatedWith) {
    if (severity.empty())
      Report(at.file, JsonChild(at.json_path, "severity"), "a contraindicated_with edge needs 'severity' (absolute, relative, caution)");
    check_enum("severity", severity, {"absolute", "relative", "caution"});
    edge.severity = Parse<ContraindicationSeverity>(severity).value_or(ContraindicationSeverity::kAbsolute);
  } else if (!severity.empty()) {
    Report(at.file, JsonChild(at.json_path, "severity"), "'severity' is only for 'contraindicated_with' edges");
  }
  ReadInteractionFields(edge_json, at, edge);
  if (edge_json.contains("sign")) {
    std::string sign = text("sign");
    if (sign == "+") edge.sign = 1;
    else if (sign == "-") edge.sign = -1;
    else Report(at.file, JsonChild(at.json_path, "sign"), R"('sign' must be "+" or "-")");
  }
  if (edge_json.contains("weight")) {
    const auto& weight = edge_json["weight"];
    if (!weight.is_number() || weight.get<double>() < 0 || weight.get<double>() > 1)
      Report(at.file, JsonChild(at.json_path, "weight"), "'weight' must be a number from 0 to 1");
    else
      edge.weight = weight.get<double>();
  }
}

// `alert` belongs to contraindications and interactions; an interaction also needs the alert's
// severity; `when` belongs to contraindications.
void Builder::ReadInteractionFields(const json& edge_json, const SourceRef& at, Edge& edge) {
  const bool contraindication = edge.type == EdgeType::kContraindicatedWith;
  const bool interaction = edge.type == EdgeType::kInteractsWith;
  if (!edge.alert.empty() && !contraindication && !interaction)
    Report(at.file, JsonChild(at.json_path, "alert"), "'alert' is only for 'contraindicated_with' and 'interacts_with' edges");
  if (edge_json.contains("when") && !contraindication)
    Report(at.file, JsonChild(at.json_path, "when"), "'when' is only for 'contraindicated_with' edges");
  JsonReader reader = ReaderFor(at.file);
  ObjectReader fields(reader, edge_json, at.json_path);
  if (!interaction) {
    if (fields.Has("alert_severity"))
      Report(at.file, fields.PathOf("alert_severity"), "'alert_severity' is only for 'interacts_with' edges");
    return;
  }
  edge.alert_severity = fields.RequiredEnum<AlertSeverity>("alert_severity");
  if (edge.alert.empty()) Report(at.file, fields.PathOf("alert"), "an interacts_with edge needs 'alert' (an alert id)");
}

void Builder::ReadEdgeLists(const json& edge_json, const SourceRef& at, RawEdge& raw) {
  Edge& edge = raw.edge;
  std::string error;
  if (!StringArray(edge_json, "unless", &edge.unless, &error)) Report(at.file, JsonChild(at.json_path, "unless"), error);
  if (!edge.unless.empty() && edge.type != EdgeType::kContraindicatedWith)
    Report(at.file, JsonChild(at.json_path, "unless"), "'unless' is only for 'contraindicated_with' edges");
  if (!StringArray(edge_json, "citations", &edge.citations, &error))
    Report(at.file, raw.citations_path, error);
  else if (edge.citations.empty())
    Report(at.file, raw.citations_path, "missing citation: every edge must cite at least one source");
}

void Builder::ParseCitation(const std::string& key, const json& citation, const SourceRef& at) {
  if (!IsSnakeCaseId(key)) Report(at, "citation key " + SingleQuoted(key) + " is not snake_case");
  if (!citation.is_object()) {
    Report(at, "a citation must be an object");
    return;
  }
  for (const auto& [field, value] : citation.items()) {
    if (IsComment(field) || kCitationFields.count(field)) continue;
    Report(at.file, JsonChild(at.json_path, field), "unknown field " + SingleQuoted(field) + " in a citation" + DidYouMean(field, KeysOf(kCitationFields)));
  }
  for (const char* field : {"title", "source"})
    if (!citation.contains(field) || !citation[field].is_string() || citation[field].get<std::string>().empty())
      Report(at.file, JsonChild(at.json_path, field), std::string("a citation needs '") + field + "'");
  static const std::set<std::string> kKinds = {"paper", "review", "textbook", "guideline", "database", "label", "model"};
  if (!citation.contains("kind") || !citation["kind"].is_string() || !kKinds.count(citation["kind"].get<std::string>()))
    Report(at.file, JsonChild(at.json_path, "kind"), "citation 'kind' must be one of: " + Join(kKinds));
  Citation parsed;
  parsed.key = key;
  parsed.data = citation;
  parsed.formatted = Citation::FormatData(citation);
  parsed.source = at;
  ParseCitationStanding(citation, at, parsed);
  auto [it, inserted] = citations_.emplace(key, std::move(parsed));
  if (!inserted)
    Report(at, "duplicate citation key " + SingleQuoted(key) + " (first defined at " + it->second.source.file + ":" +
                   it->second.source.json_path + ")");
}

// verified, grade and claim: how far the citation was checked, how strong its kind of evidence is
// and what the knowledge base uses it for.
void Builder::ParseCitationStanding(const json& citation, const SourceRef& at, Citation& out) {
  auto word = [&](const char* field) {
    return citation.contains(field) && citation[field].is_string() ? citation[field].get<std::string>() : std::string();
  };
  if (auto verified = Parse<Verification>(word("verified")))
    out.verified = *verified;
  else
    Report(at.file, JsonChild(at.json_path, "verified"), "citation 'verified' must be one of: " + Join(kVerified));
  if (auto grade = Parse<EvidenceGrade>(word("grade")))
    out.grade = *grade;
  else
    Report(at.file, JsonChild(at.json_path, "grade"),
           std::string(citation.contains("grade") ? "citation 'grade' must be" : "a citation needs 'grade'") +
               ": A (guideline, systematic review or meta-analysis of human trials), B (human trials or cohort "
               "studies) or C (animal, cell or mechanistic work, expert opinion, textbook, database)");
  if (citation.contains("claim") && (!citation["claim"].is_string() || word("claim").empty()))
    Report(at.file, JsonChild(at.json_path, "claim"),
           "citation 'claim' must be a non-empty string: what the knowledge base uses the source for");
  out.claim = word("claim");
}

void Builder::CheckCitationKeys(const std::vector<std::string>& keys, const SourceRef& at, const std::string& field) {
  // Citations may be defined in a file read later: remember the keys and check them in Finish().
  if (!keys.empty()) pending_citations_.push_back(PendingCitations{keys, at.file, JsonChild(at.json_path, field)});
}

void Builder::AddGenerated(const Node& node, EdgeType type, const std::string& from, const std::string& to,
                           const std::string& field_path) {
  RawEdge raw;
  raw.edge.from = from;
  raw.edge.to = to;
  raw.edge.type = type;
  raw.edge.sign = RuleFor(type).default_sign;
  raw.edge.citations = node.citations;
  raw.edge.generated = true;
  raw.edge.source = SourceRef{node.source.file, field_path};
  raw.from_path = raw.to_path = raw.citations_path = field_path;
  edges_.push_back(std::move(raw));
}

void Builder::GenerateFieldEdges(const Node& node) {
  const json& data = node.data.json();
  auto each = [&](const char* field, auto add) {
    if (!data.contains(field) || !data[field].is_array()) return;
    for (size_t i = 0; i < data[field].size(); ++i)
      if (data[field][i].is_string()) add(data[field][i].get<std::string>(), JsonChild(JsonChild(node.source.json_path, field), i));
  };
  switch (node.kind) {
    case NodeKind::kPathwayStep: {
      each("substrates", [&](const std::string& id, const std::string& p) { AddGenerated(node, EdgeType::kSubstrateOf, id, node.id, p); });
      each("products", [&](const std::string& id, const std::string& p) { AddGenerated(node, EdgeType::kProduces, node.id, id, p); });
      each("enzymes", [&](const std::string& id, const std::string& p) { AddGenerated(node, EdgeType::kCatalyzes, id, node.id, p); });
      std::string pathway = node.Text("pathway");
      if (!pathway.empty()) {
        std::string p = JsonChild(node.source.json_path, "pathway");
        AddGenerated(node, EdgeType::kPartOf, node.id, pathway, p);
        if (data.contains("rate_limiting") && data["rate_limiting"].is_boolean() && data["rate_limiting"].get<bool>())
          AddGenerated(node, EdgeType::kRateLimiting, node.id, pathway, JsonChild(node.source.json_path, "rate_limiting"));
      }
      break;
    }
    case NodeKind::kEnzyme:
      each("cofactors", [&](const std::string& id, const std::string& p) { AddGenerated(node, EdgeType::kCofactorOf, id, node.id, p); });
      break;
    case NodeKind::kMedication:
    case NodeKind::kMedicationClass:
      each("classes", [&](const std::string& id, const std::string& p) { AddGenerated(node, EdgeType::kMemberOf, node.id, id, p); });
      break;
    default:
      break;
  }
}

void Builder::ValidateEdges() {
  std::vector<std::string> ids;
  for (const auto& node : nodes_) ids.push_back(node.id);
  std::vector<std::string> citation_keys;
  for (const auto& [key, c] : citations_) citation_keys.push_back(key);
  std::map<std::tuple<std::string, EdgeType, std::string>, const RawEdge*> seen;
  std::vector<RawEdge> valid;
  for (auto& raw : edges_) {
    Edge& edge = raw.edge;
    const std::string& file = edge.source.file;
    const Node* from = nullptr;
    const Node* to = nullptr;
    if (auto it = node_index_.find(edge.from); it != node_index_.end()) from = &nodes_[it->second];
    else Report(file, raw.from_path, "unknown node " + SingleQuoted(edge.from) + DidYouMean(edge.from, ids));
    if (auto it = node_index_.find(edge.to); it != node_index_.end()) to = &nodes_[it->second];
    else Report(file, raw.to_path, "unknown node " + SingleQuoted(edge.to) + DidYouMean(edge.to, ids));
    for (const auto& key : edge.citations)
      if (!citations_.count(key)) Report(file, raw.citations_path, "unknown citation " + SingleQuoted(key) + DidYouMean(key, citation_keys));
    if (!from || !to) continue;
    const EdgeRule& rule = RuleFor(edge.type);
    if (!rule.from.count(from->kind) || !rule.to.count(to->kind)) {
      Report(edge.source, "edge type '" + std::string(EdgeTypeName(edge.type)) + "' cannot go from a " +
                              std::string(KindName(from->kind)) + " (" + SingleQuoted(edge.from) + ") to a " +
                              std::string(KindName(to->kind)) + " (" + SingleQuoted(edge.to) + "); allowed: " +
                              KindList(rule.from) + " -> " + KindList(rule.to));
      continue;
    }
    for (size_t i = 0; i < edge.unless.size(); ++i) {
      auto it = node_index_.find(edge.unless[i]);
      bool fits = it != node_index_.end() && (nodes_[it->second].kind == NodeKind::kMedication ||
                                              nodes_[it->second].kind == NodeKind::kMedicationClass ||
                                              nodes_[it->second].kind == NodeKind::kCondition);
      if (!fits)
        Report(file, edge.source.json_path + "/unless/" + std::to_string(i),
               "'unless' needs a medication, medication class or condition id, not " + SingleQuoted(edge.unless[i]) +
                   DidYouMean(edge.unless[i], ids));
    }
    ReadEdgeWhen(raw, *to);
    if (!edge.alert.empty()) {
      auto it = node_index_.find(edge.alert);
      if (it == node_index_.end() || nodes_[it->second].kind != NodeKind::kAlert)
        Report(file, edge.source.json_path + "/alert", "unknown alert " + SingleQuoted(edge.alert) +
                                                           DidYouMean(edge.alert, ids));
    }
    auto key = std::make_tuple(edge.from, edge.type, edge.to);
    if (auto [it, inserted] = seen.emplace(key, &raw); !inserted) {
      Report(edge.source, "duplicate edge " + edge.from + " -" + std::string(EdgeTypeName(edge.type)) + "-> " +
                              edge.to + " (also at " + it->second->edge.source.file + ":" +
                              it->second->edge.source.json_path + ")");
      continue;
    }
    valid.push_back(raw);
  }
  edges_ = std::move(valid);
}

void Builder::CheckPendingLabs() {
  for (const auto& pending : pending_labs_) {
    auto it = node_index_.find(pending.id);
    if (it == node_index_.end() || nodes_[it->second].kind != NodeKind::kLab)
      Report(pending.file, pending.json_path, "unknown lab " + SingleQuoted(pending.id) + DidYouMean(pending.id, IdsOf(NodeKind::kLab)));
  }
}

std::vector<std::string> Builder::IdsOf(NodeKind kind) const {
  std::vector<std::string> ids;
  for (const auto& node : nodes_)
    if (node.kind == kind) ids.push_back(node.id);
  return ids;
}

std::string Builder::Version() const {
  // Canonical content, independent of file layout and of key order: the text of the object
  // {"citations": {key: data}, "edges": [sorted edge texts], "nodes": [by id], "work_up": ...} as
  // nlohmann dumps it (keys sorted), written piece by piece instead of copied into one document.
  std::string canonical = "{\"citations\":{";
  bool first = true;
  for (const auto& [key, citation] : citations_) {
    if (!std::exchange(first, false)) canonical += ',';
    canonical += json(key).dump() + ':' + citation.data.json().dump();
  }
  std::vector<std::string> edge_texts;
  for (const auto& raw : edges_)
    if (!raw.edge.generated) edge_texts.push_back(raw.json.dump());
  std::sort(edge_texts.begin(), edge_texts.end());
  canonical += "},\"edges\":[";
  for (size_t i = 0; i < edge_texts.size(); ++i) canonical += (i ? "," : "") + edge_texts[i];
  canonical += "],\"nodes\":[";
  std::vector<const Node*> sorted_nodes;
  for (const auto& node : nodes_) sorted_nodes.push_back(&node);
  std::sort(sorted_nodes.begin(), sorted_nodes.end(), [](const Node* a, const Node* b) { return a->id < b->id; });
  first = true;
  for (const auto* node : sorted_nodes) {
    if (!std::exchange(first, false)) canonical += ',';
    canonical += node->data.json().dump();
  }
  canonical += ']';
  if (!work_up_json_.is_null()) canonical += ",\"work_up\":" + work_up_json_.dump();
  canonical += '}';
  return "sha256:" + Sha256Hex(canonical);
}

std::shared_ptr<KnowledgeBase> Builder::Finish() {
  std::vector<std::string> citation_keys;
  for (const auto& [key, c] : citations_) citation_keys.push_back(key);
  auto check_keys = [&](const std::vector<std::string>& keys, const std::string& file, const std::string& path) {
    for (const auto& key : keys)
      if (!citations_.count(key)) Report(file, path, "unknown citation " + SingleQuoted(key) + DidYouMean(key, citation_keys));
  };
  for (const auto& node : nodes_) {
    check_keys(node.citations, node.source.file, JsonChild(node.source.json_path, "citations"));
    GenerateFieldEdges(node);
  }
  CheckPendingLabs();
  ValidateEdges();
  CheckCriteria();
  for (const auto& pending : pending_citations_) check_keys(pending.keys, pending.file, pending.json_path);

  auto kb = std::make_shared<KnowledgeBase>();
  kb->version_ = Version();
  kb->nodes_ = nodes_;
  for (const auto& raw : edges_) kb->edges_.push_back(raw.edge);
  kb->citations_ = citations_;
  kb->first_line_labs_ = first_line_labs_;
  kb->BuildIndexes();
  CheckContent(*kb);
  CheckVocabulary(*kb);
  return kb;
}

}  // namespace nflux::knowledge

#include "safety/random_case.h"

#include <algorithm>
#include <cmath>
#include <set>

namespace nflux::testing {

using nlohmann::ordered_json;
using knowledge::NodeKind;

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

size_t Rng::Below(size_t n) { return static_cast<size_t>(Next() % n); }

int Rng::Between(int low, int high) { return low + static_cast<int>(Below(static_cast<size_t>(high - low + 1))); }

double Rng::Uniform(double low, double high) {
  return low + (high - low) * (static_cast<double>(Next() >> 11) / 9007199254740992.0);
}

bool Rng::Chance(double probability) { return Uniform(0, 1) < probability; }

namespace {

// Values printed in a case keep 4 significant digits, as a lab report would.
double Round4(double value) {
  if (value == 0 || !std::isfinite(value)) return value;
  const double scale = std::pow(10.0, 3 - static_cast<int>(std::floor(std::log10(std::abs(value)))));
  return std::round(value * scale) / scale;
}

// ---- Vocabulary -------------------------------------------------------------------------------

void AddRangeLimits(const std::vector<knowledge::LabRange>& ranges, LabDraw& draw) {
  for (const knowledge::LabRange& range : ranges) {
    for (const std::optional<double>& limit : {range.low, range.high}) {
      if (!limit) continue;
      draw.anchors.push_back(*limit);
      if (*limit > 0) draw.reference_low = draw.reference_low == 0 ? *limit : std::min(draw.reference_low, *limit);
      draw.reference_high = std::max(draw.reference_high, *limit);
    }
  }
}

LabDraw LabDrawOf(const knowledge::Node& node, const std::vector<double>& extra_anchors) {
  const knowledge::Lab& lab = *node.lab;
  LabDraw draw;
  draw.id = node.id;
  draw.unit = lab.analyte.canonical_unit;
  AddRangeLimits(lab.reference, draw);
  AddRangeLimits(lab.optimal, draw);
  for (const std::optional<double>& limit : {lab.critical_low, lab.critical_high, lab.plausible_min, lab.plausible_max})
    if (limit) draw.anchors.push_back(*limit);
  draw.anchors.insert(draw.anchors.end(), extra_anchors.begin(), extra_anchors.end());
  if (draw.reference_high == 0) draw.reference_high = draw.anchors.empty() ? 100 : *std::max_element(draw.anchors.begin(), draw.anchors.end());
  if (draw.reference_low == 0) draw.reference_low = draw.reference_high / 10;
  draw.low = lab.plausible_min.value_or(0);
  draw.high = lab.plausible_max.value_or(std::max(draw.reference_high * 5, lab.critical_high.value_or(0) * 1.5));
  if (lab.plausible_max) draw.impossible = *lab.plausible_max * 1.5 + 1;
  else if (lab.plausible_min && *lab.plausible_min > 0) draw.impossible = *lab.plausible_min / 2;
  else draw.impossible = -1;  // a negative concentration
  std::erase_if(draw.anchors, [&](double a) { return a < draw.low || a > draw.high; });
  return draw;
}

// The group codes of a class node ("atc": "N06AB" or ["N06AB", ...]).
std::vector<std::string> ClassAtcGroups(const knowledge::Node& node) {
  std::vector<std::string> out;
  if (!node.data.json().is_object() || !node.data.json().contains("atc")) return out;
  const nlohmann::json& atc = node.data.json()["atc"];
  if (atc.is_string()) out.push_back(atc.get<std::string>());
  if (atc.is_array())
    for (const auto& code : atc)
      if (code.is_string()) out.push_back(code.get<std::string>());
  return out;
}

// A full 7-character ATC code under `group` (levels: 1, 3, 4, 5, 7 characters).
std::string CompleteAtc(const std::string& group, int variant) {
  std::string code = group;
  const std::string digits = std::to_string(90 + variant % 10);
  if (code.size() == 1) code += "99";
  if (code.size() == 3) code += "X";
  if (code.size() == 4) code += "X";
  if (code.size() == 5) code += digits;
  return code;
}

void AddMedicationVocabulary(const knowledge::KnowledgeBase& kb, CaseVocabulary& out) {
  std::set<std::string> known_codes;
  for (const std::string& id : kb.IdsOfKind(NodeKind::kMedication)) {
    out.medications.push_back(id);
    const knowledge::Node* node = kb.Find(id);
    if (node->medication && !node->medication->atc.empty()) {
      out.medication_atc.push_back(node->medication->atc);
      known_codes.insert(node->medication->atc);
    }
  }
  for (const std::string& id : kb.IdsOfKind(NodeKind::kMedicationClass)) {
    int variant = 0;
    for (const std::string& group : ClassAtcGroups(*kb.Find(id))) {
      std::string code = CompleteAtc(group, variant++);
      if (code.size() == 7 && !known_codes.count(code)) out.bare_atc.push_back(code);
    }
  }
}

// One code a case may enter for a condition: the first of a list ("E03, E06.3"), the start of a
// range ("F32-F33").
std::string UsableIcd10(const std::string& icd10) {
  std::string code = icd10.substr(0, icd10.find_first_of(",-"));
  code.erase(std::remove(code.begin(), code.end(), ' '), code.end());
  return code;
}

void AddConditionVocabulary(const knowledge::KnowledgeBase& kb, CaseVocabulary& out) {
  for (const std::string& id : kb.IdsOfKind(NodeKind::kCondition)) {
    out.conditions.push_back(id);
    const knowledge::Node* node = kb.Find(id);
    if (!node->condition) continue;
    if (!node->condition->icd10.empty()) out.condition_icd10.push_back(UsableIcd10(node->condition->icd10));
    if (node->condition->case_stressor) out.stressors.push_back(id);
  }
}

// ---- Case parts -------------------------------------------------------------------------------

ordered_json Patient(Rng& rng) {
  ordered_json patient;
  const bool female = rng.Chance(0.5);
  const int age = rng.Between(1, 100);
  patient["sex"] = female ? "female" : "male";
  patient["age_years"] = age;
  // Now and then an impossible age (case.md: excluded; safety must still hold without it).
  if (rng.Chance(0.03)) patient["age_years"] = rng.Chance(0.5) ? -rng.Between(1, 5) : rng.Between(131, 300);
  if (female && age >= 12 && age <= 50) {
    const size_t pregnancy = rng.Below(10);
    if (pregnancy < 2) patient["pregnant"] = true;
    else if (pregnancy < 5) patient["pregnant"] = false;
    if (patient.value("pregnant", false) && rng.Chance(0.5)) patient["gestational_age_weeks"] = rng.Between(4, 40);
    const size_t lactation = rng.Below(10);
    if (lactation < 1) patient["lactating"] = true;
    else if (lactation < 3) patient["lactating"] = false;
  }
  if (female && age >= 40 && rng.Chance(0.4))
    patient["menopausal_status"] = age < 45 ? "premenopausal" : (age < 55 ? "perimenopausal" : "postmenopausal");
  if (rng.Chance(0.3)) patient["bmi"] = Round4(rng.Uniform(16, 45));
  return patient;
}

ordered_json Scores(Rng& rng, const std::vector<std::string>& ids, int most) {
  ordered_json out = ordered_json::object();
  if (ids.empty()) return out;
  const int count = rng.Between(0, most);
  for (int i = 0; i < count; ++i) out[rng.Pick(ids)] = rng.Between(0, 3);
  return out;
}

// Mostly absent, so that a case with suicidal ideation stays a minority worth counting.
ordered_json Symptoms(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = Scores(rng, vocabulary.symptoms, 8);
  if (out.contains("suicidal_ideation") && rng.Chance(0.7)) out["suicidal_ideation"] = 0;
  return out;
}

// An answer biased to 0 for a safety item, so both sides of the red flag are common.
int Answer(Rng& rng, const knowledge::Questionnaire& q, int item) {
  if (q.safety_item && *q.safety_item == item && rng.Chance(0.8)) return q.item_min;
  return rng.Between(q.item_min, q.item_max);
}

ordered_json QuestionnaireEntry(Rng& rng, const QuestionnaireDraw& draw) {
  const knowledge::Questionnaire& q = draw.questionnaire;
  if (q.result_only) return {{"result", rng.Chance(0.3) ? "positive" : "negative"}};
  ordered_json entry;
  std::vector<int> items;
  for (int i = 1; i <= q.items; ++i) items.push_back(Answer(rng, q, i));
  int total = 0;
  for (int answer : items) total += answer;  // reverse items aside, a total in range
  const size_t form = rng.Below(10);
  const std::string safety = q.safety_item ? "item" + std::to_string(*q.safety_item) : "";
  if (form < 6) {
    entry["items"] = items;
  } else if (form < 8 || safety.empty()) {
    entry["total"] = total;
  } else {
    entry["total"] = total;
    entry[safety] = items[static_cast<size_t>(*q.safety_item - 1)];
  }
  return entry;
}

ordered_json Questionnaires(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = ordered_json::object();
  for (const QuestionnaireDraw& draw : vocabulary.questionnaires)
    if (rng.Chance(0.2)) out[draw.id] = QuestionnaireEntry(rng, draw);
  return out;
}

// A value from deficient to toxic: near a limit, log-uniform around the ranges, anywhere
// plausible, or (rarely) impossible.
double LabValue(Rng& rng, const LabDraw& draw) {
  const size_t mode = rng.Below(100);
  if (mode < 25 && !draw.anchors.empty()) return rng.Pick(draw.anchors) * rng.Uniform(0.95, 1.05);
  if (mode < 27 && draw.impossible) return *draw.impossible;
  if (mode < 45) return rng.Uniform(draw.low, draw.high);
  const double low = std::max(draw.reference_low / 4, draw.low > 0 ? draw.low : draw.reference_low / 4);
  const double high = std::min(draw.reference_high * 4, draw.high);
  if (low <= 0 || high <= low) return rng.Uniform(draw.low, draw.high);
  return std::exp(rng.Uniform(std::log(low), std::log(high)));
}

ordered_json Labs(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = ordered_json::array();
  if (vocabulary.labs.empty()) return out;
  const int count = rng.Chance(0.2) ? 0 : rng.Between(1, 10);
  std::set<size_t> chosen;
  for (int i = 0; i < count; ++i) chosen.insert(rng.Below(vocabulary.labs.size()));
  for (size_t index : chosen) {
    const LabDraw& draw = vocabulary.labs[index];
    out.push_back({{"test", draw.id}, {"value", Round4(LabValue(rng, draw))}, {"unit", draw.unit}});
  }
  return out;
}

ordered_json Medication(Rng& rng, const CaseVocabulary& vocabulary, int index) {
  const size_t way = rng.Below(100);
  if (way < 8 && !vocabulary.bare_atc.empty()) return {{"atc", rng.Pick(vocabulary.bare_atc)}};
  if (way < 18 && !vocabulary.medication_atc.empty()) return {{"atc", rng.Pick(vocabulary.medication_atc)}};
  if (way < 22) return {{"id", "unlisted_drug_" + std::to_string(index)}, {"name", "Unlisted " + std::to_string(index)}};
  if (way < 24) return {{"atc", "Q99ZZ0" + std::to_string(index % 10)}};  // no human ATC group
  ordered_json entry = {{"id", rng.Pick(vocabulary.medications)}};
  if (rng.Chance(0.2)) entry["dose"] = "10 mg daily";
  return entry;
}

ordered_json Medications(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = ordered_json::array();
  const int count = rng.Chance(0.3) ? 0 : rng.Between(1, 4);
  for (int i = 0; i < count; ++i) out.push_back(Medication(rng, vocabulary, i));
  return out;
}

ordered_json Conditions(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = ordered_json::array();
  const int count = rng.Chance(0.4) ? 0 : rng.Between(1, 3);
  for (int i = 0; i < count; ++i) {
    if (rng.Chance(0.25) && !vocabulary.condition_icd10.empty()) out.push_back({{"icd10", rng.Pick(vocabulary.condition_icd10)}});
    else out.push_back({{"id", rng.Pick(vocabulary.conditions)}});
  }
  return out;
}

ordered_json Supplements(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = ordered_json::object();
  ordered_json current = ordered_json::array(), requested = ordered_json::array();
  const int current_count = rng.Chance(0.4) ? 0 : rng.Between(1, 3);
  const int requested_count = rng.Chance(0.2) ? 0 : rng.Between(1, 5);
  for (int i = 0; i < current_count; ++i) current.push_back(rng.Pick(vocabulary.strategies));
  for (int i = 0; i < requested_count; ++i) requested.push_back(rng.Pick(vocabulary.strategies));
  out["current"] = current;
  out["requested"] = requested;
  return out;
}

ordered_json LifestyleValueOf(Rng& rng, const knowledge::LifestyleFactor& factor) {
  switch (factor.value_type) {
    case LifestyleValueType::kBoolean:
      return rng.Chance(0.5);
    case LifestyleValueType::kEnum:
      return factor.values.empty() ? ordered_json("") : ordered_json(rng.Pick(factor.values));
    case LifestyleValueType::kScale:
      return rng.Between(static_cast<int>(factor.min.value_or(0)), static_cast<int>(factor.max.value_or(3)));
    case LifestyleValueType::kNumber:
      break;
  }
  const double low = factor.min.value_or(0);
  const double high = factor.max.value_or(100);
  // Mostly the everyday part of the range (a quarter of it), sometimes anywhere up to the limit.
  const double value = rng.Chance(0.8) ? rng.Uniform(low, low + (high - low) / 4) : rng.Uniform(low, high);
  return std::round(value);
}

ordered_json Lifestyle(Rng& rng, const CaseVocabulary& vocabulary) {
  ordered_json out = ordered_json::object();
  for (const LifestyleDraw& draw : vocabulary.lifestyle)
    if (rng.Chance(0.3)) out[draw.id] = LifestyleValueOf(rng, draw.factor);
  return out;
}

template <typename Json>
void ShuffleArray(Rng& rng, Json& array) {
  if (!array.is_array()) return;
  for (size_t i = array.size(); i > 1; --i) std::swap(array[i - 1], array[rng.Below(i)]);
}

void ShuffleObject(Rng& rng, ordered_json& object) {
  if (!object.is_object()) return;
  std::vector<std::pair<std::string, ordered_json>> items;
  for (const auto& [key, value] : object.items()) items.emplace_back(key, value);
  for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.Below(i)]);
  ordered_json shuffled = ordered_json::object();
  for (auto& [key, value] : items) shuffled[key] = std::move(value);
  object = std::move(shuffled);
}

}  // namespace

CaseVocabulary VocabularyOf(const knowledge::KnowledgeBase& kb,
                            const std::map<std::string, std::vector<double>>& extra_lab_anchors) {
  CaseVocabulary out;
  out.strategies = kb.IdsOfKind(NodeKind::kStrategy);
  out.symptoms = kb.IdsOfKind(NodeKind::kSymptom);
  out.stressors = kb.IdsOfKind(NodeKind::kStressor);
  AddMedicationVocabulary(kb, out);
  AddConditionVocabulary(kb, out);
  static const std::vector<double> kNone;
  for (const std::string& id : kb.IdsOfKind(NodeKind::kLab)) {
    const knowledge::Node* node = kb.Find(id);
    if (!node->lab) continue;
    auto extra = extra_lab_anchors.find(id);
    out.labs.push_back(LabDrawOf(*node, extra == extra_lab_anchors.end() ? kNone : extra->second));
  }
  for (const std::string& id : kb.IdsOfKind(NodeKind::kQuestionnaire))
    if (const knowledge::Node* node = kb.Find(id); node->questionnaire) out.questionnaires.push_back({id, *node->questionnaire});
  for (const std::string& id : kb.IdsOfKind(NodeKind::kLifestyleFactor))
    if (const knowledge::Node* node = kb.Find(id); node->lifestyle) out.lifestyle.push_back({id, *node->lifestyle});
  return out;
}

ordered_json RandomCase(const CaseVocabulary& vocabulary, uint64_t seed) {
  Rng rng(seed);
  ordered_json c;
  c["case_id"] = "random-" + std::to_string(seed);
  c["patient"] = Patient(rng);
  c["symptoms"] = Symptoms(rng, vocabulary);
  c["questionnaires"] = Questionnaires(rng, vocabulary);
  c["labs"] = Labs(rng, vocabulary);
  c["medications"] = Medications(rng, vocabulary);
  c["supplements"] = Supplements(rng, vocabulary);
  c["conditions"] = Conditions(rng, vocabulary);
  c["lifestyle"] = Lifestyle(rng, vocabulary);
  c["stressors"] = Scores(rng, vocabulary.stressors, 2);
  return c;
}

ordered_json ShuffledCase(const ordered_json& c, uint64_t seed) {
  Rng rng(seed ^ 0x5DEECE66DULL);
  ordered_json out = c;
  for (const char* list : {"labs", "medications", "conditions"})
    if (out.contains(list)) ShuffleArray(rng, out[list]);
  if (out.contains("supplements"))
    for (const char* list : {"current", "requested"})
      if (out["supplements"].contains(list)) ShuffleArray(rng, out["supplements"][list]);
  for (const char* object : {"symptoms", "questionnaires", "lifestyle", "stressors"})
    if (out.contains(object)) ShuffleObject(rng, out[object]);
  return out;
}

}  // namespace nflux::testing

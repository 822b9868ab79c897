// QuestionnaireResponse: the questionnaire by its canonical URL (the LOINC panel, or a NeuroFlux
// questionnaire id) or by its items' LOINC codes; items by linkId or item.code; answers by
// valueInteger or a LOINC answer code mapped to its score. The latest response of each is used.
#include <algorithm>

#include "base/json.h"
#include "base/text.h"
#include "fhir/importer.h"

namespace nflux::fhir::internal {

using casefile::Severity;

namespace {

struct Item {
  const json* value = nullptr;
  std::string path;
  std::vector<std::string> keys;  // linkId (a leading "/" dropped) and item.code codes
};

// Every item, groups flattened, in order; `malformed` gets the path and problem of every "item"
// that is not an array and every item that is not an object.
void Flatten(const json& holder, const std::string& path, std::vector<Item>* out,
             std::vector<std::pair<std::string, std::string>>* malformed = nullptr) {
  const json* items = JsonReader::Field(holder, "item");
  if (items == nullptr) return;
  if (!items->is_array()) {
    if (malformed) malformed->emplace_back(path + ".item", "expected an array, got " + JsonTypeWithArticle(*items));
    return;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    const json& item = (*items)[i];
    if (!item.is_object()) {
      if (malformed)
        malformed->emplace_back(path + ".item[" + std::to_string(i) + "]", "expected an object, got " + JsonTypeWithArticle(item));
      continue;
    }
    Item entry{&item, path + ".item[" + std::to_string(i) + "]", {}};
    if (const json* link = JsonReader::Field(item, "linkId"); link && link->is_string()) {
      std::string id = link->get<std::string>();
      entry.keys.push_back(id.starts_with("/") ? id.substr(id.rfind('/') + 1) : id);
    }
    if (const json* codes = JsonReader::Field(item, "code"); codes && codes->is_array())
      for (const json& code : *codes)
        if (code.is_object() && code.contains("code") && code["code"].is_string()) entry.keys.push_back(code["code"]);
    if (JsonReader::Field(item, "answer") != nullptr) out->push_back(entry);
    Flatten(item, entry.path, out, malformed);
  }
}

// The item number (1-based) a key names: its LOINC code, or the number itself for a NeuroFlux one.
int ItemNumber(const knowledge::Questionnaire& q, const std::vector<std::string>& keys, bool by_number) {
  for (const std::string& key : keys) {
    auto it = std::find(q.item_loinc.begin(), q.item_loinc.end(), key);
    if (it != q.item_loinc.end() && !key.empty()) return static_cast<int>(it - q.item_loinc.begin()) + 1;
    if (by_number && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit) && key.size() < 4) {
      const int n = std::stoi(key);
      if (n >= 1 && n <= q.items) return n;
    }
  }
  return 0;
}

bool IsTotal(const knowledge::Questionnaire& q, const std::vector<std::string>& keys) {
  return !q.loinc.empty() && std::find(keys.begin(), keys.end(), q.loinc) != keys.end();
}

// The score of an item's first answer; nullopt with `why` set when it has none NeuroFlux reads.
std::optional<int> AnswerScore(const knowledge::Questionnaire& q, const json& item, std::string* why) {
  const json* answers = JsonReader::Field(item, "answer");
  if (answers == nullptr || !answers->is_array() || answers->empty() || !(*answers)[0].is_object()) {
    *why = "no answer";
    return std::nullopt;
  }
  const json& answer = (*answers)[0];
  if (const json* integer = JsonReader::Field(answer, "valueInteger")) {
    if (std::optional<long long> n = JsonInteger(*integer)) return static_cast<int>(*n);
    *why = "valueInteger is not a whole number";
    return std::nullopt;
  }
  if (const json* coding = JsonReader::Field(answer, "valueCoding"); coding && coding->is_object()) {
    const std::string code = coding->value("code", std::string());
    if (auto it = q.answers.find(code); it != q.answers.end()) return it->second;
    *why = "answer code " + Quote(code) + " is not a known answer";
    return std::nullopt;
  }
  *why = "no valueInteger or LOINC valueCoding";
  return std::nullopt;
}

}  // namespace

const knowledge::Node* Importer::QuestionnaireOf(size_t index) {
  const Resource& r = resources_[index];
  std::string canonical;
  if (const json* url = StringField(*r.value, "questionnaire", r.path)) canonical = url->get<std::string>();
  if (const size_t bar = canonical.find('|'); bar != std::string::npos) canonical.resize(bar);  // a version after '|'
  if (canonical.starts_with(kQuestionnairePrefix)) {
    const knowledge::Node* node = kb_.Find(canonical.substr(std::string(kQuestionnairePrefix).size()));
    return node && node->questionnaire ? node : nullptr;
  }
  std::vector<Item> items;
  Flatten(*r.value, r.path, &items);
  for (const knowledge::Node& node : kb_.nodes()) {
    if (!node.questionnaire) continue;
    const knowledge::Questionnaire& q = *node.questionnaire;
    if (!q.panel_loinc.empty() && canonical == "http://loinc.org/q/" + q.panel_loinc) return &node;
    if (canonical.empty())
      for (const Item& item : items)
        if (ItemNumber(q, item.keys, false) > 0) return &node;
  }
  return nullptr;
}

void Importer::MapQuestionnaireResponses() {
  std::map<std::string, std::vector<Candidate>> latest;
  std::vector<std::string> order;
  for (size_t i = 0; i < resources_.size(); ++i) {
    Resource& r = resources_[i];
    if (r.type != "QuestionnaireResponse") continue;
    r.used = true;
    const knowledge::Node* node = QuestionnaireOf(i);
    if (node == nullptr) {
      Note(r.path, Severity::kInfo, "unknown_code", "a QuestionnaireResponse of no questionnaire NeuroFlux knows");
      continue;
    }
    const std::string status = Status(i);
    if (status != "completed" && status != "amended") {
      Note(r.path + ".status", Severity::kWarning, "not_final",
           node->id + ": status " + Quote(status) + "; only completed or amended responses are used");
      continue;
    }
    const json* authored = StringField(*r.value, "authored", r.path);
    if (!latest.count(node->id)) order.push_back(node->id);
    latest[node->id].push_back({i, authored ? authored->get<std::string>() : "", node->id + " response"});
  }
  for (const std::string& id : order) {
    const std::vector<Candidate>& candidates = latest[id];
    size_t best = 0;
    for (size_t k = 1; k < candidates.size(); ++k)
      if (candidates[k].when >= candidates[best].when) best = k;
    for (size_t k = 0; k < candidates.size(); ++k)
      if (k != best)
        Note(resources_[candidates[k].resource].path, Severity::kInfo, "superseded",
             candidates[k].what + ": a later one is used (" + resources_[candidates[best].resource].path + ")");
    MapQuestionnaireResponse(*kb_.Find(id), candidates[best].resource);
  }
}

void Importer::MapQuestionnaireResponse(const knowledge::Node& node, size_t index) {
  const Resource& r = resources_[index];
  const knowledge::Questionnaire& q = *node.questionnaire;
  const bool by_number = JsonStringAt(*r.value, "questionnaire").starts_with(kQuestionnairePrefix);
  std::vector<Item> items;
  std::vector<std::pair<std::string, std::string>> malformed;
  Flatten(*r.value, r.path, &items, &malformed);
  for (const auto& [path, problem] : malformed) Error(path, problem);
  std::vector<std::optional<int>> answers(static_cast<size_t>(q.items));
  std::optional<int> total;
  for (const Item& item : items) {
    std::string why;
    const bool is_total = IsTotal(q, item.keys);
    const int number = is_total ? 0 : ItemNumber(q, item.keys, by_number);
    if (!is_total && number == 0) {
      Note(item.path, Severity::kInfo, "unused_element", "not an item of " + node.id);
      continue;
    }
    std::optional<int> score = AnswerScore(q, *item.value, &why);
    if (!score) Note(item.path, Severity::kWarning, "no_value", node.id + (is_total ? " total" : " item " + std::to_string(number)) + ": " + why);
    else if (is_total) total = score;
    else answers[static_cast<size_t>(number - 1)] = score;
  }
  ordered_json& entry = case_["questionnaires"][node.id];
  const std::string pointer = "/questionnaires/" + node.id;
  std::vector<std::string> missing;
  for (size_t k = 0; k < answers.size(); ++k)
    if (!answers[k]) missing.push_back(std::to_string(k + 1));
  if (missing.empty()) {
    entry["items"] = ordered_json::array();
    for (const auto& answer : answers) entry["items"].push_back(*answer);
    import_.origins[pointer + "/items"] = r.path;
  } else if (missing.size() < answers.size()) {
    Note(r.path, Severity::kWarning, "incomplete_questionnaire",
         node.id + ": item(s) " + Join(missing, ", ") + " not answered; the items are not used" +
             (total ? ", the total is" : ""));
    if (q.safety_item && answers[static_cast<size_t>(*q.safety_item - 1)] && total)
      entry["item" + std::to_string(*q.safety_item)] = *answers[static_cast<size_t>(*q.safety_item - 1)];
  }
  if (total) {
    entry["total"] = *total;
    import_.origins[pointer + "/total"] = r.path;
  }
  if (entry.empty()) case_["questionnaires"].erase(node.id);
  NoteUnusedElements(index, {"questionnaire", "status", "authored", "author", "source", "item", "basedOn", "partOf"});
}

}  // namespace nflux::fhir::internal

// Content checks over a whole knowledge base: what the contract vocabulary requires, and the
// completeness rules every knowledge base must meet (pathways with synthesis and breakdown,
// strategies with targets).
#include <set>

#include "base/text.h"
#include "knowledge/builder.h"
#include "knowledge/schema.h"

namespace nflux::knowledge {

void Builder::CheckContent(const KnowledgeBase& kb) {
  for (const auto& node : kb.nodes()) {
    if (node.kind == NodeKind::kPathway && node.data.json().contains("neurotransmitter")) {
      std::string transmitter = node.Text("neurotransmitter");
      const Node* target = kb.Find(transmitter);
      if (!target || target->kind != NodeKind::kNeurotransmitter)
        Report(node.source.file, node.source.json_path + "/neurotransmitter",
               "pathway " + SingleQuoted(node.id) + " names " + SingleQuoted(transmitter) + ", which is not a neurotransmitter node");
      std::set<std::string> phases;
      for (const Edge* edge : kb.InEdges(node.id)) {
        if (edge->type != EdgeType::kPartOf) continue;
        if (const Node* step = kb.Find(edge->from)) phases.insert(step->Text("phase"));
      }
      for (const char* phase : {"synthesis", "breakdown"})
        if (!phases.count(phase))
          Report(node.source, "transmitter pathway " + SingleQuoted(node.id) + " has no " + phase + " step");
    }
    if (node.kind == NodeKind::kStrategy) {
      bool has_target = false;
      for (const Edge* edge : kb.OutEdges(node.id)) has_target |= edge->type == EdgeType::kTargets;
      if (!has_target) Report(node.source, "strategy " + SingleQuoted(node.id) + " has no 'targets' edge: say what it acts on");
    }
  }
}

void Builder::CheckVocabulary(const KnowledgeBase& kb) {
  if (!vocabulary_.is_object()) return;
  using K = NodeKind;
  const std::vector<std::pair<std::string, std::set<NodeKind>>> sections = {
      {"deficits", {K::kDeficit}},       {"drivers", {K::kDriver, K::kStressor}},
      {"strategies", {K::kStrategy}},    {"alerts", {K::kAlert}},
      {"symptoms", {K::kSymptom}},       {"questionnaires", {K::kQuestionnaire}},
      {"labs", {K::kLab}},               {"medications", {K::kMedication}},
      {"conditions", {K::kCondition}},   {"lifestyle", {K::kLifestyleFactor}},
      {"stressors", {K::kStressor, K::kCondition}},
  };
  for (const auto& [section, kinds] : sections) {
    if (!vocabulary_.contains(section) || !vocabulary_[section].is_object()) continue;
    for (const auto& [id, entry] : vocabulary_[section].items()) {
      std::string path = "/" + section + "/" + id;
      const Node* node = kb.Find(id);
      if (!node) {
        Report(vocabulary_file_, path, "id " + SingleQuoted(id) + " required by the vocabulary is not defined (expected a node of kind " +
                                           KindList(kinds) + ")");
        continue;
      }
      if (!kinds.count(node->kind)) {
        Report(vocabulary_file_, path, "id " + SingleQuoted(id) + " is of kind " + std::string(KindName(node->kind)) +
                                           "; the vocabulary needs kind " + KindList(kinds));
        continue;
      }
      if (!entry.is_object()) continue;
      const SourceRef& at = node->source;
      if (section == "labs" && entry.contains("loinc") && entry["loinc"].is_string()) {
        std::string code = entry["loinc"].get<std::string>();
        bool to_verify = code.rfind("to be verified", 0) == 0;
        if (!to_verify && node->lab && node->lab->loinc != code)
          Report(at.file, at.json_path + "/loinc", "lab " + SingleQuoted(id) + " has LOINC " + SingleQuoted(node->lab->loinc) +
                                                       " but the vocabulary says " + SingleQuoted(code));
      }
      if (section == "medications") {
        const std::string atc = node->medication ? node->medication->atc : "";
        if (entry.contains("atc") && entry["atc"].is_string() && atc != entry["atc"].get<std::string>())
          Report(at.file, at.json_path + "/atc", "medication " + SingleQuoted(id) + " has ATC " + SingleQuoted(atc) +
                                                     " but the vocabulary says " + SingleQuoted(entry["atc"].get<std::string>()));
        std::set<std::string> classes;
        for (const Edge* edge : kb.OutEdges(id))
          if (edge->type == EdgeType::kMemberOf) classes.insert(edge->to);
        if (entry.contains("classes") && entry["classes"].is_array())
          for (const auto& cls : entry["classes"])
            if (cls.is_string() && !classes.count(cls.get<std::string>()))
              Report(at.file, at.json_path + "/classes",
                     "medication " + SingleQuoted(id) + " lacks the vocabulary class " + SingleQuoted(cls.get<std::string>()));
      }
      const std::string icd10 = node->condition ? node->condition->icd10 : "";
      if (section == "conditions" && entry.contains("icd10") && entry["icd10"].is_string() && icd10 != entry["icd10"].get<std::string>())
        Report(at.file, at.json_path + "/icd10", "condition " + SingleQuoted(id) + " has ICD-10 " + SingleQuoted(icd10) +
                                                     " but the vocabulary says " + SingleQuoted(entry["icd10"].get<std::string>()));
    }
  }
}

}  // namespace nflux::knowledge

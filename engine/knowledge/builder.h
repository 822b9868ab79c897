// Internal: turns parsed knowledge files into a validated KnowledgeBase, collecting problems.
#pragma once

#include <map>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "base/json.h"
#include "knowledge/knowledge.h"

namespace nflux::knowledge {

class Builder {
 public:
  explicit Builder(std::vector<Problem>* problems);

  // False when the file is not JSON (reported with its line and column; nothing of it is added).
  bool AddFile(const SourceFile& file);
  // Validates references, generates field edges, runs the content checks, builds the graph.
  std::shared_ptr<KnowledgeBase> Finish();

 private:
  struct RawEdge {
    Edge edge;
    nlohmann::json json;  // as written (empty for generated edges)
    std::string from_path, to_path, citations_path;  // JSON paths of the fields, for messages
  };

  void Report(const SourceRef& at, const std::string& message);
  void Report(const std::string& file, const std::string& json_path, const std::string& message);
  void ParseNode(const nlohmann::json& json, const SourceRef& at);
  JsonReader ReaderFor(const std::string& file);
  bool ReadNodeHeader(const nlohmann::json& json, const SourceRef& at, Node& node);
  void CheckNodeFields(const nlohmann::json& json, const SourceRef& at, const Node& node);
  std::string RequireString(const nlohmann::json& json, const SourceRef& at, NodeKind kind, const char* field);
  std::string RequireWord(const nlohmann::json& json, const SourceRef& at, NodeKind kind, const char* field,
                          const std::set<std::string>& values, bool required);
  void ParsePayload(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ParsePathwayStep(const nlohmann::json& json, const SourceRef& at);
  void ParseMedication(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ParseCondition(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ParseLifestyleFactor(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ParseDerivedIndex(const nlohmann::json& json, const SourceRef& at, Node& node);
  void CheckNodeArrays(const nlohmann::json& json, const SourceRef& at);
  void AddNode(Node node);
  void CheckPendingLabs();
  std::vector<std::string> IdsOf(NodeKind kind) const;
  void ParseEdge(const nlohmann::json& json, const SourceRef& at);
  bool ReadEdgeEnds(const nlohmann::json& json, const SourceRef& at, Edge& edge);
  void ReadEdgeAttributes(const nlohmann::json& json, const SourceRef& at, Edge& edge);
  void ReadInteractionFields(const nlohmann::json& json, const SourceRef& at, Edge& edge);
  void ReadEdgeLists(const nlohmann::json& json, const SourceRef& at, RawEdge& raw);
  void ParseCitation(const std::string& key, const nlohmann::json& citation, const SourceRef& at);
  void ParseCitationStanding(const nlohmann::json& citation, const SourceRef& at, Citation& out);
  void ParseLab(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ReadLabCodes(const nlohmann::json& json, const SourceRef& at, const Node& node, Lab& lab);
  bool ReadCanonicalUnit(const nlohmann::json& json, const SourceRef& at, Lab& lab);
  void ReadConversions(const nlohmann::json& conversions, const SourceRef& at, Lab& lab);
  void ReadAcceptedUnits(const nlohmann::json& json, const SourceRef& at, Lab& lab);
  void ReadLabRanges(const nlohmann::json& json, const SourceRef& at, const Node& node, Lab& lab);
  void ReadLabLimits(const nlohmann::json& json, const SourceRef& at, Lab& lab);
  void ReadDecisionLimits(const nlohmann::json& json, const SourceRef& at, Lab& lab);
  std::optional<DecisionLimit> ParseDecisionLimit(const nlohmann::json& object, const SourceRef& at,
                                                  const units::Analyte& analyte);
  std::vector<Criterion> ParseWhenList(const nlohmann::json& object, const SourceRef& at);
  void ParseQuestionnaire(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ParseQuestionnaireCodes(const nlohmann::json& json, const SourceRef& at, Questionnaire& q);
  void ParsePositiveAt(const nlohmann::json& value, const SourceRef& at, Questionnaire& q);
  bool ParseRanges(const nlohmann::json& ranges, const SourceRef& at, const units::Analyte& analyte,
                   std::vector<LabRange>* out);
  void ParseRange(const nlohmann::json& r, const std::string& path, const std::string& file,
                  const units::Analyte& analyte, std::vector<LabRange>* out);
  void GenerateFieldEdges(const Node& node);
  void AddGenerated(const Node& node, EdgeType type, const std::string& from, const std::string& to,
                    const std::string& field_path);
  // criteria.cc: criteria and the safety payloads of conditions, classes and alerts.
  void ReadComparators(const nlohmann::json& object, const SourceRef& at, Criterion& criterion);
  std::optional<Criterion> ParseImpliedBy(const nlohmann::json& object, const SourceRef& at);
  void ReadEdgeWhen(RawEdge& raw, const Node& target);
  void CheckCriterion(const Criterion& criterion);
  void CheckCriteria();
  void ParseConditionCriteria(const nlohmann::json& json, const SourceRef& at, Condition& condition);
  void ParseMedicationClass(const nlohmann::json& json, const SourceRef& at, Node& node);
  void ParseAlert(const nlohmann::json& json, const SourceRef& at, Node& node);
  void CheckCitationKeys(const std::vector<std::string>& keys, const SourceRef& at, const std::string& field);
  void ParseWorkUp(const nlohmann::json& value, const SourceRef& at);
  void ValidateEdges();
  void CheckContent(const KnowledgeBase& kb);
  void CheckVocabulary(const KnowledgeBase& kb);
  std::string Version() const;

  // A lab id named before every file is read (derived_index inputs); checked in Finish().
  struct PendingLab {
    std::string id, file, json_path;
  };
  std::vector<PendingLab> pending_labs_;
  std::vector<std::string> first_line_labs_;  // the `work_up` section, in file order
  nlohmann::json work_up_json_;               // as written, for the version

  struct PendingCitations {
    std::vector<std::string> keys;
    std::string file, json_path;
  };

  std::vector<Problem>* problems_;
  std::vector<PendingCitations> pending_citations_;
  std::vector<Node> nodes_;
  std::map<std::string, size_t, std::less<>> node_index_;
  std::vector<RawEdge> edges_;
  std::map<std::string, Citation, std::less<>> citations_;
  nlohmann::json vocabulary_;
  std::string vocabulary_file_;
};

}  // namespace nflux::knowledge

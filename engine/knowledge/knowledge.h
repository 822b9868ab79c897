// The knowledge graph: typed nodes (transmitters, enzymes, cofactors, hormones, labs, strategies,
// conclusions...) and typed, signed, cited edges between them, loaded from the JSON files under
// knowledge/ (format: docs/knowledge-format.md) and held in a Boost.Graph adjacency list.
//
// LoadKnowledge() validates everything and reports every problem, not only the first, each naming
// the file and the JSON path. A KnowledgeBase is immutable after loading and safe to share between
// threads for reading.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/boxed.h"
#include "base/status.h"
#include "base/text.h"
#include "units/units.h"
#include "knowledge/vocabulary.h"

namespace nflux::knowledge {

enum class NodeKind {
  kNeurotransmitter, kPathway, kPathwayStep, kEnzyme, kTransporter, kReceptor, kPrecursor,
  kMetabolite, kCofactor, kHormone, kStressor, kSymptom, kLab, kQuestionnaire, kLifestyleFactor,
  kMedication, kMedicationClass, kCondition, kStrategy, kDeficit, kDriver, kAlert, kDerivedIndex,
};
std::string_view KindName(NodeKind kind);
std::optional<NodeKind> ParseKind(std::string_view name);
const std::vector<NodeKind>& AllKinds();

enum class EdgeType {
  kPrecursorOf, kSubstrateOf, kProduces, kPartOf, kCatalyzes, kCofactorOf, kRateLimiting,
  kTransports, kDegrades, kProducesMetabolite, kActivates, kUpregulates, kDownregulates, kInhibits,
  kDepletes, kMeasuredBy, kIndicates, kInvolves, kTargets, kContraindicatedWith, kMemberOf,
  kInteractsWith, kCorrects,
};
std::string_view EdgeTypeName(EdgeType type);
std::optional<EdgeType> ParseEdgeType(std::string_view name);
const std::vector<EdgeType>& AllEdgeTypes();

// How strong the kind of evidence behind a citation is (docs/knowledge-format.md, "Citations"):
// A guideline, systematic review or meta-analysis of human trials; B human trials or cohort
// studies; C animal, cell or mechanistic work, expert opinion, textbooks and databases. A is best.
enum class EvidenceGrade { kA, kB, kC };

// Whether a citation was checked: `checked` an identifier was confirmed against a readable source;
// `textbook` standard knowledge not re-checked; `uncertain` details from memory, to verify.
enum class Verification { kChecked, kTextbook, kUncertain };

// Where a node, edge or citation was written: "knowledge/labs.json" and "/nodes/3".
struct SourceRef {
  std::string file;
  std::string json_path;
};

// One validation problem. ToString(): "file:/json/path: message" (or "file:line:col: message"
// for JSON syntax errors).
struct Problem {
  std::string file;
  std::string json_path;
  std::string message;
  int line = 0;
  int column = 0;
  std::string ToString() const;
};

// "The case shows X": one test of case data, for the conditions a case implies and for
// contraindications with a threshold (docs/knowledge-format.md, "Criteria"). The safety module
// evaluates it; the knowledge module only checks that it names existing ids of the right kind.
struct Criterion {
  enum class Subject {
    kLab, kQuestionnaire, kSymptom, kLifestyle, kMedication, kPatient, kAge,  // in criteria and edges
    kCondition, kStrategy, kAlert, kDriver,                                   // edge targets only
  };
  Subject subject = Subject::kLab;
  std::string id;  // the lab, questionnaire, ... id; "pregnant" | "lactating" for kPatient; "" for kAge
  std::optional<double> above, below, at_least;
  std::optional<int> item;                        // questionnaire item (1-based), with at_least
  bool positive = false;                          // questionnaire at or above its cut-off; MDQ positive
  std::optional<Sex> sex;                         // holds only for this sex
  std::optional<double> age_below, age_at_least;  // kAge: the test; elsewhere an extra restriction
  std::string wording;                            // shown with the reason ("if prescribed for ...")
  std::vector<std::string> citations;             // empty: the node's or edge's
  SourceRef source;
};

// A reference range or optimal range, already converted to the lab's canonical unit.
struct LabRange {
  std::optional<Sex> sex;         // absent: either sex
  std::optional<double> age_min;  // inclusive, years
  std::optional<double> age_max;  // exclusive, years
  std::optional<bool> pregnant;   // absent: applies either way
  std::optional<double> low;
  std::optional<double> high;
  std::string certainty;
  std::vector<std::string> citations;
  // Optimal ranges only: the range applies only when every criterion holds (ferritin >= 75 ng/mL
  // with restless legs); empty: always.
  std::vector<Criterion> when;
};

// A cited clinical decision limit (docs/knowledge-format.md, Labs), apart from the laboratory's
// reference interval: beyond it a source calls the analyte deficient (`below`) or the marker
// raised (`above`), as for ferritin below 30 ng/mL. Already in the canonical unit.
enum class LimitSide { kBelow, kAbove };
std::string_view LimitSideName(LimitSide side);  // "below" | "above"

struct DecisionLimit {
  LimitSide side = LimitSide::kBelow;
  double value = 0;
  std::string means;  // a driver id or a short meaning ("iron_deficiency")
  std::string label;  // "iron-deficiency limit"
  std::optional<Sex> sex;  // absent: either sex
  // The limit applies only when every criterion holds (hs-CRP above 5 mg/L); empty: always.
  std::vector<Criterion> when;
  std::vector<std::string> citations;
  SourceRef source;
};

struct Patient {
  Sex sex = Sex::kFemale;
  std::optional<double> age_years;  // absent: not known (an impossible age was excluded); no age-bounded range applies
  bool pregnant = false;
};

struct Lab {
  std::string loinc;
  std::string loinc_certainty;
  std::string specimen;
  units::Analyte analyte;           // canonical unit, molar mass, analyte-specific conversions
  std::vector<std::string> units;   // accepted units, normalised spelling
  std::vector<LabRange> reference;
  std::vector<LabRange> optimal;
  std::vector<DecisionLimit> decision_limits;  // all of one side (checked when loading)
  std::optional<double> plausible_min, plausible_max;  // beyond: impossible
  std::optional<double> critical_low, critical_high;   // beyond: needs prompt review
  // Converters from any unit text to the canonical unit, parsed once per text (the case parser
  // converts every lab of every case with them). Shared by copies; never null once loaded.
  std::shared_ptr<const units::CanonicalConverters> to_canonical;

  // True when a value in `unit` (as written) converts to the canonical unit.
  bool Accepts(std::string_view unit) const { return to_canonical->FromUnit(unit, 1).ok(); }
  // True when every accepted unit gives the same number (TSH in mIU/L or uIU/mL), so that a value
  // written without a unit is not ambiguous.
  bool UnitsInterchangeable() const;

  // Tells whether a case meets one criterion (the case module supplies it).
  using CriterionTest = std::function<bool(const Criterion&)>;

  // The most specific range matching the patient (sex, age, pregnancy), or nullptr. An optimal
  // range with `when` criteria applies only where `holds` says every one of them holds (without
  // `holds`: never).
  const LabRange* ReferenceFor(const Patient& patient) const;
  const LabRange* OptimalFor(const Patient& patient, const CriterionTest& holds = nullptr) const;
  // The most specific decision limit for this patient: one whose sex matches and whose `when`
  // criteria all hold, preferring the one with the most criteria (then the first written);
  // nullptr when none applies.
  const DecisionLimit* LimitFor(const Patient& patient, const CriterionTest& holds) const;
};

struct QuestionnaireBand {
  int min = 0;
  int max = 0;
  std::string label;
};

struct Questionnaire {
  int items = 0;
  int item_min = 0;
  int item_max = 0;
  std::vector<int> reverse_items;  // 1-based
  std::optional<int> safety_item;  // 1-based
  std::vector<QuestionnaireBand> bands;
  std::optional<int> positive_at;         // total at or above: positive (either sex)
  std::optional<int> positive_at_female;  // sex-specific cut-offs, when they differ
  std::optional<int> positive_at_male;
  bool result_only = false;
  std::string loinc;  // the total score's LOINC code
  // Codes a FHIR record names it by (engine/fhir): the LOINC panel, each item's LOINC code (item n
  // at n-1; empty when not recorded) and the LOINC answer codes ("LA6568-5") with their scores.
  std::string panel_loinc;
  std::vector<std::string> item_loinc;
  std::map<std::string, int> answers;

  // The cut-off for a patient of `sex`: the sex-specific one, else positive_at; nullopt: none.
  std::optional<int> PositiveAt(Sex sex) const;
};


// Typed payloads of the node kinds other modules read; the JSON stays in Node::data for export.
struct Medication {
  std::string atc;                   // ATC code as written ("N06AB06")
  std::string rxnorm;                // RxNorm ingredient RXCUI ("321988"); "" when not recorded
  std::vector<std::string> classes;  // medication_class ids (member_of edges are generated from them)
};

// A class's ATC group codes ("N06AB"): a case medication given by a code under one of them that
// no medication node has still gets the class. Parent classes are member_of edges.
struct MedicationClass {
  std::vector<std::string> atc;
};

struct Condition {
  std::string icd10;            // "F32"; a range "F32-F33" or a list "E03, E06.3"
  std::vector<std::string> snomed;  // SNOMED CT concept ids that name it (a FHIR Condition's code)
  bool case_stressor = false;   // a case may score it (0-3) under "stressors", like a stressor node
  std::vector<Criterion> implied_by;  // the condition applies when the case meets any of these
};

struct Strategy {
  StrategyKind kind = StrategyKind::kOther;
  std::optional<int> priority;  // lower first among strategies of equal standing (referrals)
};

struct LifestyleFactor {
  LifestyleValueType value_type = LifestyleValueType::kNumber;
  std::optional<double> min, max;   // number and scale: possible range
  std::vector<std::string> values;  // enum: the allowed words
  std::string unit;                 // number: shown in messages
};

// While an alert stands, every strategy of the `block` kinds is blocked and every strategy of the
// `caution` kinds is at least acceptable with caution, for `reason` (suicide risk: "not a
// substitute for crisis care").
struct AlertGates {
  std::vector<StrategyKind> block, caution;
  std::string reason;
};

struct Alert {
  std::optional<AlertSeverity> default_severity;
  int priority = 100;  // lower first among alerts of equal severity (suicide risk: 0)
  AlertGates gates;
};

// A value computed from labs (HOMA-IR, KYN/TRP): what it is made of and when it counts as high.
struct DerivedIndex {
  std::vector<std::string> inputs;  // lab ids
  std::string unit;                 // "1" for a plain ratio
  double high_above = 0;            // above: "high", else "normal"
};

// A node's or citation's JSON exactly as written, for show, export and the store. Loaded from the
// sources it is the parsed JSON; from a compiled snapshot it stays CBOR until first read (decoding
// every node's JSON took a quarter of a snapshot open, and a command that evaluates never reads it).
// Copies share one value; reading is thread-safe.
class WrittenJson {
 public:
  WrittenJson() = default;
  WrittenJson(nlohmann::json json);  // NOLINT(google-explicit-constructor): assigned from parsed JSON
  static WrittenJson FromCbor(std::string cbor);

  const nlohmann::json& json() const;
  // The CBOR bytes (the snapshot's form): kept ones as they are, else encoded now.
  std::string Cbor() const;

 private:
  struct Value {
    std::once_flag decoded;
    std::string cbor;
    nlohmann::json json;
  };
  std::shared_ptr<Value> value_;
};

// A node's place in KnowledgeBase::nodes(); kNoPosition for none.
using NodePosition = int32_t;
inline constexpr NodePosition kNoPosition = -1;

struct Node {
  std::string id;
  NodeKind kind = NodeKind::kSymptom;
  std::string label;
  std::string description;
  std::vector<std::string> citations;
  WrittenJson data;  // the node exactly as written, for show and export
  SourceRef source;
  Boxed<Lab> lab;                      // kind lab
  Boxed<Questionnaire> questionnaire;  // kind questionnaire
  Boxed<Medication> medication;        // kind medication
  Boxed<MedicationClass> medication_class;  // kind medication_class
  Boxed<Condition> condition;          // kind condition
  Boxed<Strategy> strategy;            // kind strategy
  Boxed<LifestyleFactor> lifestyle;    // kind lifestyle_factor
  Boxed<Alert> alert;                  // kind alert
  Boxed<DerivedIndex> derived_index;   // kind derived_index

  // Internal to the knowledge module: a string field of `data`, or "" when absent. Other modules
  // read the typed payloads above.
  std::string Text(const char* field) const;
};

struct Edge {
  std::string from;
  EdgeType type = EdgeType::kInvolves;
  std::string to;
  int sign = 1;  // +1 or -1: how raising `from` moves `to`
  std::optional<double> weight;
  std::string role;       // transports
  ContraindicationSeverity severity = ContraindicationSeverity::kAbsolute;  // contraindicated_with only
  std::string alert;      // contraindicated_with
  std::vector<std::string> unless;  // contraindicated_with: lifted when the case has one of these
  // contraindicated_with: when the target counts as present (subject from the target's kind,
  // comparators from the edge's `when`); always set on those edges.
  Boxed<Criterion> when;
  std::optional<AlertSeverity> alert_severity;  // interacts_with: the alert's severity
  std::string evidence;   // H | A | M
  std::string certainty;  // high | moderate | low
  std::string note;
  std::vector<std::string> citations;
  bool generated = false;  // made from a node field (pathway_step.enzymes, enzyme.cofactors...)
  SourceRef source;

  nlohmann::json ToJson() const;
};

struct Citation {
  std::string key;
  WrittenJson data;
  SourceRef source;
  EvidenceGrade grade = EvidenceGrade::kC;              // required field "grade"
  Verification verified = Verification::kUncertain;     // required field "verified"
  std::string claim;  // what NeuroFlux uses it for ("" when the file does not say)
  // FormatData(data), made once when loaded: every report formats the same citations again.
  std::string formatted;

  // "Best J, Nijhout HF, Reed M. Serotonin synthesis... Theor Biol Med Model 2010;7:34. PMID 20723248"
  const std::string& Format() const { return formatted; }
  static std::string FormatData(const nlohmann::json& data);
  // A PMID, PMCID, DOI, Reactome id or ISBN is given (what a reader can look up).
  bool HasIdentifier() const;
};

// An influence path: the edges from the first node to the last; net_sign is their product.
struct InfluencePath {
  std::vector<const Edge*> edges;
  int net_sign = 1;
};
struct PathOptions {
  int max_depth = 6;
  size_t max_paths = 50;  // shortest first
};

class KnowledgeBase {
 public:
  KnowledgeBase();
  ~KnowledgeBase();
  KnowledgeBase(const KnowledgeBase&) = delete;
  KnowledgeBase& operator=(const KnowledgeBase&) = delete;

  const std::vector<Node>& nodes() const { return nodes_; }
  NodePosition PositionOf(const Node& node) const {  // REQUIRES: a node of this base
    return static_cast<NodePosition>(&node - nodes_.data());
  }
  const std::vector<Edge>& edges() const { return edges_; }
  const std::map<std::string, Citation, std::less<>>& citations() const { return citations_; }
  // "sha256:<hex>" of the canonical content (see docs/knowledge-format.md).
  const std::string& version() const { return version_; }
  // The labs of the `work_up` section, in file order (IsFirstLineLab()).
  const std::vector<std::string>& first_line_labs() const { return first_line_labs_; }

  const Node* Find(std::string_view id) const;
  // The medication classes `id` belongs to, directly or through other classes (member_of edges,
  // followed transitively), sorted; empty for an unknown id or one in no class. Made once, with the
  // indexes: every medication of every case asks.
  const std::vector<std::string>& ClassesOf(std::string_view id) const;
  const std::vector<std::string>& ClassesOf(const Node& node) const;  // REQUIRES: a node of this base
  const Citation* FindCitation(std::string_view key) const;
  // The best grade among the citations `keys` names (keys it lacks are skipped); nullopt for none.
  std::optional<EvidenceGrade> BestGrade(std::span<const std::string> keys) const;
  // Every citation `keys` names is `verified: uncertain` (false for an empty list).
  bool RestsOnlyOnUncertain(const std::vector<std::string>& keys) const;
  // The first-line (basic work-up) labs of the `work_up` section (docs/knowledge-format.md).
  bool IsFirstLineLab(std::string_view id) const {
    return std::find(first_line_labs_.begin(), first_line_labs_.end(), id) != first_line_labs_.end();
  }
  std::vector<std::string> Ids() const;
  std::vector<std::string> IdsOfKind(NodeKind kind) const;
  // The nodes of a kind in the base's order, as IdsOfKind lists their ids, without copying them:
  // for look-ups that scan a kind on every case (a medication by ATC code, a condition by ICD-10).
  const std::vector<const Node*>& NodesOfKind(NodeKind kind) const;
  // A node's edges in the graph's order; empty for an unknown id. Views into the base, read on
  // every case (the safety gate, ranking, the report) without building a list each time.
  std::span<const Edge* const> OutEdges(std::string_view id) const;
  std::span<const Edge* const> InEdges(std::string_view id) const;
  // A lab by id or LOINC code.
  const Node* FindLabByLoinc(std::string_view loinc) const;

  // Simple directed paths from `from` to `to` over influence edges (every type but
  // contraindicated_with), shortest first, then by text; `truncated` is set when more existed.
  Result<std::vector<InfluencePath>> FindPaths(std::string_view from, std::string_view to,
                                               const PathOptions& options, bool* truncated = nullptr) const;

  // The whole graph as JSON (version, nodes, edges with generated ones marked, citations).
  nlohmann::json ToJson() const;
  // Graphviz DOT, nodes shaped and coloured by kind, edges labelled by type and sign.
  std::string ToDot() const;

  // Internal (engine/snapshot, parts.cc): a knowledge base made again from the parts of one that
  // LoadKnowledge() validated, without validating them again; Lab::to_canonical is rebuilt.
  // REQUIRES: the parts are those of a knowledge base loaded without problems.
  struct Parts {
    std::vector<Node> nodes;
    std::vector<Edge> edges;
    std::map<std::string, Citation, std::less<>> citations;
    std::vector<std::string> first_line_labs;
    std::string version;
  };
  static std::shared_ptr<const KnowledgeBase> FromParts(Parts parts);

 private:
  friend class Builder;
  struct Graph;
  void BuildIndexes();  // id_slots_, loinc_index_, the Boost graph, classes_, of_kind_; after nodes_ and edges_ are set
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::map<std::string, Citation, std::less<>> citations_;  // std::less<>: found by string_view
  // FindCitation's index: every evidence item of a report names its rule's citation.
  std::unordered_map<std::string_view, const Citation*, StringHash, std::equal_to<>> citation_by_key_;
  std::vector<std::string> first_line_labs_;
  // The nodes by id: open addressing over a power-of-two table with linear probing; each slot holds
  // the id's hash (low bits) and the node's position + 1 (0: empty). Every symptom, lab and
  // medication of a case is looked up here: a probe or two in one array, where std::unordered_map
  // divided by its bucket count and followed a node pointer (parsing a case took 6-8% less).
  struct IdSlot {
    uint32_t hash = 0;
    uint32_t position = 0;
  };
  std::vector<IdSlot> id_slots_;
  std::optional<size_t> PositionOf(std::string_view id) const;
  std::map<std::string, size_t, std::less<>> loinc_index_;
  std::vector<std::vector<std::string>> classes_;  // ClassesOf, by node position
  // Every node's out- and in-edges from the Boost graph, flattened once: node i owns
  // [begin[i], begin[i + 1]) of its list.
  struct EdgeLists {
    std::vector<const Edge*> edges;
    std::vector<uint32_t> begin;
    std::span<const Edge* const> Of(size_t position) const {
      return {edges.data() + begin[position], edges.data() + begin[position + 1]};
    }
  };
  EdgeLists out_edges_, in_edges_;
  std::vector<std::vector<const Node*>> of_kind_;   // NodesOfKind, by NodeKind
  std::string version_;
  std::unique_ptr<Graph> graph_;
};

// One knowledge file: its path as shown in messages ("knowledge/labs.json") and its text.
// A file named "vocabulary.json" is the contract vocabulary: the ids the knowledge base must define.
struct SourceFile {
  std::string path;
  std::string text;
};

// Reads every *.json file below `dir`, in path order. Paths are `dir` + "/" + relative path.
Result<std::vector<SourceFile>> ReadKnowledgeDir(const std::string& dir);

struct LoadOutcome {
  std::shared_ptr<const KnowledgeBase> kb;  // always set; holds what could be read
  std::vector<Problem> problems;            // empty when the knowledge base is valid
};
LoadOutcome LoadKnowledge(const std::vector<SourceFile>& files);

}  // namespace nflux::knowledge

namespace nflux {

template <>
struct EnumNames<knowledge::EvidenceGrade> {
  static constexpr std::array<std::pair<knowledge::EvidenceGrade, std::string_view>, 3> kNames = {{
      {knowledge::EvidenceGrade::kA, "A"},
      {knowledge::EvidenceGrade::kB, "B"},
      {knowledge::EvidenceGrade::kC, "C"},
  }};
};

template <>
struct EnumNames<knowledge::Verification> {
  static constexpr std::array<std::pair<knowledge::Verification, std::string_view>, 3> kNames = {{
      {knowledge::Verification::kChecked, "checked"},
      {knowledge::Verification::kTextbook, "textbook"},
      {knowledge::Verification::kUncertain, "uncertain"},
  }};
};

}  // namespace nflux

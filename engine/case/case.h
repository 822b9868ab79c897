// The case: one patient's input to an evaluation (shared/contracts/case.md), parsed from JSON,
// checked against the knowledge base, normalised (labs to canonical units, questionnaires scored,
// medications and conditions resolved to knowledge ids) and annotated with data-quality findings.
//
// Two kinds of bad input, as case.md's table says:
//  - structural problems (not JSON, wrong type, unknown field or id, unknown unit or a unit of the
//    wrong dimension, an answer out of range, required patient fields missing, test/loinc or
//    medication id/ATC or condition id/ICD-10 disagreeing): ParseCase fails with InvalidArgument and
//    a message holding every problem, one per line, each starting with the source name and the
//    JSON path:
//      case.json: /labs/2/unit: unknown unit 'mg/dq': 'dq' is not a unit
//  - value problems (impossible or critical values, a missing unit, contradictions): the case
//    parses; each becomes a DataQualityIssue, and Case::flags says which alerts and suggestions the
//    rules engine must raise. ParseOptions::strict turns every issue of severity error into a
//    structural problem instead.
//  - a medication or condition the knowledge base does not know (by id nor by code): never a reason
//    to reject the case (case.md). It is kept in Case::unknown_medications / unknown_conditions
//    and reported as a data-quality warning (unknown_medication, unknown_condition); the safety
//    layer raises unchecked_medication from it.
//
// Ownership: a Case is a plain value that owns all its data; it keeps no pointer into the knowledge
// base, so it outlives it. Its ids carry the knowledge positions the parser found them at
// (NodePosition), checked by whoever reads them. Thread-safety: ParseCase and the functions below
// are pure (they read the knowledge base, which is immutable) and may run on many threads at once;
// a Case is thread-compatible (const use from many threads is safe).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "knowledge/knowledge.h"

namespace nflux::casefile {

struct ParseOptions {
  // Make value problems of severity error (impossible values, a missing unit where the value is
  // ambiguous) structural errors, so that the case is rejected (the CLI's --strict, exit 2).
  bool strict = false;
  // Prefixes every error message: the file path, or "-" for stdin. Empty: no prefix.
  std::string source_name;
};

// kInfo: a note that changes nothing (a FHIR element not used); it never raises an alert.
enum class Severity { kWarning, kError, kInfo };
std::string_view SeverityName(Severity severity);  // "warning" | "error" | "info"

// One data-quality finding. `path` is a JSON pointer into the case ("/labs/1/value"); a finding
// about two places names the second one here and both in the message.
struct DataQualityIssue {
  std::string path;
  Severity severity = Severity::kWarning;
  std::string code;  // impossible_value, missing_unit, assumed_unit, critical_value,
                     // conflicting_values, total_mismatch, item_mismatch, contradiction,
                     // unknown_medication, unknown_condition, unknown_id
  std::string message;
};

// What the data-quality findings ask of the rules engine.
struct DataQualityFlags {
  // Raise alert data_quality_warning: any finding but a critical value, an unknown medication or an
  // unknown condition (those have their own alerts).
  bool data_quality_warning = false;
  bool repeat_or_verify_labs = false;  // suggest strategy repeat_or_verify_labs (a lab excluded or conflicting)
  bool critical_lab_value = false;     // raise alert critical_lab_value
  std::vector<std::string> critical_labs;  // lab ids with a critical value, input order, no repeats
};

struct PatientInfo {
  Sex sex = Sex::kFemale;  // required
  double age_years = 0;  // required; as entered (see age_excluded)
  bool age_excluded = false;  // an impossible age: kept for the record, never used in inference
  std::optional<bool> pregnant;  // absent: not known
  std::optional<double> gestational_age_weeks;
  std::optional<bool> lactating;
  std::optional<std::string> menopausal_status;  // premenopausal | perimenopausal | postmenopausal
  std::optional<double> bmi;

  std::optional<double> Age() const;  // the age inference may use: absent when excluded

  // The patient as the knowledge base's range lookup sees it (pregnancy not known = not pregnant).
  knowledge::Patient ForRanges() const;
};

enum class LabStatus : uint8_t { kUnknown, kLow, kNormal, kHigh };
enum class OptimalStatus : uint8_t { kUnknown, kLow, kOptimal, kHigh };
std::string_view LabStatusName(LabStatus status);          // "unknown" | "low" | "normal" | "high"
std::string_view OptimalStatusName(OptimalStatus status);  // "unknown" | "low" | "optimal" | "high"

// The clinical decision limit that applies to a lab result (knowledge DecisionLimit, chosen for
// this case: the most specific one whose `when` criteria the case meets) and where the value lies.
struct LabDecision {
  knowledge::LimitSide side = knowledge::LimitSide::kBelow;
  double limit = 0;    // canonical unit
  bool beyond = false;  // below a `below` limit, above an `above` limit
  std::string label;    // "iron-deficiency limit"
  std::string means;    // "iron_deficiency"
  std::vector<std::string> citations;

  // "below" | "above" when beyond, else "within".
  std::string_view Status() const { return beyond ? knowledge::LimitSideName(side) : "within"; }
};

// Where the parser found an id: its place in KnowledgeBase::nodes(), so that evaluation indexes
// arrays instead of looking the id up again, as CLIPS facts hold interned symbols. A hint that a
// reader checks (the node there has the id) before use: a case built or edited in code may leave
// it kNoPosition or stale, or be read with another knowledge base; the id is then looked up.
using knowledge::kNoPosition;
using knowledge::NodePosition;

// A symptom's or stressor's score.
struct Score {
  int value = 0;  // 0..3
  NodePosition node = kNoPosition;
  bool operator==(const Score&) const = default;
};

struct LabResult {
  // What evaluation reads of every lab comes first, in one cache line: the id and its position,
  // whether and at what value the lab is used, and its statuses (LabStatusTruth).
  std::string test;   // knowledge id, e.g. "vitamin_b12"
  NodePosition node = kNoPosition;
  bool used = true;       // false: excluded from inference (impossible value, ambiguous unit)
  bool critical = false;  // beyond a critical limit: used, but no advice may rest on it alone
  // Against the sex-, age- and pregnancy-specific reference range; kUnknown when the lab is not
  // used or no range applies.
  LabStatus status = LabStatus::kUnknown;
  bool has_optimal = false;  // the knowledge base has a cited optimal range for this patient
  OptimalStatus optimal_status = OptimalStatus::kUnknown;
  // In the knowledge base's canonical unit; absent when the value could not be converted (a
  // missing, ambiguous unit).
  std::optional<double> value;

  std::string loinc;  // the knowledge base's code for the test ("" when it has none)
  double input_value = 0;
  std::string input_unit;  // as written; "" when the case gave none
  std::string unit;  // canonical unit
  bool unit_assumed = false;  // no unit given; the lab's only accepted unit was used

  std::optional<double> reference_low, reference_high;
  std::optional<double> optimal_low, optimal_high;
  // The applicable decision limit; absent when the lab has none for this case or is not used.
  std::optional<LabDecision> decision;

  std::string date;             // "YYYY-MM-DD" or ""
  std::string collection_time;  // "HH:MM" or ""
  std::string path;             // "/labs/2"
};

// A derived index (case.md): computed from used labs, never typed in.
struct DerivedIndex {
  std::string id;  // homa_ir | kyn_trp_ratio
  double value = 0;
  std::string unit;
  std::vector<std::string> from;  // lab ids
  std::string status;             // "normal" | "high"
  NodePosition node = kNoPosition;
};

struct QuestionnaireResult {
  std::string id;
  NodePosition node = kNoPosition;
  std::vector<int> items;  // the raw answers as given (empty when only a total was given)
  // Scored total: from the items (reverse items reversed) when given, else the given total.
  std::optional<int> total;
  std::string band;               // label of the knowledge base band holding the total, or ""
  std::optional<bool> positive;   // total >= positive_at (MDQ: its result); absent: no cut-off
  std::optional<int> safety_item;        // 1-based item number (PHQ-9: 9, EPDS: 10), if any
  std::optional<int> safety_item_value;  // its answer, from the items or from "item9"/"item10"
  std::string result;  // result-only instruments (MDQ): "positive" | "negative"
  std::string path;    // "/questionnaires/phq9"

  // Item n's raw answer (1-based), from the items or the separately given safety item.
  std::optional<int> Item(int n) const;
};

struct MedicationEntry {
  // The knowledge medication id; for a code that no medication has but that lies under a class's
  // ATC group code (N06AB99 under ssri's N06AB), the code as written, upper case.
  std::string id;
  NodePosition node = kNoPosition;  // kNoPosition for a code under a group
  std::string atc;    // the knowledge base's ATC code for it (for a code under a group: that code)
  std::string name;   // free text as prescribed, or ""
  std::string dose;   // as written, or ""
  std::vector<std::string> classes;  // member_of closure, sorted; medications used as classes included
  std::string path;
};

// A medication or condition the knowledge base knows neither by id nor by code: kept as written.
struct UnknownEntry {
  std::string text;  // the id, else the code, else the name, as written
  std::string path;  // JSON pointer to that field ("/medications/2/id")
  std::vector<std::string> nearest;  // the nearest known ids, best first (may be empty)
};

struct ConditionEntry {
  std::string id;
  std::string icd10;  // as given, or ""
  std::string path;
  NodePosition node = kNoPosition;
};

// A lifestyle field, typed by its lifestyle_factor node (value_type number, boolean, enum, scale).
struct LifestyleValue {
  LifestyleValueType value_type = LifestyleValueType::kNumber;
  std::optional<double> number;  // number and scale
  std::optional<bool> boolean;
  std::string text;  // enum
  bool used = true;  // false: excluded as impossible (outside the node's min-max)
  std::string path;
  NodePosition node = kNoPosition;  // the lifestyle factor's
};

struct Case {
  std::string case_id;
  PatientInfo patient;
  std::map<std::string, Score> symptoms;
  std::map<std::string, QuestionnaireResult> questionnaires;
  std::vector<LabResult> labs;  // input order
  std::vector<DerivedIndex> derived;
  bool medications_given = false;  // the case has a medication list (even an empty one)
  std::vector<MedicationEntry> medications;
  std::vector<UnknownEntry> unknown_medications;  // not in `medications`: they have no classes
  bool conditions_given = false;
  std::vector<ConditionEntry> conditions;
  std::vector<UnknownEntry> unknown_conditions;  // not in `conditions`
  bool supplements_given = false;
  std::vector<std::string> supplements_current;    // strategy ids
  std::vector<std::string> supplements_requested;  // strategy ids
  std::map<std::string, LifestyleValue> lifestyle;
  std::map<std::string, Score> stressors;
  nlohmann::json extra;                   // kept as given; null when absent
  std::vector<DataQualityIssue> data_quality;
  DataQualityFlags flags;

  // The used value of a lab. If it appears more than once: a dated entry beats an undated one,
  // the latest date wins, and ties (or no dates at all) go to the later entry in the input.
  // nullptr when not measured or every entry was excluded.
  const LabResult* Lab(std::string_view id) const;
  const DerivedIndex* Derived(std::string_view id) const;
  std::optional<int> Symptom(std::string_view id) const;
  std::optional<int> Stressor(std::string_view id) const;
  const QuestionnaireResult* Questionnaire(std::string_view id) const;
  std::optional<int> QuestionnaireTotal(std::string_view id) const;
  std::optional<int> QuestionnaireItem(std::string_view id, int item) const;
  bool TakesMedication(std::string_view id) const;  // exact medication id
  bool TakesMedicationClass(std::string_view class_id) const;
  bool HasCondition(std::string_view id) const;
  bool TakesSupplement(std::string_view strategy_id) const;
  bool RequestsSupplement(std::string_view strategy_id) const;
  std::optional<double> LifestyleNumber(std::string_view id) const;  // number and scale fields
  std::optional<bool> LifestyleBool(std::string_view id) const;
  std::optional<std::string> LifestyleText(std::string_view id) const;  // enum fields
  bool HasDataQuality(Severity severity) const;
};

// Whether the patient fits the restrictions any knowledge criterion may carry (`sex`, `age_below`,
// `age_at_least`). kAgeNotKnown: the sex fits and the criterion has an age bound, but the age was
// excluded; each caller decides (ranges and limits: no; safety: cannot be ruled out).
enum class Fit { kFits, kDoesNotFit, kAgeNotKnown };
Fit PatientFits(const knowledge::Criterion& criterion, const PatientInfo& patient);

// Whether the case meets a knowledge criterion (docs/knowledge-format.md, Criteria): the subjects
// a condition's `implied_by`, an optimal range's or a decision limit's `when` may name. Data that
// is missing never meets it.
bool Meets(const Case& c, const knowledge::Criterion& criterion);

// Parses and validates a case. REQUIRES: `kb` loaded without problems.
// Errors: InvalidArgument listing every structural problem (see the top comment).
Result<Case> ParseCase(std::string_view json_text, const knowledge::KnowledgeBase& kb,
                       const ParseOptions& options);

// Questionnaire scoring: the sum of the answers, a reverse item counted as
// item_min + item_max - answer. REQUIRES: answers.size() == questionnaire.items.
int ScoreItems(const knowledge::Questionnaire& questionnaire, const std::vector<int>& answers);
// The label of the band holding `total`, or "".
std::string BandFor(const knowledge::Questionnaire& questionnaire, int total);

// The medication an ATC code names: the medication whose atc equals it (a class-level code such
// as G03AA matches only a medication recorded with that code). Case-insensitive. nullptr if none.
const knowledge::Node* FindMedicationByAtc(const knowledge::KnowledgeBase& kb, std::string_view atc);
// The condition an ICD-10 code names: an exact match first; else the most specific knowledge code
// that is a category of it ("K21" for "K21.9"), or a range holding its category ("F32-F33" for
// "F32.1"). Case-insensitive. nullptr if none.
const knowledge::Node* FindConditionByIcd10(const knowledge::KnowledgeBase& kb, std::string_view icd10);
// The classes an ATC code belongs to by group (SCHEMA: medication_class.atc): every class with a
// group code that is a prefix of `atc` (case-insensitive), with their member_of closure, sorted.
// Empty when no group holds it.
std::vector<std::string> AtcGroupClasses(const knowledge::KnowledgeBase& kb, std::string_view atc);

// The derived indices computable from the case's used labs: the knowledge base's derived_index
// nodes (homa_ir, kyn_trp_ratio) whose inputs are present, in id order.
std::vector<DerivedIndex> ComputeDerived(const Case& c, const knowledge::KnowledgeBase& kb);
// True when the engine knows how to compute the derived_index node `id`.
bool HasFormula(std::string_view derived_index_id);

// Output shapes of shared/contracts/output.md. Numbers are rounded to 4 significant digits (Round4:
// 130 pmol/L of B12 is 176.2 pg/mL); the report, written without these DOMs, rounds with it too.
double Round4(double value);
nlohmann::json LabsToJson(const Case& c);
nlohmann::json DerivedToJson(const Case& c);
nlohmann::json DataQualityToJson(const Case& c);
// The whole normalised case (for storage and `nflux case show`).
nlohmann::json CaseToJson(const Case& c);
// CaseToJson(c).dump(), byte for byte, written without building the document (keys in nlohmann's
// sorted order): a batch that stores its cases writes one per case.
std::string CaseToJsonText(const Case& c);

}  // namespace nflux::casefile

#include "knowledge/schema.h"

#include <array>
#include <map>

namespace nflux::knowledge {
namespace {

using K = NodeKind;

constexpr std::array<std::pair<NodeKind, std::string_view>, 23> kKindNames = {{
    {K::kNeurotransmitter, "neurotransmitter"}, {K::kPathway, "pathway"}, {K::kPathwayStep, "pathway_step"},
    {K::kEnzyme, "enzyme"}, {K::kTransporter, "transporter"}, {K::kReceptor, "receptor"},
    {K::kPrecursor, "precursor"}, {K::kMetabolite, "metabolite"}, {K::kCofactor, "cofactor"},
    {K::kHormone, "hormone"}, {K::kStressor, "stressor"}, {K::kSymptom, "symptom"}, {K::kLab, "lab"},
    {K::kQuestionnaire, "questionnaire"}, {K::kLifestyleFactor, "lifestyle_factor"},
    {K::kMedication, "medication"}, {K::kMedicationClass, "medication_class"}, {K::kCondition, "condition"},
    {K::kStrategy, "strategy"}, {K::kDeficit, "deficit"}, {K::kDriver, "driver"}, {K::kAlert, "alert"},
    {K::kDerivedIndex, "derived_index"},
}};

constexpr std::array<std::pair<EdgeType, std::string_view>, 23> kEdgeNames = {{
    {EdgeType::kPrecursorOf, "precursor_of"}, {EdgeType::kSubstrateOf, "substrate_of"},
    {EdgeType::kProduces, "produces"}, {EdgeType::kPartOf, "part_of"}, {EdgeType::kCatalyzes, "catalyzes"},
    {EdgeType::kCofactorOf, "cofactor_of"}, {EdgeType::kRateLimiting, "rate_limiting"},
    {EdgeType::kTransports, "transports"}, {EdgeType::kDegrades, "degrades"},
    {EdgeType::kProducesMetabolite, "produces_metabolite"}, {EdgeType::kActivates, "activates"},
    {EdgeType::kUpregulates, "upregulates"}, {EdgeType::kDownregulates, "downregulates"},
    {EdgeType::kInhibits, "inhibits"}, {EdgeType::kDepletes, "depletes"}, {EdgeType::kMeasuredBy, "measured_by"},
    {EdgeType::kIndicates, "indicates"}, {EdgeType::kInvolves, "involves"}, {EdgeType::kTargets, "targets"},
    {EdgeType::kContraindicatedWith, "contraindicated_with"}, {EdgeType::kMemberOf, "member_of"},
    {EdgeType::kInteractsWith, "interacts_with"}, {EdgeType::kCorrects, "corrects"},
}};

std::set<NodeKind> AllBut(const std::set<NodeKind>& excluded) {
  std::set<NodeKind> kinds;
  for (auto [kind, name] : kKindNames)
    if (!excluded.count(kind)) kinds.insert(kind);
  return kinds;
}

const std::map<EdgeType, EdgeRule>& Rules() {
  static const std::map<EdgeType, EdgeRule> rules = [] {
    const std::set<K> molecules = {K::kPrecursor, K::kMetabolite, K::kNeurotransmitter, K::kHormone};
    std::set<K> molecules_and_cofactors = molecules;
    molecules_and_cofactors.insert(K::kCofactor);
    const std::set<K> regulators = {K::kHormone, K::kStressor, K::kMedication, K::kMedicationClass, K::kDriver,
                                    K::kCondition, K::kMetabolite, K::kCofactor, K::kReceptor, K::kLifestyleFactor};
    const std::set<K> regulated = {K::kEnzyme, K::kTransporter, K::kReceptor, K::kPathway, K::kNeurotransmitter,
                                   K::kHormone, K::kCofactor, K::kMetabolite, K::kPrecursor, K::kStressor};
    std::vector<EdgeRule> list = {
        {EdgeType::kPrecursorOf, molecules, molecules, +1, true},
        {EdgeType::kSubstrateOf, molecules_and_cofactors, {K::kPathwayStep}, +1, true},
        {EdgeType::kProduces, {K::kPathwayStep}, molecules_and_cofactors, +1, true},
        {EdgeType::kPartOf, {K::kPathwayStep}, {K::kPathway}, +1, true},
        {EdgeType::kCatalyzes, {K::kEnzyme, K::kTransporter}, {K::kPathwayStep}, +1, true},
        {EdgeType::kCofactorOf, {K::kCofactor}, {K::kEnzyme}, +1, true},
        {EdgeType::kRateLimiting, {K::kPathwayStep}, {K::kPathway}, +1, true},
        {EdgeType::kTransports, {K::kTransporter},
         {K::kNeurotransmitter, K::kPrecursor, K::kMetabolite, K::kCofactor}, +1, true},
        {EdgeType::kDegrades, {K::kEnzyme}, molecules_and_cofactors, -1, true},
        {EdgeType::kProducesMetabolite, {K::kEnzyme, K::kNeurotransmitter, K::kHormone}, {K::kMetabolite}, +1, true},
        {EdgeType::kActivates,
         {K::kNeurotransmitter, K::kHormone, K::kMetabolite, K::kMedication, K::kMedicationClass},
         {K::kReceptor}, +1, true},
        {EdgeType::kUpregulates, regulators, regulated, +1, true},
        {EdgeType::kDownregulates, regulators, regulated, -1, true},
        {EdgeType::kInhibits,
         {K::kMedication, K::kMedicationClass, K::kMetabolite, K::kHormone, K::kStressor, K::kNeurotransmitter,
          K::kPrecursor},
         {K::kEnzyme, K::kTransporter, K::kReceptor}, -1, true},
        {EdgeType::kDepletes,
         {K::kStressor, K::kMedication, K::kMedicationClass, K::kCondition, K::kDriver, K::kLifestyleFactor},
         {K::kCofactor, K::kPrecursor}, -1, true},
        {EdgeType::kMeasuredBy,
         {K::kCofactor, K::kHormone, K::kNeurotransmitter, K::kMetabolite, K::kPrecursor, K::kStressor, K::kDriver,
          K::kCondition, K::kEnzyme},
         {K::kLab}, +1, true},
        {EdgeType::kIndicates,
         {K::kDeficit, K::kPathway, K::kNeurotransmitter, K::kDriver, K::kStressor, K::kCondition, K::kAlert},
         {K::kSymptom}, +1, true},
        {EdgeType::kInvolves, {K::kDeficit, K::kDriver, K::kAlert},
         AllBut({K::kStrategy, K::kDeficit, K::kDriver, K::kAlert}), +1, true},
        {EdgeType::kTargets, {K::kStrategy}, AllBut({K::kStrategy, K::kAlert}), +1, true},
        {EdgeType::kContraindicatedWith, {K::kStrategy},
         {K::kMedication, K::kMedicationClass, K::kCondition, K::kLifestyleFactor, K::kLab, K::kQuestionnaire,
          K::kSymptom, K::kStrategy, K::kAlert, K::kDriver},
         -1, false},
        {EdgeType::kMemberOf, {K::kMedication, K::kMedicationClass}, {K::kMedicationClass, K::kMedication}, +1, true},
        {EdgeType::kInteractsWith, {K::kMedication, K::kMedicationClass}, {K::kMedication, K::kMedicationClass}, -1,
         false},
        // What a strategy treats (its ranking reads it, docs/ranking.md); no influence on the graph.
        {EdgeType::kCorrects, {K::kStrategy}, {K::kDriver, K::kStressor}, -1, false},
    };
    std::map<EdgeType, EdgeRule> by_type;
    for (auto& rule : list) by_type.emplace(rule.type, rule);
    return by_type;
  }();
  return rules;
}

}  // namespace

std::string_view KindName(NodeKind kind) {
  for (auto [k, name] : kKindNames)
    if (k == kind) return name;
  return "?";
}

std::optional<NodeKind> ParseKind(std::string_view name) {
  for (auto [k, n] : kKindNames)
    if (n == name) return k;
  return std::nullopt;
}

const std::vector<NodeKind>& AllKinds() {
  static const std::vector<NodeKind> kinds = [] {
    std::vector<NodeKind> all;
    all.reserve(kKindNames.size());
    for (auto [k, n] : kKindNames) all.push_back(k);
    return all;
  }();
  return kinds;
}

std::string_view EdgeTypeName(EdgeType type) {
  for (auto [t, name] : kEdgeNames)
    if (t == type) return name;
  return "?";
}

std::optional<EdgeType> ParseEdgeType(std::string_view name) {
  for (auto [t, n] : kEdgeNames)
    if (n == name) return t;
  return std::nullopt;
}

const std::vector<EdgeType>& AllEdgeTypes() {
  static const std::vector<EdgeType> types = [] {
    std::vector<EdgeType> all;
    all.reserve(kEdgeNames.size());
    for (auto [t, n] : kEdgeNames) all.push_back(t);
    return all;
  }();
  return types;
}

const EdgeRule& RuleFor(EdgeType type) { return Rules().at(type); }

const std::set<std::string>& FieldsFor(NodeKind kind) {
  static const std::map<NodeKind, std::set<std::string>> fields = {
      {K::kPathway, {"neurotransmitter", "reactome"}},
      {K::kPathwayStep, {"pathway", "phase", "substrates", "products", "enzymes", "rate_limiting"}},
      {K::kEnzyme, {"gene", "cofactors"}},
      {K::kTransporter, {"gene"}},
      {K::kReceptor, {"gene"}},
      {K::kLab,
       {"loinc", "loinc_certainty", "specimen", "canonical_unit", "molar_mass", "units", "conversions", "reference",
        "optimal", "decision_limits", "plausible", "critical"}},
      {K::kQuestionnaire,
       {"items", "item_min", "item_max", "reverse_items", "safety_item", "bands", "positive_at", "loinc",
        "result_only", "panel_loinc", "item_loinc", "answers"}},
      {K::kLifestyleFactor, {"value_type", "unit", "min", "max", "values"}},
      {K::kMedication, {"atc", "classes", "rxnorm"}},
      {K::kMedicationClass, {"atc", "classes"}},
      {K::kCondition, {"icd10", "case_stressor", "implied_by", "snomed"}},
      {K::kDerivedIndex, {"inputs", "unit", "high_above"}},
      {K::kStrategy, {"strategy_kind", "evidence", "priority"}},
      {K::kAlert, {"default_severity", "priority", "gates"}},
  };
  static const std::set<std::string> none;
  auto it = fields.find(kind);
  return it == fields.end() ? none : it->second;
}

bool KindNeedsCitation(NodeKind kind) {
  switch (kind) {
    case K::kPathwayStep: case K::kEnzyme: case K::kLab: case K::kQuestionnaire: case K::kMedication:
    case K::kCondition: case K::kStrategy: case K::kDeficit: case K::kDriver: case K::kAlert:
    case K::kStressor: case K::kHormone: case K::kDerivedIndex:
      return true;
    default:
      return false;
  }
}

std::string KindList(const std::set<NodeKind>& kinds) {
  std::string text;
  for (auto kind : kinds) text += (text.empty() ? "" : ", ") + std::string(KindName(kind));
  return text;
}

}  // namespace nflux::knowledge

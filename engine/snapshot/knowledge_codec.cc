// The knowledge base's structures field by field. Adding a field to one of them changes its size,
// which the static_asserts below catch: encode the field here and raise kFormatVersion (snapshot.h).
#include <nlohmann/json.hpp>

#include "snapshot/codec.h"

namespace nflux::snapshot {
namespace {

using namespace knowledge;  // NOLINT: this file is about knowledge's structures only

// The sizes the codec was written against (x86-64): a field added to one of these changes its size.
template <typename T, size_t kSize>
constexpr bool kSized = sizeof(void*) != 8 || sizeof(T) == kSize;
static_assert(kSized<SourceRef, 64>, "SourceRef changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Criterion, 264>, "Criterion changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<LabRange, 160>, "LabRange changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<DecisionLimit, 200>, "DecisionLimit changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<units::Analyte, 104>, "units::Analyte changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<units::ExplicitConversion, 48>, "units::ExplicitConversion changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Lab, 376>, "Lab changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<QuestionnaireBand, 40>, "QuestionnaireBand changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Questionnaire, 240>, "Questionnaire changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Medication, 88>, "Medication changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<MedicationClass, 24>, "MedicationClass changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Condition, 88>, "Condition changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Strategy, 12>, "Strategy changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<LifestyleFactor, 96>, "LifestyleFactor changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<AlertGates, 80>, "AlertGates changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Alert, 96>, "Alert changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<DerivedIndex, 64>, "DerivedIndex changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Node, 280>, "Node changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Edge, 400>, "Edge changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<Citation, 184>, "Citation changed: encode the field in knowledge_codec.cc, raise kFormatVersion");
static_assert(kSized<KnowledgeBase::Parts, 152>, "KnowledgeBase::Parts changed: encode the field in knowledge_codec.cc, raise kFormatVersion");

void Put(Writer& out, const SourceRef& ref) {
  out.Str(ref.file);
  out.Str(ref.json_path);
}
SourceRef GetRef(Reader& in) {
  SourceRef ref;
  ref.file = in.Str();
  ref.json_path = in.Str();
  return ref;
}

void Put(Writer& out, const WrittenJson& data) { out.Str(data.Cbor()); }

void Put(Writer& out, const Criterion& c) {
  out.Enum(c.subject);
  out.Str(c.id);
  out.OptF64(c.above);
  out.OptF64(c.below);
  out.OptF64(c.at_least);
  out.OptI32(c.item);
  out.Bool(c.positive);
  out.Opt(c.sex, [&](Sex sex) { out.Enum(sex); });
  out.OptF64(c.age_below);
  out.OptF64(c.age_at_least);
  out.Str(c.wording);
  out.Strs(c.citations);
  Put(out, c.source);
}
Criterion GetCriterion(Reader& in) {
  Criterion c;
  c.subject = in.Enum(Criterion::Subject::kDriver);
  c.id = in.Str();
  in.OptF64(c.above);
  in.OptF64(c.below);
  in.OptF64(c.at_least);
  in.OptI32(c.item);
  c.positive = in.Bool();
  in.Opt(c.sex, [&] { return in.Enum(Sex::kMale); });
  in.OptF64(c.age_below);
  in.OptF64(c.age_at_least);
  c.wording = in.Str();
  in.Strs(c.citations);
  c.source = GetRef(in);
  return c;
}

void PutCriteria(Writer& out, const std::vector<Criterion>& list) {
  out.Vec(list, [&](const Criterion& c) { Put(out, c); });
}
void GetCriteria(Reader& in, std::vector<Criterion>& list) {
  in.Vec(list, [&] { return GetCriterion(in); });
}

void Put(Writer& out, const LabRange& r) {
  out.Opt(r.sex, [&](Sex sex) { out.Enum(sex); });
  out.OptF64(r.age_min);
  out.OptF64(r.age_max);
  out.Opt(r.pregnant, [&](bool b) { out.Bool(b); });
  out.OptF64(r.low);
  out.OptF64(r.high);
  out.Str(r.certainty);
  out.Strs(r.citations);
  PutCriteria(out, r.when);
}
LabRange GetRange(Reader& in) {
  LabRange r;
  in.Opt(r.sex, [&] { return in.Enum(Sex::kMale); });
  in.OptF64(r.age_min);
  in.OptF64(r.age_max);
  in.Opt(r.pregnant, [&] { return in.Bool(); });
  in.OptF64(r.low);
  in.OptF64(r.high);
  r.certainty = in.Str();
  in.Strs(r.citations);
  GetCriteria(in, r.when);
  return r;
}

void Put(Writer& out, const DecisionLimit& d) {
  out.Enum(d.side);
  out.F64(d.value);
  out.Str(d.means);
  out.Str(d.label);
  out.Opt(d.sex, [&](Sex sex) { out.Enum(sex); });
  PutCriteria(out, d.when);
  out.Strs(d.citations);
  Put(out, d.source);
}
DecisionLimit GetLimit(Reader& in) {
  DecisionLimit d;
  d.side = in.Enum(LimitSide::kAbove);
  d.value = in.F64();
  d.means = in.Str();
  d.label = in.Str();
  in.Opt(d.sex, [&] { return in.Enum(Sex::kMale); });
  GetCriteria(in, d.when);
  in.Strs(d.citations);
  d.source = GetRef(in);
  return d;
}

void Put(Writer& out, const units::Analyte& a) {
  out.Str(a.id);
  out.Str(a.canonical_unit);
  out.OptF64(a.molar_mass);
  out.Vec(a.conversions, [&](const units::ExplicitConversion& c) {
    out.Str(c.unit);
    out.F64(c.factor);
    out.F64(c.offset);
  });
}
units::Analyte GetAnalyte(Reader& in) {
  units::Analyte a;
  a.id = in.Str();
  a.canonical_unit = in.Str();
  in.OptF64(a.molar_mass);
  in.Vec(a.conversions, [&] {
    units::ExplicitConversion c;
    c.unit = in.Str();
    c.factor = in.F64();
    c.offset = in.F64();
    return c;
  });
  return a;
}

void Put(Writer& out, const Lab& lab) {
  out.Str(lab.loinc);
  out.Str(lab.loinc_certainty);
  out.Str(lab.specimen);
  Put(out, lab.analyte);
  out.Strs(lab.units);
  out.Vec(lab.reference, [&](const LabRange& r) { Put(out, r); });
  out.Vec(lab.optimal, [&](const LabRange& r) { Put(out, r); });
  out.Vec(lab.decision_limits, [&](const DecisionLimit& d) { Put(out, d); });
  out.OptF64(lab.plausible_min);
  out.OptF64(lab.plausible_max);
  out.OptF64(lab.critical_low);
  out.OptF64(lab.critical_high);
}
Lab GetLab(Reader& in) {
  Lab lab;
  lab.loinc = in.Str();
  lab.loinc_certainty = in.Str();
  lab.specimen = in.Str();
  lab.analyte = GetAnalyte(in);
  in.Strs(lab.units);
  in.Vec(lab.reference, [&] { return GetRange(in); });
  in.Vec(lab.optimal, [&] { return GetRange(in); });
  in.Vec(lab.decision_limits, [&] { return GetLimit(in); });
  in.OptF64(lab.plausible_min);
  in.OptF64(lab.plausible_max);
  in.OptF64(lab.critical_low);
  in.OptF64(lab.critical_high);
  return lab;  // to_canonical: KnowledgeBase::FromParts
}

void Put(Writer& out, const Questionnaire& q) {
  out.I32(q.items);
  out.I32(q.item_min);
  out.I32(q.item_max);
  out.Vec(q.reverse_items, [&](int item) { out.I32(item); });
  out.OptI32(q.safety_item);
  out.Vec(q.bands, [&](const QuestionnaireBand& b) {
    out.I32(b.min);
    out.I32(b.max);
    out.Str(b.label);
  });
  out.OptI32(q.positive_at);
  out.OptI32(q.positive_at_female);
  out.OptI32(q.positive_at_male);
  out.Bool(q.result_only);
  out.Str(q.loinc);
  out.Str(q.panel_loinc);
  out.Strs(q.item_loinc);
  out.U32(static_cast<uint32_t>(q.answers.size()));
  for (const auto& [code, score] : q.answers) {
    out.Str(code);
    out.I32(score);
  }
}
Questionnaire GetQuestionnaire(Reader& in) {
  Questionnaire q;
  q.items = in.I32();
  q.item_min = in.I32();
  q.item_max = in.I32();
  in.Vec(q.reverse_items, [&] { return in.I32(); });
  in.OptI32(q.safety_item);
  in.Vec(q.bands, [&] { return QuestionnaireBand{in.I32(), in.I32(), in.Str()}; });
  in.OptI32(q.positive_at);
  in.OptI32(q.positive_at_female);
  in.OptI32(q.positive_at_male);
  q.result_only = in.Bool();
  q.loinc = in.Str();
  q.panel_loinc = in.Str();
  in.Strs(q.item_loinc);
  for (uint32_t i = 0, n = in.U32(); i < n && in.ok(); ++i) {
    std::string code = in.Str();
    q.answers[std::move(code)] = in.I32();
  }
  return q;
}

void Put(Writer& out, const Condition& c) {
  out.Str(c.icd10);
  out.Strs(c.snomed);
  out.Bool(c.case_stressor);
  PutCriteria(out, c.implied_by);
}
Condition GetCondition(Reader& in) {
  Condition c;
  c.icd10 = in.Str();
  in.Strs(c.snomed);
  c.case_stressor = in.Bool();
  GetCriteria(in, c.implied_by);
  return c;
}

void Put(Writer& out, const LifestyleFactor& f) {
  out.Enum(f.value_type);
  out.OptF64(f.min);
  out.OptF64(f.max);
  out.Strs(f.values);
  out.Str(f.unit);
}
LifestyleFactor GetLifestyle(Reader& in) {
  LifestyleFactor f;
  f.value_type = in.Enum(LifestyleValueType::kScale);
  in.OptF64(f.min);
  in.OptF64(f.max);
  in.Strs(f.values);
  f.unit = in.Str();
  return f;
}

void Put(Writer& out, const Alert& a) {
  out.Opt(a.default_severity, [&](AlertSeverity s) { out.Enum(s); });
  out.I32(a.priority);
  out.Vec(a.gates.block, [&](StrategyKind k) { out.Enum(k); });
  out.Vec(a.gates.caution, [&](StrategyKind k) { out.Enum(k); });
  out.Str(a.gates.reason);
}
Alert GetAlert(Reader& in) {
  Alert a;
  in.Opt(a.default_severity, [&] { return in.Enum(AlertSeverity::kInfo); });
  a.priority = in.I32();
  in.Vec(a.gates.block, [&] { return in.Enum(StrategyKind::kOther); });
  in.Vec(a.gates.caution, [&] { return in.Enum(StrategyKind::kOther); });
  a.gates.reason = in.Str();
  return a;
}

// The typed payloads, each present or not.
void PutPayloads(Writer& out, const Node& n) {
  out.Opt(n.lab, [&](const Lab& lab) { Put(out, lab); });
  out.Opt(n.questionnaire, [&](const Questionnaire& q) { Put(out, q); });
  out.Opt(n.medication, [&](const Medication& m) {
    out.Str(m.atc);
    out.Str(m.rxnorm);
    out.Strs(m.classes);
  });
  out.Opt(n.medication_class, [&](const MedicationClass& m) { out.Strs(m.atc); });
  out.Opt(n.condition, [&](const Condition& c) { Put(out, c); });
  out.Opt(n.strategy, [&](const Strategy& s) {
    out.Enum(s.kind);
    out.OptI32(s.priority);
  });
  out.Opt(n.lifestyle, [&](const LifestyleFactor& f) { Put(out, f); });
  out.Opt(n.alert, [&](const Alert& a) { Put(out, a); });
  out.Opt(n.derived_index, [&](const DerivedIndex& d) {
    out.Strs(d.inputs);
    out.Str(d.unit);
    out.F64(d.high_above);
  });
}
void GetPayloads(Reader& in, Node& n) {
  in.Opt(n.lab, [&] { return GetLab(in); });
  in.Opt(n.questionnaire, [&] { return GetQuestionnaire(in); });
  in.Opt(n.medication, [&] {
    Medication m;
    m.atc = in.Str();
    m.rxnorm = in.Str();
    in.Strs(m.classes);
    return m;
  });
  in.Opt(n.medication_class, [&] {
    MedicationClass m;
    in.Strs(m.atc);
    return m;
  });
  in.Opt(n.condition, [&] { return GetCondition(in); });
  in.Opt(n.strategy, [&] {
    Strategy s;
    s.kind = in.Enum(StrategyKind::kOther);
    in.OptI32(s.priority);
    return s;
  });
  in.Opt(n.lifestyle, [&] { return GetLifestyle(in); });
  in.Opt(n.alert, [&] { return GetAlert(in); });
  in.Opt(n.derived_index, [&] {
    DerivedIndex d;
    in.Strs(d.inputs);
    d.unit = in.Str();
    d.high_above = in.F64();
    return d;
  });
}

void Put(Writer& out, const Node& n) {
  out.Str(n.id);
  out.Enum(n.kind);
  out.Str(n.label);
  out.Str(n.description);
  out.Strs(n.citations);
  Put(out, n.data);
  Put(out, n.source);
  PutPayloads(out, n);
}
Node GetNode(Reader& in) {
  Node n;
  n.id = in.Str();
  n.kind = in.Enum(NodeKind::kDerivedIndex);
  n.label = in.Str();
  n.description = in.Str();
  in.Strs(n.citations);
  n.data = WrittenJson::FromCbor(in.Str());
  n.source = GetRef(in);
  GetPayloads(in, n);
  return n;
}

void Put(Writer& out, const Edge& e) {
  out.Str(e.from);
  out.Enum(e.type);
  out.Str(e.to);
  out.I32(e.sign);
  out.OptF64(e.weight);
  out.Str(e.role);
  out.Enum(e.severity);
  out.Str(e.alert);
  out.Strs(e.unless);
  out.Opt(e.when, [&](const Criterion& c) { Put(out, c); });
  out.Opt(e.alert_severity, [&](AlertSeverity s) { out.Enum(s); });
  out.Str(e.evidence);
  out.Str(e.certainty);
  out.Str(e.note);
  out.Strs(e.citations);
  out.Bool(e.generated);
  Put(out, e.source);
}
Edge GetEdge(Reader& in) {
  Edge e;
  e.from = in.Str();
  e.type = in.Enum(EdgeType::kCorrects);
  e.to = in.Str();
  e.sign = in.I32();
  in.OptF64(e.weight);
  e.role = in.Str();
  e.severity = in.Enum(ContraindicationSeverity::kCaution);
  e.alert = in.Str();
  in.Strs(e.unless);
  in.Opt(e.when, [&] { return GetCriterion(in); });
  in.Opt(e.alert_severity, [&] { return in.Enum(AlertSeverity::kInfo); });
  e.evidence = in.Str();
  e.certainty = in.Str();
  e.note = in.Str();
  in.Strs(e.citations);
  e.generated = in.Bool();
  e.source = GetRef(in);
  return e;
}

void Put(Writer& out, const Citation& c) {
  out.Str(c.key);
  Put(out, c.data);
  Put(out, c.source);
  out.Enum(c.grade);
  out.Enum(c.verified);
  out.Str(c.claim);
  out.Str(c.formatted);
}
Citation GetCitation(Reader& in) {
  Citation c;
  c.key = in.Str();
  c.data = WrittenJson::FromCbor(in.Str());
  c.source = GetRef(in);
  c.grade = in.Enum(EvidenceGrade::kC);
  c.verified = in.Enum(Verification::kUncertain);
  c.claim = in.Str();
  c.formatted = in.Str();
  return c;
}

}  // namespace

void EncodeKnowledge(const KnowledgeBase& kb, Writer& out) {
  out.Vec(kb.nodes(), [&](const Node& n) { Put(out, n); });
  out.Vec(kb.edges(), [&](const Edge& e) { Put(out, e); });
  out.U32(static_cast<uint32_t>(kb.citations().size()));
  for (const auto& [key, citation] : kb.citations()) Put(out, citation);
  out.Strs(kb.first_line_labs());
  out.Str(kb.version());
}

std::shared_ptr<const KnowledgeBase> DecodeKnowledge(Reader& in) {
  KnowledgeBase::Parts parts;
  in.Vec(parts.nodes, [&] { return GetNode(in); });
  in.Vec(parts.edges, [&] { return GetEdge(in); });
  for (uint32_t i = 0, n = in.U32(); i < n && in.ok(); ++i) {
    Citation citation = GetCitation(in);
    std::string key = citation.key;
    parts.citations.emplace(std::move(key), std::move(citation));
  }
  in.Strs(parts.first_line_labs);
  parts.version = in.Str();
  if (!in.ok()) return nullptr;
  return KnowledgeBase::FromParts(std::move(parts));
}

}  // namespace nflux::snapshot

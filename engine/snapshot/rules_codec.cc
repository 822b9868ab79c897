// The rule base's structures field by field. Adding a field to one of them changes its size,
// which the static_asserts below catch: encode the field here and raise kFormatVersion (snapshot.h).
#include "snapshot/codec.h"

namespace nflux::snapshot {
namespace {

using namespace rules;  // NOLINT: this file is about rules' structures only

// The sizes the codec was written against (x86-64): a field added to one of these changes its size.
template <typename T, size_t kSize>
constexpr bool kSized = sizeof(void*) != 8 || sizeof(T) == kSize;
static_assert(kSized<SourceLocation, 24>, "SourceLocation changed: encode the field in rules_codec.cc, raise kFormatVersion");
static_assert(kSized<Test, 264>, "Test changed: encode the field in rules_codec.cc, raise kFormatVersion");
static_assert(kSized<Condition, 320>, "Condition changed: encode the field in rules_codec.cc, raise kFormatVersion");
static_assert(kSized<Action, 264>, "Action changed: encode the field in rules_codec.cc, raise kFormatVersion");
static_assert(kSized<Rule, 536>, "Rule changed: encode the field in rules_codec.cc, raise kFormatVersion");
static_assert(kSized<RuleBase, 80>, "RuleBase changed: encode the field in rules_codec.cc, raise kFormatVersion");

// Conditions nest; a damaged image must not recurse without end.
constexpr int kMaxDepth = 256;

void Put(Writer& out, const SourceLocation& at) {
  out.File(at.file);
  out.I32(at.line);
  out.I32(at.column);
}
SourceLocation GetAt(Reader& in) {
  SourceLocation at;
  at.file = in.File();
  at.line = in.I32();
  at.column = in.I32();
  return at;
}

void Put(Writer& out, const Test& t) {
  out.Enum(t.kind);
  out.Str(t.id);
  out.Str(t.text);
  out.Enum(t.op);
  out.F64(t.number);
  out.Bool(t.has_compare);
  out.I32(t.item);
  out.F64(t.written_number);
  out.Str(t.unit);
  out.Str(t.source);
  Put(out, t.at);
  Put(out, t.id_at);
  Put(out, t.value_at);
  Put(out, t.unit_at);
}
Test GetTest(Reader& in) {
  Test t;
  t.kind = in.Enum(TestKind::kDataQuality);
  t.id = in.Str();
  t.text = in.Str();
  t.op = in.Enum(Compare::kNotEqual);
  t.number = in.F64();
  t.has_compare = in.Bool();
  t.item = in.I32();
  t.written_number = in.F64();
  t.unit = in.Str();
  t.source = in.Str();
  t.at = GetAt(in);
  t.id_at = GetAt(in);
  t.value_at = GetAt(in);
  t.unit_at = GetAt(in);
  return t;
}

void Put(Writer& out, const Condition& c) {
  out.Enum(c.op);
  out.I32(c.at_least);
  out.Vec(c.children, [&](const Condition& child) { Put(out, child); });
  Put(out, c.test);
  Put(out, c.at);
}
Condition GetCondition(Reader& in, int depth) {
  Condition c;
  if (depth > kMaxDepth) {
    in.Fail();
    return c;
  }
  c.op = in.Enum(Condition::Op::kAtLeast);
  c.at_least = in.I32();
  in.Vec(c.children, [&] { return GetCondition(in, depth + 1); });
  c.test = GetTest(in);
  c.at = GetAt(in);
  return c;
}

void Put(Writer& out, const Action& a) {
  out.Enum(a.kind);
  out.Str(a.id);
  out.F64(a.certainty);
  out.Strs(a.ids);
  out.Str(a.severity);
  out.Str(a.message);
  out.Str(a.source);
  Put(out, a.at);
  Put(out, a.id_at);
  out.Vec(a.ids_at, [&](const SourceLocation& at) { Put(out, at); });
  Put(out, a.certainty_at);
}
Action GetAction(Reader& in) {
  Action a;
  a.kind = in.Enum(ActionKind::kNoteDataQuality);
  a.id = in.Str();
  a.certainty = in.F64();
  in.Strs(a.ids);
  a.severity = in.Str();
  a.message = in.Str();
  a.source = in.Str();
  a.at = GetAt(in);
  a.id_at = GetAt(in);
  in.Vec(a.ids_at, [&] { return GetAt(in); });
  a.certainty_at = GetAt(in);
  return a;
}

void Put(Writer& out, const Rule& r) {
  out.Str(r.id);
  out.Str(r.title);
  out.Strs(r.citations);
  out.I32(r.salience);
  Put(out, r.when);
  out.Vec(r.actions, [&](const Action& a) { Put(out, a); });
  Put(out, r.at);
  Put(out, r.id_at);
  out.Vec(r.citations_at, [&](const SourceLocation& at) { Put(out, at); });
  out.File(r.source);
  out.I32(r.stratum);
}
Rule GetRule(Reader& in) {
  Rule r;
  r.id = in.Str();
  r.title = in.Str();
  in.Strs(r.citations);
  r.salience = in.I32();
  r.when = GetCondition(in, 0);
  in.Vec(r.actions, [&] { return GetAction(in); });
  r.at = GetAt(in);
  r.id_at = GetAt(in);
  in.Vec(r.citations_at, [&] { return GetAt(in); });
  r.source = in.File();
  r.stratum = in.I32();
  return r;
}

}  // namespace

void Writer::File(const std::string& name) {
  auto [it, added] = files_.emplace(name, static_cast<uint32_t>(files_.size()));
  U32(it->second);
  if (added) Str(name);
}

rules::FileName Reader::File() {
  uint32_t index = U32();
  if (index < files_.size()) return files_[index];
  if (index != files_.size()) {
    Fail();
    return {};
  }
  files_.emplace_back(Str());
  return files_.back();
}

void EncodeRules(const RuleBase& rule_base, Writer& out) {
  out.Vec(rule_base.rules, [&](const Rule& r) { Put(out, r); });
  out.Strs(rule_base.files);
  out.Str(rule_base.version);
}

std::shared_ptr<const RuleBase> DecodeRules(Reader& in) {
  auto rule_base = std::make_shared<RuleBase>();
  in.Vec(rule_base->rules, [&] { return GetRule(in); });
  in.Strs(rule_base->files);
  rule_base->version = in.Str();
  if (!in.ok()) return nullptr;
  return rule_base;
}

}  // namespace nflux::snapshot

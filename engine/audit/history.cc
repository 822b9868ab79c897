// History: a case's versions (visits) evaluated one by one and laid side by side.
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "audit/audit.h"

namespace nflux::audit {
namespace {

// One visit's measures: row key ("lab ferritin") -> value and how it reads.
struct Measure {
  double value = 0;
  std::string shown, entered, unit;
};
using Measures = std::map<std::string, Measure>;

std::string Number(double value) {
  if (std::fabs(value) >= 1000) return std::to_string(static_cast<long long>(std::llround(value)));
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", value);
  return buffer;
}

std::string Signed(double value) { return (value > 0 ? "+" : "") + Number(value); }

std::string WithUnit(double value, const std::string& unit) { return unit.empty() ? Number(value) : Number(value) + " " + unit; }

std::string LatestLabDate(const casefile::Case& c) {
  std::string latest;
  for (const auto& lab : c.labs) latest = std::max(latest, lab.date);
  return latest;
}

void AddLabs(const casefile::Case& c, Measures& out, std::vector<std::string>& order) {
  for (const auto& entry : c.labs) {
    const casefile::LabResult* lab = c.Lab(entry.test);
    std::string key = "lab " + entry.test;
    if (!lab || !lab->value || out.count(key)) continue;
    Measure measure{*lab->value, WithUnit(*lab->value, lab->unit), "", lab->unit};
    std::string entered = WithUnit(lab->input_value, lab->input_unit);
    if (entered != measure.shown) measure.entered = entered;
    out[key] = measure;
    order.push_back(key);
  }
}

void AddQuestionnaires(const casefile::Case& c, Measures& out, std::vector<std::string>& order) {
  for (const auto& [id, questionnaire] : c.questionnaires) {
    if (!questionnaire.total) continue;
    std::string key = "questionnaire " + id;
    std::string shown = std::to_string(*questionnaire.total);
    if (!questionnaire.band.empty()) shown += " (" + questionnaire.band + ")";
    out[key] = {static_cast<double>(*questionnaire.total), shown, "", ""};
    order.push_back(key);
  }
}

void AddConclusions(const pipeline::CaseEvaluation& result, Measures& out, std::vector<std::string>& order) {
  for (const auto& [key, value] : result.flux.values) {
    if (!key.ends_with(".synthesis") && !key.ends_with(".level")) continue;
    double rounded = std::round(value * 1e4) / 1e4;
    out["flux " + key] = {rounded, Number(rounded), "", ""};
    order.push_back("flux " + key);
  }
  for (const auto& [id, deficit] : result.evaluation.deficits) {
    double certainty = std::round(deficit.certainty * 1000) / 1000;
    if (certainty <= 0) continue;
    out["deficit " + id] = {certainty, Number(certainty), "", ""};
    order.push_back("deficit " + id);
  }
}

// The cell of `key` at a visit, with its change from the previous visit's measures.
HistoryCell CellOf(const std::string& key, const Measures& now, const Measures* before) {
  HistoryCell cell;
  auto it = now.find(key);
  const Measure* was = nullptr;
  if (before)
    if (auto prev = before->find(key); prev != before->end()) was = &prev->second;
  if (it == now.end()) {
    if (was) cell.change = "gone";
    return cell;
  }
  const Measure& m = it->second;
  cell = {true, m.value, m.shown, m.entered, ""};
  if (!before) return cell;
  if (!was) {
    cell.change = "new";
    return cell;
  }
  double delta = std::round((m.value - was->value) * 1e4) / 1e4;
  if (delta == 0) {
    cell.change = "0";
    return cell;
  }
  cell.change = Signed(delta) + (m.unit.empty() ? "" : " " + m.unit);
  if (key.starts_with("lab ") && was->value != 0)
    cell.change += " (" + Signed(std::round(delta / was->value * 100)) + "%)";
  return cell;
}

// Row keys in order: labs and questionnaires as first seen, flux and deficits by key.
std::vector<std::string> RowOrder(const std::vector<std::vector<std::string>>& seen) {
  std::vector<std::string> out;
  std::set<std::string> flux, deficits, done;
  for (const char* prefix : {"lab ", "questionnaire "})
    for (const auto& keys : seen)
      for (const auto& key : keys)
        if (key.starts_with(prefix) && done.insert(key).second) out.push_back(key);
  for (const auto& keys : seen)
    for (const auto& key : keys) {
      if (key.starts_with("flux ")) flux.insert(key);
      if (key.starts_with("deficit ")) deficits.insert(key);
    }
  out.insert(out.end(), flux.begin(), flux.end());
  out.insert(out.end(), deficits.begin(), deficits.end());
  return out;
}

HistoryRow RowOf(const std::string& key, const std::vector<Measures>& visits) {
  HistoryRow row;
  auto space = key.find(' ');
  row.kind = key.substr(0, space);
  row.id = key.substr(space + 1);
  for (size_t v = 0; v < visits.size(); ++v) {
    row.cells.push_back(CellOf(key, visits[v], v == 0 ? nullptr : &visits[v - 1]));
    if (auto it = visits[v].find(key); it != visits[v].end() && row.unit.empty()) row.unit = it->second.unit;
  }
  return row;
}

void AddNotes(CaseCourse& course) {
  course.notes.assign(course.visits.size(), {});
  for (const auto& row : course.rows)
    for (size_t v = 1; v < row.cells.size(); ++v)
      if (row.cells[v].change == "new" || row.cells[v].change == "gone")
        course.notes[v].push_back(row.cells[v].change + ": " + row.kind + " " + row.id);
}

}  // namespace

Result<CaseCourse> CaseHistory(const pipeline::Pipeline& pipeline, const std::vector<store::CaseVersion>& versions) {
  CaseCourse course;
  std::vector<Measures> visits;
  std::vector<std::vector<std::string>> seen;
  for (const auto& version : versions) {
    pipeline::EvaluationOptions options;
    options.source_name = "case " + version.case_id + " version " + std::to_string(version.version);
    options.engine.trace = false;
    auto evaluated = pipeline.Evaluate(version.submitted, options);
    if (!evaluated.ok()) return evaluated.status();
    course.case_id = version.case_id;
    course.visits.push_back({version.version, version.created_at, LatestLabDate(evaluated->parsed)});
    Measures measures;
    std::vector<std::string> order;
    AddLabs(evaluated->parsed, measures, order);
    AddQuestionnaires(evaluated->parsed, measures, order);
    AddConclusions(*evaluated, measures, order);
    visits.push_back(std::move(measures));
    seen.push_back(std::move(order));
  }
  for (const auto& key : RowOrder(seen)) course.rows.push_back(RowOf(key, visits));
  AddNotes(course);
  return course;
}

}  // namespace nflux::audit

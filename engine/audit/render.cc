// Renderers of diffs, impact reports and case histories: text for a terminal, Markdown that pastes
// into a note, JSON for tools. The JSON holds the same content as the text.
#include <algorithm>
#include <sstream>

#include "audit/audit.h"

namespace nflux::audit {
namespace {

using ordered_json = nlohmann::ordered_json;

// A section with the names the renderers give it.
struct NamedSection {
  const char* key;    // in JSON
  const char* title;  // in text and Markdown
  const Section* section;
};

std::vector<NamedSection> SectionsOf(const EvaluationDiff& diff) {
  return {{"versions", "versions", &diff.versions},
          {"alerts", "alerts", &diff.alerts},
          {"deficits", "deficits", &diff.deficits},
          {"drivers", "drivers", &diff.drivers},
          {"strategies", "strategies", &diff.strategies},
          {"blocked_strategies", "blocked strategies", &diff.blocked_strategies},
          {"data_quality", "data quality", &diff.data_quality},
          {"trace", "trace", &diff.trace}};
}

size_t CountOf(const EvaluationDiff& diff) {
  size_t count = diff.other.size();
  for (const auto& named : SectionsOf(diff))
    count += named.section->added.size() + named.section->removed.size() + named.section->changed.size();
  return count;
}

// A value as a reader sees it: strings bare, "(none)" for absent, long values shortened.
std::string Shown(const nlohmann::json& value) {
  if (value.is_null()) return "(none)";
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  return text.size() > 120 ? text.substr(0, 117) + "..." : text;
}

std::string ChangeLine(const Change& change) {
  std::string what = change.field.empty() ? change.id : change.id + " " + change.field;
  return what + ": " + Shown(change.before) + " -> " + Shown(change.after);
}

// "only in B" / "fired only in B" for an added item of `key`'s section.
std::string Where(const char* key, const std::string& side) {
  return std::string(key) == "trace" ? "fired only in " + side : "only in " + side;
}

void SectionText(const NamedSection& named, const std::string& a, const std::string& b, const std::string& indent,
                 std::ostringstream& out) {
  const Section& section = *named.section;
  if (section.empty()) return;
  out << indent << named.title << "\n";
  for (const auto& id : section.added) out << indent << "  + " << id << " (" << Where(named.key, b) << ")\n";
  for (const auto& id : section.removed) out << indent << "  - " << id << " (" << Where(named.key, a) << ")\n";
  for (const auto& change : section.changed) out << indent << "  ~ " << ChangeLine(change) << "\n";
}

void DiffBody(const EvaluationDiff& diff, const std::string& a, const std::string& b, const std::string& indent,
              std::ostringstream& out) {
  for (const auto& named : SectionsOf(diff)) SectionText(named, a, b, indent, out);
  if (diff.other.empty()) return;
  out << indent << "other\n";
  for (const auto& change : diff.other) out << indent << "  ~ " << ChangeLine(change) << "\n";
}

void SectionMarkdown(const NamedSection& named, const std::string& a, const std::string& b, std::ostringstream& out) {
  const Section& section = *named.section;
  if (section.empty()) return;
  out << "\n### " << named.title << "\n\n";
  for (const auto& id : section.added) out << "- added `" << id << "` (" << Where(named.key, b) << ")\n";
  for (const auto& id : section.removed) out << "- removed `" << id << "` (" << Where(named.key, a) << ")\n";
  for (const auto& change : section.changed) {
    std::string what = "`" + change.id + "`";
    if (!change.field.empty()) what += " " + change.field;
    out << "- " << what << ": `" << Shown(change.before) << "` -> `" << Shown(change.after) << "`\n";
  }
}

ordered_json ChangesJson(const std::vector<Change>& changes, bool as_paths) {
  ordered_json out = ordered_json::array();
  for (const auto& change : changes) {
    ordered_json item = as_paths ? ordered_json{{"path", change.id}} : ordered_json{{"id", change.id}, {"field", change.field}};
    item["before"] = change.before;
    item["after"] = change.after;
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

std::string DiffToText(const EvaluationDiff& diff) {
  if (diff.identical()) return "identical\n";
  std::ostringstream out;
  out << diff.a << " -> " << diff.b << ": " << CountOf(diff) << " difference(s)\n";
  DiffBody(diff, diff.a, diff.b, "", out);
  return out.str();
}

std::string DiffToMarkdown(const EvaluationDiff& diff) {
  std::ostringstream out;
  out << "## " << diff.a << " -> " << diff.b << "\n\n";
  if (diff.identical()) return out.str() + "Identical.\n";
  out << CountOf(diff) << " difference(s).\n";
  for (const auto& named : SectionsOf(diff)) SectionMarkdown(named, diff.a, diff.b, out);
  if (diff.other.empty()) return out.str();
  out << "\n### other\n\n";
  for (const auto& change : diff.other)
    out << "- `" << change.id << "`: `" << Shown(change.before) << "` -> `" << Shown(change.after) << "`\n";
  return out.str();
}

ordered_json DiffToJson(const EvaluationDiff& diff) {
  ordered_json out = {{"identical", diff.identical()}, {"a", diff.a}, {"b", diff.b}};
  for (const auto& named : SectionsOf(diff))
    out[named.key] = {{"added", named.section->added},
                      {"removed", named.section->removed},
                      {"changed", ChangesJson(named.section->changed, false)}};
  out["other"] = ChangesJson(diff.other, true);
  return out;
}

// ---- Impact

std::string ImpactToText(const ImpactReport& report) {
  std::ostringstream out;
  out << "impact: " << report.cases << " case(s) evaluated, " << report.changed.size() << " would change";
  if (!report.failed.empty()) out << ", " << report.failed.size() << " failed";
  out << "\n";
  for (const auto& item : report.changed) {
    out << "case " << item.case_id << " (version " << item.version << ")\n";
    DiffBody(item.change, item.change.a, item.change.b, "  ", out);
  }
  for (const auto& item : report.failed)
    out << "case " << item.case_id << " (version " << item.version << "): error: " << item.error << "\n";
  return out.str();
}

std::string ImpactToMarkdown(const ImpactReport& report) {
  std::ostringstream out;
  out << "## Impact\n\n" << report.cases << " case(s) evaluated, " << report.changed.size() << " would change, "
      << report.failed.size() << " failed.\n";
  for (const auto& item : report.changed) {
    out << "\n### Case `" << item.case_id << "` (version " << item.version << ")\n";
    std::string body = DiffToMarkdown(item.change);
    out << body.substr(body.find('\n') + 1);  // without its own heading
  }
  for (const auto& item : report.failed)
    out << "\n### Case `" << item.case_id << "` (version " << item.version << ")\n\nError: " << item.error << "\n";
  return out.str();
}

ordered_json ImpactToJson(const ImpactReport& report) {
  ordered_json changed = ordered_json::array(), failed = ordered_json::array();
  for (const auto& item : report.changed)
    changed.push_back({{"case_id", item.case_id}, {"version", item.version}, {"change", DiffToJson(item.change)}});
  for (const auto& item : report.failed)
    failed.push_back({{"case_id", item.case_id}, {"version", item.version}, {"error", item.error}});
  return {{"cases", report.cases}, {"changed", changed}, {"failed", failed}};
}

// ---- History

namespace {

std::string CellText(const HistoryCell& cell) {
  std::string text = cell.present ? cell.shown : "-";
  if (!cell.entered.empty()) text += " [" + cell.entered + "]";
  if (!cell.change.empty() && cell.change != "0") text += ", " + cell.change;
  return text;
}

std::string VisitTitle(const Visit& visit) {
  std::string title = "v";
  title += std::to_string(visit.version) + " ";
  title += visit.visit_date.empty() ? visit.stored_at : visit.visit_date;
  return title;
}

std::string RowTitle(const HistoryRow& row) { return row.unit.empty() ? row.id : row.id + " (" + row.unit + ")"; }

// Display width of UTF-8 text (code points, not bytes: "µmol/L" is 6 wide).
size_t Width(const std::string& text) {
  return std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string Pad(const std::string& text, size_t width) { return text + std::string(width - std::min(width, Width(text)), ' '); }

// The table as rows of cells, the header first.
std::vector<std::vector<std::string>> Table(const CaseCourse& course) {
  std::vector<std::vector<std::string>> table(1, {"kind", "measure"});
  for (const auto& visit : course.visits) table[0].push_back(VisitTitle(visit));
  for (const auto& row : course.rows) {
    std::vector<std::string> line = {row.kind, RowTitle(row)};
    for (const auto& cell : row.cells) line.push_back(CellText(cell));
    table.push_back(std::move(line));
  }
  return table;
}

std::string NotesText(const CaseCourse& course, const std::string& bullet) {
  std::string out;
  for (size_t v = 0; v < course.notes.size(); ++v) {
    if (course.notes[v].empty()) continue;
    out += bullet + "v";
    out += std::to_string(course.visits[v].version) + ": ";
    for (size_t i = 0; i < course.notes[v].size(); ++i) out += (i ? "; " : "") + course.notes[v][i];
    out += "\n";
  }
  return out;
}

std::string MarkdownCell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string HistoryToText(const CaseCourse& course) {
  auto table = Table(course);
  std::vector<size_t> widths(table[0].size(), 0);
  for (const auto& line : table)
    for (size_t i = 0; i < line.size(); ++i) widths[i] = std::max(widths[i], Width(line[i]));
  std::ostringstream out;
  out << "case " << course.case_id << ": " << course.visits.size() << " visit(s)\n";
  for (const auto& line : table) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) text += (i ? "  " : "") + (i + 1 < line.size() ? Pad(line[i], widths[i]) : line[i]);
    out << text << "\n";
  }
  std::string notes = NotesText(course, "  ");
  if (!notes.empty()) out << "changes\n" << notes;
  return out.str();
}

std::string HistoryToMarkdown(const CaseCourse& course) {
  auto table = Table(course);
  std::ostringstream out;
  out << "## Case " << course.case_id << ": " << course.visits.size() << " visit(s)\n\n";
  for (size_t r = 0; r < table.size(); ++r) {
    out << "|";
    for (const auto& cell : table[r]) out << " " << MarkdownCell(cell) << " |";
    out << "\n";
    if (r == 0) {
      out << "|";
      for (size_t i = 0; i < table[0].size(); ++i) out << (i < 2 ? " --- |" : " ---: |");
      out << "\n";
    }
  }
  std::string notes = NotesText(course, "- ");
  if (!notes.empty()) out << "\nChanges:\n\n" << notes;
  return out.str();
}

ordered_json HistoryToJson(const CaseCourse& course) {
  ordered_json visits = ordered_json::array(), rows = ordered_json::array();
  for (size_t v = 0; v < course.visits.size(); ++v)
    visits.push_back({{"version", course.visits[v].version},
                      {"stored_at", course.visits[v].stored_at},
                      {"visit_date", course.visits[v].visit_date},
                      {"notes", v < course.notes.size() ? course.notes[v] : std::vector<std::string>{}}});
  for (const auto& row : course.rows) {
    ordered_json cells = ordered_json::array();
    for (const auto& cell : row.cells) {
      if (!cell.present) {
        cells.push_back(cell.change.empty() ? ordered_json() : ordered_json{{"change", cell.change}});
        continue;
      }
      ordered_json item = {{"value", cell.value}, {"shown", cell.shown}};
      if (!cell.entered.empty()) item["entered"] = cell.entered;
      item["change"] = cell.change;
      cells.push_back(std::move(item));
    }
    rows.push_back({{"kind", row.kind}, {"id", row.id}, {"unit", row.unit}, {"cells", cells}});
  }
  return {{"case_id", course.case_id}, {"visits", visits}, {"rows", rows}};
}

}  // namespace nflux::audit

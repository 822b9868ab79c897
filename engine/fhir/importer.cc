// The import as an outline: collect the resources of the input (bundle entries, contained ones),
// map each family to the case, list what was not used, assemble the case JSON.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/json.h"
#include "base/text.h"
#include "fhir/importer.h"

namespace nflux::fhir {

using casefile::Severity;
using internal::json;
using internal::ordered_json;

bool IsFhirResource(const nlohmann::json& document) {
  return document.is_object() && document.contains("resourceType") && document["resourceType"].is_string();
}

Result<Import> ImportFhir(const nlohmann::json& resource, const knowledge::KnowledgeBase& kb,
                          const ImportOptions& options) {
  return internal::Importer(kb, options).Run(resource);
}

std::string OriginOf(const Import& imported, const std::string& case_path) {
  std::string best_key, best;
  for (const auto& [pointer, origin] : imported.origins) {
    const bool prefix = case_path.rfind(pointer, 0) == 0 &&
                        (case_path.size() == pointer.size() || case_path[pointer.size()] == '/');
    if (prefix && pointer.size() > best_key.size()) {
      best_key = pointer;
      best = origin;
    }
  }
  return best;
}

namespace internal {

std::string Quote(const std::string& text) { return "'" + text + "'"; }

// ---- Dates --------------------------------------------------------------------------------------

std::string DatePart(const std::string& when) {
  if (when.size() < 10 || !IsCalendarDate(std::string_view(when).substr(0, 10))) return "";
  return when.substr(0, 10);
}

std::string TimePart(const std::string& when) {
  if (when.size() < 16 || when[10] != 'T') return "";
  return when.substr(11, 5);
}

int YearsBetween(const std::string& birth, const std::string& on) {
  int by = 0, bm = 0, bd = 0, oy = 0, om = 0, od = 0;
  std::sscanf(birth.c_str(), "%d-%d-%d", &by, &bm, &bd);
  std::sscanf(on.c_str(), "%d-%d-%d", &oy, &om, &od);
  int years = oy - by;
  if (om < bm || (om == bm && od < bd)) --years;  // the birthday of this year is still to come
  return years;
}

std::string Today() {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd{today};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

// ---- Reporting and typed reading ----------------------------------------------------------------

void Importer::Error(const std::string& path, const std::string& message) {
  std::string line = options_.source_name.empty() ? "" : options_.source_name + ": ";
  errors_.push_back(line + (path.empty() ? "" : path + ": ") + message);
}

void Importer::Note(const std::string& path, Severity severity, const char* code, std::string message) {
  import_.notes.push_back({path, severity, code, std::move(message)});
}

const json* Importer::StringField(const json& object, const char* key, const std::string& path) {
  const json* value = JsonReader::Field(object, key);
  if (value == nullptr || value->is_string()) return value;
  Error(path + "." + key, "expected a string, got " + JsonTypeWithArticle(*value));
  return nullptr;
}

const json* Importer::ObjectField(const json& object, const char* key, const std::string& path) {
  const json* value = JsonReader::Field(object, key);
  if (value == nullptr || value->is_object()) return value;
  Error(path + "." + key, "expected an object, got " + JsonTypeWithArticle(*value));
  return nullptr;
}

const json* Importer::ArrayField(const json& object, const char* key, const std::string& path) {
  const json* value = JsonReader::Field(object, key);
  if (value == nullptr || value->is_array()) return value;
  Error(path + "." + key, "expected an array, got " + JsonTypeWithArticle(*value));
  return nullptr;
}

std::vector<Coding> Importer::Codings(const json& codeable, const std::string& path) {
  std::vector<Coding> out;
  const json* codings = ArrayField(codeable, "coding", path);
  if (codings == nullptr) return out;
  for (size_t i = 0; i < codings->size(); ++i) {
    const std::string at = path + ".coding[" + std::to_string(i) + "]";
    const json& coding = (*codings)[i];
    if (!coding.is_object()) {
      Error(at, "expected an object, got " + JsonTypeWithArticle(coding));
      continue;
    }
    Coding c{"", "", "", at};
    if (const json* system = StringField(coding, "system", at)) c.system = system->get<std::string>();
    if (const json* code = StringField(coding, "code", at)) c.code = code->get<std::string>();
    if (const json* display = StringField(coding, "display", at)) c.display = display->get<std::string>();
    out.push_back(std::move(c));
  }
  return out;
}

std::string Importer::Status(size_t index) {
  const Resource& r = resources_[index];
  const json* status = StringField(*r.value, "status", r.path);
  return status ? status->get<std::string>() : "";
}

// ---- Resources and references ---------------------------------------------------------------------

void Importer::AddResource(const json& value, const std::string& path, const std::string& full_url, int container) {
  if (!value.is_object()) {
    Error(path, "expected a resource (an object), got " + JsonTypeWithArticle(value));
    return;
  }
  const json* type = JsonReader::Field(value, "resourceType");
  if (type == nullptr || !type->is_string()) {
    Error(path + ".resourceType", type ? "expected a string, got " + JsonTypeWithArticle(*type) : "missing");
    return;
  }
  Resource r{&value, path, type->get<std::string>(), "", full_url, container, false};
  if (const json* id = StringField(value, "id", path)) r.id = id->get<std::string>();
  const int self = static_cast<int>(resources_.size());
  resources_.push_back(std::move(r));
  if (const json* contained = ArrayField(value, "contained", path))
    for (size_t i = 0; i < contained->size(); ++i)
      AddResource((*contained)[i], path + ".contained[" + std::to_string(i) + "]", "", self);
}

void Importer::CollectResources(const json& root) {
  const std::string type = root["resourceType"].get<std::string>();
  if (type == "Bundle") CollectEntries(root, "Bundle");
  else AddResource(root, type, "", -1);
}

// A bundle's entries; a bundle inside one (a CDS Hooks prefetch of search results) is read through.
void Importer::CollectEntries(const json& bundle, const std::string& path) {
  const json* entries = ArrayField(bundle, "entry", path);
  for (size_t i = 0; entries && i < entries->size(); ++i) {
    const std::string at = path + ".entry[" + std::to_string(i) + "]";
    const json& entry = (*entries)[i];
    if (!entry.is_object()) {
      Error(at, "expected an object, got " + JsonTypeWithArticle(entry));
      continue;
    }
    const json* resource = ObjectField(entry, "resource", at);
    if (resource == nullptr) {
      Note(at, Severity::kInfo, "unused_element", "an entry without a resource (a request or response only)");
      continue;
    }
    if (IsFhirResource(*resource) && (*resource)["resourceType"] == "Bundle") {
      CollectEntries(*resource, at + ".resource");
      continue;
    }
    const json* full_url = StringField(entry, "fullUrl", at);
    AddResource(*resource, at + ".resource", full_url ? full_url->get<std::string>() : "", -1);
  }
}

int Importer::Resolve(const json& reference, const std::string& path, size_t from) {
  const json* text = StringField(reference, "reference", path);
  if (text == nullptr) return -1;
  const std::string target = text->get<std::string>();
  const int holder = resources_[from].container >= 0 ? resources_[from].container : static_cast<int>(from);
  for (size_t i = 0; i < resources_.size(); ++i) {
    const Resource& r = resources_[i];
    const bool match = target.starts_with("#") ? r.container == holder && "#" + r.id == target
                                               : (!r.full_url.empty() && r.full_url == target) ||
                                                     (r.container < 0 && !r.id.empty() && r.type + "/" + r.id == target) ||
                                                     (r.container < 0 && !r.id.empty() && target.ends_with("/" + r.type + "/" + r.id));
    if (match) return static_cast<int>(i);
  }
  return -1;
}

// Elements every resource may carry that say nothing about the patient's state.
const std::set<std::string>& Bookkeeping() {
  static const std::set<std::string> names = {"resourceType", "id", "meta", "implicitRules", "language", "text",
                                              "identifier", "contained", "extension", "subject", "patient",
                                              "category", "encounter", "context"};
  return names;
}

void Importer::NoteUnusedElements(size_t index, const std::set<std::string>& used) {
  const Resource& r = resources_[index];
  for (const auto& [key, value] : r.value->items()) {
    if (used.count(key) || Bookkeeping().count(key)) continue;
    if (key == "modifierExtension")
      Note(r.path + "." + key, Severity::kWarning, "unused_element",
           "a modifier extension NeuroFlux does not understand: it may change the meaning of this " + r.type);
    else
      Note(r.path + "." + key, Severity::kInfo, "unused_element", "element not used by NeuroFlux");
  }
}

void Importer::NoteUnusedResources() {
  for (const Resource& r : resources_) {
    if (r.used) continue;
    if (r.type == "Medication")
      Note(r.path, Severity::kInfo, "unused_resource", "a Medication no MedicationStatement or MedicationRequest uses");
    else if (r.container >= 0)
      Note(r.path, Severity::kInfo, "unused_resource", "a contained " + r.type + " nothing refers to");
    else
      Note(r.path, Severity::kInfo, "unused_resource", "resource type " + r.type + " is not used by NeuroFlux");
  }
}

// ---- The outline ------------------------------------------------------------------------------------

std::string Importer::DefaultAsOf() const {
  std::string latest;
  for (const auto& [key, candidates] : observations_)
    for (const Candidate& c : candidates) latest = std::max(latest, DatePart(c.when));
  return latest.empty() ? Today() : latest;
}

void Importer::MapAll() {
  ClassifyObservations();
  as_of_ = options_.as_of.value_or(DefaultAsOf());
  MapPatient();
  MapObservations();
  MapQuestionnaireResponses();
  MapMedications();
  MapConditions();
  NoteUnusedResources();
}

ordered_json Importer::FhirSource(const json& root) const {
  ordered_json source = ordered_json::object();
  if (!options_.source_name.empty()) source["source"] = options_.source_name;
  source["resourceType"] = root["resourceType"];
  if (root.contains("id") && root["id"].is_string()) source["id"] = root["id"];
  if (patient_ >= 0) source["patient"] = "Patient/" + resources_[static_cast<size_t>(patient_)].id;
  source["as_of"] = as_of_;
  return source;
}

Result<Import> Importer::Run(const json& root) {
  if (!IsFhirResource(root)) {
    Error("", "not a FHIR resource: expected a JSON object with a string 'resourceType'");
    return Status::InvalidArgument(errors_.front());
  }
  if (options_.as_of && DatePart(*options_.as_of) != *options_.as_of)
    Error("", "--as-of: expected a date YYYY-MM-DD, got " + Quote(*options_.as_of));
  root_ = root["resourceType"].get<std::string>();
  CollectResources(root);
  if (errors_.empty()) MapAll();
  return Finish(root);
}

Result<Import> Importer::Finish(const json& root) {
  if (!errors_.empty()) return Status::InvalidArgument(Join(errors_, "\n"));
  // Warnings before the info notes, each in the order found: what may matter is read first.
  std::stable_partition(import_.notes.begin(), import_.notes.end(),
                        [](const casefile::DataQualityIssue& n) { return n.severity != Severity::kInfo; });
  ordered_json out = ordered_json::object();
  const std::string case_id = patient_ >= 0 ? resources_[static_cast<size_t>(patient_)].id : "";
  out["case_id"] = !case_id.empty() ? case_id : root.value("id", std::string("fhir"));
  for (const char* key : {"patient", "symptoms", "questionnaires", "labs", "medications", "supplements",
                          "conditions", "lifestyle", "stressors"})
    if (case_.contains(key)) out[key] = case_[key];
  out["extra"]["fhir"] = FhirSource(root);
  import_.case_json = std::move(out);
  return std::move(import_);
}

}  // namespace internal
}  // namespace nflux::fhir

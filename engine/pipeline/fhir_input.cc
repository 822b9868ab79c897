// FHIR R4 input for the pipeline: the import (engine/fhir), then the usual case parser on the case
// it gives, with the import's notes in the case's data quality and case errors traced back to the
// FHIR element they came from.
#include <cstring>
#include <sstream>

#include "base/json.h"
#include "base/text.h"
#include "pipeline/pipeline.h"

namespace nflux::pipeline {
namespace {

// "SOURCE: /labs/0/unit: message" -> "SOURCE: Bundle.entry[5].resource (case /labs/0/unit): message".
std::string WithOrigins(const std::string& message, const std::string& source_name, const fhir::Import& imported) {
  const std::string prefix = source_name.empty() ? "" : source_name + ": ";
  std::istringstream lines(message);
  std::vector<std::string> out;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix + "/", 0) == 0) {
      const size_t start = prefix.size(), end = line.find(": ", start);
      const std::string pointer = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
      if (const std::string origin = fhir::OriginOf(imported, pointer); !origin.empty())
        line = prefix + origin + " (case " + pointer + ")" + (end == std::string::npos ? "" : line.substr(end));
    }
    out.push_back(line);
  }
  return Join(out, "\n");
}

}  // namespace

bool Pipeline::LooksLikeFhir(std::string_view text) {
  // memmem, not string_view::find: find stops at every '"' of the text (most of a case's parse time
  // once was this), glibc's memmem skips ahead.
  constexpr std::string_view kKey = "\"resourceType\"";
  return ::memmem(text.data(), text.size(), kKey.data(), kKey.size()) != nullptr;  // glibc, via <cstring>
}

Result<fhir::Import> Pipeline::ImportFhir(std::string_view text, const fhir::ImportOptions& options) const {
  auto document = ParseJsonDocument(text, options.source_name.empty() ? "fhir" : options.source_name);
  if (!document.ok()) return document.status();
  if (!fhir::IsFhirResource(*document))
    return Status::InvalidArgument((options.source_name.empty() ? "" : options.source_name + ": ") +
                                   "not a FHIR resource: expected a JSON object with a string 'resourceType'");
  return fhir::ImportFhir(*document, *kb_, options);
}

Result<casefile::Case> Pipeline::ParseFhirCase(std::string_view text, const std::string& source_name, bool strict,
                                               const std::optional<std::string>& as_of) const {
  StrictJson parsed = ParseJsonStrict(text);
  // Not JSON, or JSON that is a case after all ("resourceType" inside extra): the case parser says.
  if (parsed.syntax_error || !fhir::IsFhirResource(parsed.value)) {
    casefile::ParseOptions options;
    options.strict = strict;
    options.source_name = source_name;
    return casefile::ParseCase(text, *kb_, options);
  }
  // A key given twice: ImportFhir's message names every one.
  if (!parsed.duplicate_keys.empty()) return ImportFhir(text, {as_of, source_name}).status();
  return ParseFhirResource(parsed.value, source_name, strict, as_of);
}

Result<casefile::Case> Pipeline::ParseFhirResource(const nlohmann::json& resource, const std::string& source_name,
                                                   bool strict, const std::optional<std::string>& as_of) const {
  auto imported = fhir::ImportFhir(resource, *kb_, {as_of, source_name});
  if (!imported.ok()) return imported.status();
  casefile::ParseOptions options;
  options.strict = strict;
  options.source_name = source_name;
  auto c = casefile::ParseCase(imported->case_json.dump(), *kb_, options);
  if (!c.ok()) return Status::InvalidArgument(WithOrigins(c.status().message(), source_name, *imported));
  // Notes after the case's own findings; they raise nothing (DataQualityFlags is already set).
  c->data_quality.insert(c->data_quality.end(), imported->notes.begin(), imported->notes.end());
  return c;
}

}  // namespace nflux::pipeline

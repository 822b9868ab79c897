#!/usr/bin/env bash
# End-to-end tests of FHIR input on the command line (shared/contracts/fhir.md, cli.md): `nflux
# import fhir`, `evaluate` and `batch` on FHIR bundles, --as-of, and the exit codes of bad input.
# Run by ctest (cli_fhir) from the repository root with $NFLUX set to the built binary.
source "$(dirname "$0")/../cli/testlib.sh"

BUNDLES=tests/fhir/bundles

# import fhir: the case on stdout, every note on stderr as "FHIR.path: message".
expect_exit 0 "$NFLUX" import fhir $BUNDLES/messy_repeated_labs.json
expect_json 'd["patient"] == {"sex": "male", "age_years": 52}' \
            'd["labs"][0] == {"test": "ferritin", "value": 22.0, "unit": "ug/L", "date": "2026-09-30", "collection_time": "08:05"}' \
            'd["extra"]["fhir"]["as_of"] == "2026-09-30"' 'd["medications"] == []'
expect_line "Bundle.entry[3].resource.status: LOINC 2276-4 (ferritin): status 'preliminary'; only final, amended or corrected results are used"
expect_line "Bundle.entry[11].resource: resource type Encounter is not used by NeuroFlux"
expect_exit 0 "$NFLUX" import fhir - <$BUNDLES/messy_repeated_labs.json
expect_exit 0 "$NFLUX" import fhir $BUNDLES/messy_repeated_labs.json --as-of 2027-03-09
expect_json 'd["patient"]["age_years"] == 53'

# Bad input is exit 2 naming the FHIR path; a case is not FHIR.
expect_exit 2 "$NFLUX" import fhir examples/perimenopause.json
expect_line "examples/perimenopause.json: not a FHIR resource: expected a JSON object with a string 'resourceType'"
printf '{"resourceType": "Patient", "gender": "unknown", "birthDate": "1990-01-01"}' >"$TMP/patient.json"
expect_exit 2 "$NFLUX" import fhir "$TMP/patient.json"
expect_line "$TMP/patient.json: Patient.gender: 'unknown': NeuroFlux needs female or male (its reference ranges are sex-specific)"
expect_exit 2 "$NFLUX" evaluate "$TMP/patient.json"
expect_exit 2 "$NFLUX" import fhir $BUNDLES/messy_repeated_labs.json --as-of 2027-3-9
expect_contains "--as-of: expected a date YYYY-MM-DD, got '2027-3-9'"
printf '{"resourceType": "Bundle", "entry": [' >"$TMP/broken.json"
expect_exit 2 "$NFLUX" import fhir "$TMP/broken.json"
expect_contains "$TMP/broken.json:1:"
sed 's/"value": 22/"value": "22"/' $BUNDLES/messy_repeated_labs.json >"$TMP/string_value.json"
expect_exit 2 "$NFLUX" evaluate "$TMP/string_value.json"
expect_line "$TMP/string_value.json: Bundle.entry[2].resource.valueQuantity.value: expected a number, got a string"
sed 's|"code": "ug/L"|"code": "ug/dq"|' $BUNDLES/messy_repeated_labs.json >"$TMP/bad_unit.json"
expect_exit 2 "$NFLUX" evaluate "$TMP/bad_unit.json"
expect_contains "$TMP/bad_unit.json: Bundle.entry[2].resource (case /labs/0/unit): unknown unit 'ug/dq'"

# evaluate reads a bundle as it reads its case: the same conclusions, the notes in data_quality.
expect_exit 0 "$NFLUX" evaluate $BUNDLES/ssri_5htp_request.json --format json
expect_json '[a["id"] for a in d["alerts"]] == ["serotonin_syndrome_risk"]' \
            '[s["id"] for s in d["blocked_strategies"]] == ["precursor_5htp"]'
expect_exit 0 "$NFLUX" evaluate $BUNDLES/messy_medications.json --format json
expect_json '{"path": "Bundle.entry[6].resource.status", "severity": "info", "code": "inactive", "message": "MedicationStatement with status '"'"'stopped'"'"': not a current medication"} in d["data_quality"]' \
            '"data_quality_warning" not in [a["id"] for a in d["alerts"]]' \
            'sorted(r["id"] for r in d["requested_supplements"]) == ["cofactor_magnesium", "precursor_5htp"]'
expect_exit 0 "$NFLUX" evaluate $BUNDLES/messy_medications.json --as-of 2030-01-01
expect_exit 0 "$NFLUX" evaluate $BUNDLES/ssri_5htp_request.json --format markdown

# The other commands read a bundle too; a what-if changes the case the bundle gives.
expect_exit 0 "$NFLUX" explain $BUNDLES/perimenopause.json --why serotonin_synthesis
expect_exit 0 "$NFLUX" whatif $BUNDLES/perimenopause.json --set lab.ferritin=80ng/mL
expect_line "  strategy:cofactor_iron: 1 -> 0"

# batch: a folder of bundles and a JSON Lines file mixing a bundle and a case.
mkdir "$TMP/bundles"
cp $BUNDLES/perimenopause.json $BUNDLES/messy_medications.json "$TMP/bundles/"
expect_exit 0 "$NFLUX" batch "$TMP/bundles" --jobs 2 --quiet --out "$TMP/bundles.jsonl"
expect_true "two results from two bundles" test "$(wc -l <"$TMP/bundles.jsonl")" -eq 2
python3 -c 'import json, sys; [print(json.dumps(json.load(open(f)))) for f in sys.argv[1:]]' \
  $BUNDLES/pregnancy.json examples/pregnancy.json >"$TMP/mixed.jsonl"
expect_exit 0 "$NFLUX" batch "$TMP/mixed.jsonl" --jobs 1 --quiet --out "$TMP/mixed_out.jsonl"
expect_true "a bundle and its case give the same alerts in batch" python3 -c '
import json, sys
a, b = [json.loads(line) for line in open(sys.argv[1])]
sys.exit(0 if [x["id"] for x in a["alerts"]] == [x["id"] for x in b["alerts"]] and a["alerts"] else 1)' "$TMP/mixed_out.jsonl"

expect_exit 0 "$NFLUX" import --help
expect_contains "fhir"
expect_exit 0 "$NFLUX" import fhir --help
expect_contains "--as-of"

report_and_exit

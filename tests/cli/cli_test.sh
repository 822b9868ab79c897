#!/usr/bin/env bash
# End-to-end tests of the nflux command: exit codes (shared/contracts/cli.md), messages that point
# at the file and JSON path, JSON outputs that parse, and the knowledge database round trip.
#
# Run by ctest (cli_end_to_end) with the repository root as the working directory and $NFLUX set to
# the built binary. Prints every failure, then "N passed, N failed"; exits non-zero on any failure.

# shellcheck source=tests/cli/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

# ---------------------------------------------------------------------------------------------
# kb validate

expect_exit 0 "$NFLUX" kb validate
expect_contains "no problems"

KB_BROKEN=$TMP/kb_broken
cp -r knowledge "$KB_BROKEN"
# A misspelt field on the first hormone: one problem, reported with its file and JSON path.
python3 - "$KB_BROKEN/hormones.json" <<'EOF'
import json, sys
path = sys.argv[1]
doc = json.load(open(path))
doc["nodes"][0]["labl"] = "typo"
json.dump(doc, open(path, "w"), indent=2)
EOF
FIRST_HORMONE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["nodes"][0]["id"])' "$KB_BROKEN/hormones.json")
expect_exit 3 "$NFLUX" kb validate --knowledge "$KB_BROKEN"
expect_line "$KB_BROKEN/hormones.json:/nodes/0/labl: unknown field 'labl' for a hormone node (did you mean 'label'?)"
expect_contains "1 problem(s)"
expect_exit 3 "$NFLUX" --knowledge "$KB_BROKEN" kb validate --json
expect_json 'd["ok"] is False and len(d["problems"]) == 1 and d["problems"][0]["path"] == "/nodes/0/labl"'

KB_SYNTAX=$TMP/kb_syntax
cp -r knowledge "$KB_SYNTAX"
printf '{"nodes": [}\n' >"$KB_SYNTAX/extra.json"
expect_exit 3 "$NFLUX" kb validate --knowledge "$KB_SYNTAX"
expect_contains "$KB_SYNTAX/extra.json:1:12: invalid JSON: syntax error"

expect_exit 2 "$NFLUX" kb validate --knowledge "$TMP/no_such_dir"
expect_contains "$TMP/no_such_dir: knowledge directory not found"

# ---------------------------------------------------------------------------------------------
# kb stats, show, path, export

expect_exit 0 "$NFLUX" kb stats --json
expect_json 'd["version"].startswith("sha256:") and len(d["version"]) == 71' \
  'd["uncited_edges"] == 0' \
  'd["nodes"]["enzyme"] > 0 and d["edges"]["cofactor_of"] > 0' \
  'sum(d["nodes"].values()) == d["total_nodes"] and sum(d["edges"].values()) == d["total_edges"]'
cp "$OUT" "$TMP/stats_json.json"
JSON_VERSION=$(json_field "$TMP/stats_json.json" version)

expect_exit 0 "$NFLUX" kb stats
expect_contains "knowledge $JSON_VERSION"
expect_contains "resting only on uncertain citations:"

# kb citations: the counts README reports, with the rules, and what rests only on uncertain citations.
expect_exit 0 "$NFLUX" kb citations --json --list
expect_json 'd["checked"] + d["textbook"] + d["uncertain"] == d["total"]' \
  'sum(d["grades"].values()) == d["total"] and d["with_identifier"] <= d["total"]' \
  'd["edges_only_uncertain"] == len(d["uncertain_edges"]) and d["rules_only_uncertain"] == len(d["uncertain_rules"])' \
  'd["rules"] > 0 and d["version"] == "'"$JSON_VERSION"'"'
expect_exit 0 "$NFLUX" kb citations
expect_contains "checked,"
expect_contains "rules"

expect_exit 0 "$NFLUX" kb show tph2
expect_contains "tph2 (enzyme)"
expect_contains "--cofactor_of(+)--> tph2"
expect_contains "--catalyzes(+)--> "
expect_line "citations"
# Every citation key listed on an edge appears, formatted, in the citations section.
expect_true "kb show tph2: cited keys are listed with their text" python3 - "$OUT" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
head, _, tail = text.partition("\ncitations\n")
keys = {k.strip() for group in re.findall(r"  \[([^\]]+)\]$", head, re.M) for k in group.split(",")}
listed = dict(re.findall(r"^  \[(\w+)\] (.+)$", tail, re.M))
sys.exit(0 if keys and keys <= set(listed) and all(listed[k] for k in keys) else 1)
EOF

expect_exit 0 "$NFLUX" kb show tph2 --json
expect_json 'd["node"]["id"] == "tph2" and any(e["type"] == "cofactor_of" and e.get("generated") for e in d["in"])'

expect_exit 2 "$NFLUX" kb show tph3
expect_contains "unknown node 'tph3' (did you mean "
expect_contains "'tph2'"

expect_exit 0 "$NFLUX" kb path cortisol serotonin
expect_contains "tdo2"
expect_contains "net -"
expect_contains "cortisol --upregulates(+)--> tdo2"

expect_exit 0 "$NFLUX" kb path cortisol serotonin --json
expect_json 'd["from"] == "cortisol" and d["to"] == "serotonin" and len(d["paths"]) > 0' \
  'any(p["net_sign"] == "-" and any(s["to"] == "tdo2" for s in p["steps"]) for p in d["paths"])' \
  'all(p["length"] == len(p["steps"]) for p in d["paths"]) and [p["length"] for p in d["paths"]] == sorted(p["length"] for p in d["paths"])'

expect_exit 0 "$NFLUX" kb path cortisol serotonin --json --limit 1
expect_json 'len(d["paths"]) == 1 and d["truncated"] is True'

expect_exit 2 "$NFLUX" kb path cortisol serotonim
expect_contains "did you mean 'serotonin'"

expect_exit 0 "$NFLUX" kb export --format dot
expect_true "kb export --format dot starts with digraph" grep -q '^digraph ' <(head -n 1 "$OUT")
expect_true "kb export --format dot ends with }" grep -qx '}' <(tail -n 1 "$OUT")

expect_exit 0 "$NFLUX" kb export --format json
expect_json 'd["version"] == "'"$JSON_VERSION"'" and len(d["nodes"]) > 0 and len(d["edges"]) > 0 and len(d["citations"]) > 0'
cp "$OUT" "$TMP/export_json.json"

expect_exit 0 "$NFLUX" kb export --format json -o "$TMP/exported.json"
expect_true "kb export -o writes the same JSON as stdout" cmp -s "$TMP/exported.json" "$TMP/export_json.json"

expect_exit 2 "$NFLUX" kb export --format svg

# ---------------------------------------------------------------------------------------------
# kb build and --from-db

DB=$TMP/kb.db
expect_exit 0 "$NFLUX" kb build --db "$DB"
expect_contains "built knowledge $JSON_VERSION into $DB"

expect_exit 0 "$NFLUX" kb stats --from-db --db "$DB" --json
expect_json 'd["version"] == "'"$JSON_VERSION"'"'
expect_true "kb stats --from-db equals kb stats from JSON" cmp -s "$OUT" "$TMP/stats_json.json"

expect_exit 0 "$NFLUX" kb export --format json --from-db --db "$DB"
expect_true "kb export --from-db equals the JSON-loaded export" diff -q "$OUT" "$TMP/export_json.json"

expect_exit 0 "$NFLUX" kb show tph2 --from-db --db "$DB" --kb-version "$JSON_VERSION"
expect_contains "tph2 (enzyme)"

# Building again is a no-op that still succeeds.
expect_exit 0 "$NFLUX" kb build --db "$DB"
expect_true "a second kb build adds no build" test "$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from kb_builds").fetchone()[0])' "$DB")" = 1

expect_exit 2 "$NFLUX" kb stats --from-db --db "$DB" --kb-version sha256:nope
expect_contains "$DB: knowledge version 'sha256:nope' is not in this database"

expect_exit 2 "$NFLUX" kb stats --from-db --db "$TMP/missing.db"
expect_contains "$TMP/missing.db: database not found"
expect_true "a read-only load does not create the database" test ! -e "$TMP/missing.db"

# A broken knowledge base is not built, and the database is not even created.
BROKEN_DB=$TMP/broken.db
expect_exit 2 "$NFLUX" kb build --knowledge "$KB_BROKEN" --db "$BROKEN_DB"
expect_contains "labl"
expect_contains "nothing was built"
expect_true "kb build on a broken knowledge base writes no database" test ! -e "$BROKEN_DB"

# A database locked by another process: kb build fails, names the database, writes nothing.
LOCKED_DB=$TMP/locked.db
python3 - "$LOCKED_DB" "$TMP/lock_ready" "$TMP/lock_release" <<'EOF' &
import os, sqlite3, sys, time
db, ready, release = sys.argv[1:4]
connection = sqlite3.connect(db, isolation_level=None)
connection.execute("CREATE TABLE IF NOT EXISTS other (x)")
connection.execute("BEGIN EXCLUSIVE")
connection.execute("INSERT INTO other VALUES (1)")
open(ready, "w").close()
deadline = time.time() + 20
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.05)
connection.execute("ROLLBACK")
EOF
LOCK_PID=$!
for _ in $(seq 200); do [ -e "$TMP/lock_ready" ] && break; sleep 0.05; done
expect_true "the lock holder started" test -e "$TMP/lock_ready"
# A locked database is not a bug (exit 1) but something the user can act on (exit 2), named.
expect_exit 2 "$NFLUX" kb build --db "$LOCKED_DB"
expect_contains "$LOCKED_DB"
expect_contains "locked"
touch "$TMP/lock_release"
wait "$LOCK_PID"
LOCK_PID=
expect_true "a locked kb build leaves no build behind" test "$(python3 -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
tables = {r[0] for r in c.execute("select name from sqlite_master where type = \"table\"")}
print(c.execute("select count(*) from kb_builds").fetchone()[0] if "kb_builds" in tables else 0)' "$LOCKED_DB")" = 0

# ---------------------------------------------------------------------------------------------
# units convert

expect_exit 0 "$NFLUX" units convert 130 pmol/L --to pg/mL --test vitamin_b12 --json
expect_json 'abs(d["value"] - 176.2) < 0.05 and d["unit"] == "pg/mL" and d["test"] == "vitamin_b12"'

expect_exit 0 "$NFLUX" units convert 48 mmol/mol --to % --test hba1c --json
expect_json 'abs(d["value"] - 6.54) < 0.01'

expect_exit 0 "$NFLUX" units convert 1 ug/dL --to ng/mL
expect_line "1 ug/dL = 10 ng/mL"

expect_exit 2 "$NFLUX" units convert 1 mg/dL --to %
expect_contains "incompatible dimensions"
expect_contains "mass/volume"

expect_exit 2 "$NFLUX" units convert 130 pmol/L --to pg/mL
expect_contains "without a molar mass"

expect_exit 2 "$NFLUX" units convert 130 pmol/L --to pg/mL --test vitamin_b21
expect_contains "unknown lab 'vitamin_b21' (did you mean 'vitamin_b12'"

# ---------------------------------------------------------------------------------------------
# Usage errors and help

expect_exit 2 "$NFLUX" frobnicate
expect_exit 2 "$NFLUX"
expect_exit 2 "$NFLUX" kb
expect_exit 2 "$NFLUX" kb frobnicate
expect_exit 2 "$NFLUX" kb stats --bogus
expect_exit 2 "$NFLUX" --bogus kb stats
expect_exit 2 "$NFLUX" kb path cortisol
expect_exit 2 "$NFLUX" kb path cortisol serotonin --max-depth 0
expect_exit 2 "$NFLUX" units convert abc mg/dL --to g/L

for command in "" "kb" "kb validate" "kb stats" "kb show" "kb path" "kb export" "kb build" "units" \
               "units convert"; do
  # shellcheck disable=SC2086  # word splitting of $command is intended
  expect_exit 0 "$NFLUX" $command --help
  expect_contains "Usage"
done
expect_exit 0 "$NFLUX" --version
expect_contains "nflux "

# ---------------------------------------------------------------------------------------------
# evaluate

EVALUATION_KEYS='["case_id", "versions", "alerts", "data_quality", "labs", "derived", "questionnaires", "drivers", "deficits", "strategies", "blocked_strategies", "requested_supplements", "flux", "next_best_data", "overrides", "trace_id"]'
for example in examples/*.json; do
  expect_exit 0 "$NFLUX" evaluate "$example" --format json
  expect_json 'isinstance(d["case_id"], str) and d["case_id"] != ""' \
    'sorted(d["versions"]) == ["engine", "knowledge", "rules"] and d["versions"]["knowledge"].startswith("sha256:") and d["versions"]["rules"].startswith("sha256:")' \
    "list(d) == $EVALUATION_KEYS" \
    'd["trace_id"].startswith("sha256:")' \
    '[a["severity"] for a in d["alerts"]] == sorted((a["severity"] for a in d["alerts"]), key=["urgent", "high", "caution", "info"].index)' \
    '[x["rank"] for x in d["deficits"]] == list(range(1, len(d["deficits"]) + 1)) and [x["certainty"] for x in d["deficits"]] == sorted((x["certainty"] for x in d["deficits"]), reverse=True)' \
    'not {s["id"] for s in d["strategies"]} & {b["id"] for b in d["blocked_strategies"]}' \
    'd["overrides"] == []' \
    'all(x["certainty"] < 0.2 for x in d["deficits"] if "calibration" in x)'
done

expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json
expect_contains "RED FLAGS ("
expect_contains "BLOCKED BY SAFETY"
expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json --format markdown
expect_contains "**Red flags:**"
expect_exit 0 bash -c '"$0" evaluate - --format json < examples/ssri_5htp_request.json' "$NFLUX"
expect_json 'any(b["id"] == "precursor_5htp" and b["reasons"] for b in d["blocked_strategies"])'

# Given flux values are reported per pathway; a bad flux file is bad input.
printf '{"serotonin.synthesis": 0.7}\n' >"$TMP/flux.json"
expect_exit 0 "$NFLUX" evaluate examples/healthy_control.json --format json --flux "$TMP/flux.json"
expect_json 'd["flux"]["serotonin"]["synthesis"] == 0.7' \
  '[(o["kind"], o["id"], o["value"]) for o in d["overrides"]] == [("flux", "serotonin.synthesis", 0.7)]' \
  'isinstance(d["overrides"][0]["model_value"], float)'
expect_exit 0 "$NFLUX" evaluate examples/healthy_control.json --flux "$TMP/flux.json"
expect_contains "OVERRIDE (not from the case or the models): flux serotonin.synthesis = 0.7 (model "

# Questionnaire scores are shown (JSON, text, Markdown); root causes come before the deficits. A
# typed total out of range is data quality, never exit 2 (case.md): with items, the item sum is
# used; without, the total is excluded with a data_quality error. An item answer out of range is
# still bad input.
printf '{"case_id": "q", "patient": {"sex": "female", "age_years": 40}, "questionnaires": {"phq9": {"items": [2, 2, 2, 2, 2, 1, 1, 1, 0], "total": 31}, "gad7": {"total": 30}, "mdq": {"result": "negative"}}, "labs": [{"test": "ferritin", "value": 12, "unit": "ng/mL"}]}\n' >"$TMP/questionnaires.json"
expect_exit 0 "$NFLUX" evaluate "$TMP/questionnaires.json" --format json
expect_json '[q["id"] for q in d["questionnaires"]] == ["gad7", "mdq", "phq9"]' \
  'd["questionnaires"][2] == {"id": "phq9", "name": "PHQ-9", "total": 13, "band": "moderate", "from": "items", "positive": True, "items_flagged": {"9": 0}}' \
  'd["questionnaires"][0]["total"] is None and d["questionnaires"][1]["result"] == "negative"' \
  '[(q["path"], q["severity"], q["code"]) for q in d["data_quality"]] == [("/questionnaires/gad7/total", "error", "total_out_of_range"), ("/questionnaires/phq9/total", "warning", "total_out_of_range")]' \
  'any(a["id"] == "data_quality_warning" for a in d["alerts"])'
expect_exit 0 "$NFLUX" evaluate "$TMP/questionnaires.json"
expect_contains "PHQ-9 13 (moderate), item 9: 0"
expect_true "root causes come before the deficits" python3 -c 'import sys; t = open(sys.argv[1]).read(); sys.exit(0 if -1 < t.find("ROOT CAUSES FOUND") < t.find("DEFICITS (") else 1)' "$OUT"
expect_exit 0 "$NFLUX" evaluate "$TMP/questionnaires.json" --format markdown
expect_contains "- PHQ-9 13 (moderate), item 9: 0"
expect_true "root causes come before the deficits (Markdown)" python3 -c 'import sys; t = open(sys.argv[1]).read(); sys.exit(0 if -1 < t.find("**Root causes found:**") < t.find("**Top deficits:**") else 1)' "$OUT"
expect_exit 2 "$NFLUX" evaluate "$TMP/questionnaires.json" --strict
expect_contains "/questionnaires/gad7/total: total 30 is outside the possible range 0-21; excluded (rejected in strict mode)"
printf '{"patient": {"sex": "female", "age_years": 40}, "questionnaires": {"phq9": {"items": [4, 2, 2, 2, 2, 1, 1, 1, 0]}}}\n' >"$TMP/item_out_of_range.json"
expect_exit 2 "$NFLUX" evaluate "$TMP/item_out_of_range.json"
expect_contains "/questionnaires/phq9/items/0: answer 4 is out of range 0-3"
printf '{"serotonin.synth": 0.7}\n' >"$TMP/flux_bad.json"
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --flux "$TMP/flux_bad.json"
expect_contains "$TMP/flux_bad.json: /serotonin.synth: not a flux index"
# A key given twice in a --flux file would silently drop a value: bad input naming file and path.
printf '{"serotonin.synthesis": 0.7, "serotonin.synthesis": 0.5}\n' >"$TMP/flux_dup.json"
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --flux "$TMP/flux_dup.json"
expect_contains "$TMP/flux_dup.json: /serotonin.synthesis: duplicate key 'serotonin.synthesis'"
printf '{"serotonin.synthesis": \n' >"$TMP/flux_syntax.json"
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --flux "$TMP/flux_syntax.json"
expect_contains "$TMP/flux_syntax.json:2:1: not valid JSON"

# A malformed case: exit 2, the JSON path on stderr, nothing on stdout.
printf '{"case_id": "bad", "patient": {"sex": "female", "age_years": "forty"}}\n' >"$TMP/bad_case.json"
expect_exit 2 "$NFLUX" evaluate "$TMP/bad_case.json" --format json
expect_contains "/patient/age_years"
expect_true "a malformed case prints nothing on stdout" test ! -s "$OUT"
# A medication or condition the knowledge base does not know is kept, never rejected (case.md);
# an id and an ATC code that name different medications are still bad input.
printf '{"patient": {"sex": "female", "age_years": 40}, "medications": [{"id": "zuranolone", "dose": "50 mg"}, {"name": "Sertraline 50 mg"}, {"atc": "N06AB99"}], "conditions": [{"icd10": "Q99"}]}\n' >"$TMP/unknown_medication.json"
expect_exit 0 "$NFLUX" evaluate "$TMP/unknown_medication.json" --format json
expect_json '[(q["code"], q["path"]) for q in d["data_quality"] if q["code"].startswith("unknown_")] == [("unknown_medication", "/medications/0/id"), ("unknown_medication", "/medications/1/name"), ("unknown_condition", "/conditions/0/icd10")]'
printf '{"patient": {"sex": "female", "age_years": 40}, "medications": [{"id": "sertraline", "atc": "N06AB10"}]}\n' >"$TMP/medication_mismatch.json"
expect_exit 2 "$NFLUX" evaluate "$TMP/medication_mismatch.json"
expect_contains "/medications/0/atc: ATC N06AB10 is escitalopram, but /medications/0/id is sertraline"
expect_exit 2 "$NFLUX" evaluate "$TMP/no_such_case.json"
# Exit codes follow the Status (one mapping): a file that exists but cannot be read is an I/O
# error (1); a missing or malformed one is bad input (2).
# A folder given as a case (or flux) file is a usage mistake, said plainly (2), not a read error.
mkdir -p "$TMP/case_folder.json"
expect_exit 2 "$NFLUX" evaluate "$TMP/case_folder.json"
expect_line "$TMP/case_folder.json: is a directory, expected a case file"
for command in "explain $TMP/case_folder.json --why x" "flux $TMP/case_folder.json" "whatif $TMP/case_folder.json --rank"; do
  # shellcheck disable=SC2086  # word splitting of $command is intended
  expect_exit 2 "$NFLUX" $command
  expect_line "$TMP/case_folder.json: is a directory, expected a case file"
done
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --flux "$TMP/case_folder.json"
expect_line "$TMP/case_folder.json: is a directory, expected a flux file (a JSON object of flux indices)"
if [ "$(id -u)" != 0 ]; then
  printf '{}\n' >"$TMP/unreadable.json"
  chmod 000 "$TMP/unreadable.json"
  expect_exit 2 "$NFLUX" evaluate "$TMP/unreadable.json"
else
  echo "SKIP: permission-denied case file (running as root, which reads any file)"
fi
# The HTML report: one self-contained page; --out writes any report to a file (whole, via a
# temporary file and a rename), nothing on stdout, "wrote FILE" on stderr; a bad --out is bad input
# and leaves nothing behind.
expect_exit 0 "$NFLUX" evaluate examples/healthy_control.json --format html
expect_contains "<!DOCTYPE html>"
expect_true "the HTML report fetches nothing" bash -c '! grep -qE "<script src|<link|url\([^#]|=\"https?:" "$0"' "$OUT"
expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json --format html --out "$TMP/report.html"
expect_true "--out prints nothing on stdout" test ! -s "$OUT"
expect_line "wrote $TMP/report.html"
expect_true "--out wrote the page" grep -q "precursor_5htp" "$TMP/report.html"
expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json --out "$TMP/report.txt"
expect_true "--out text has no colour" bash -c '! grep -q $'"'"'\033'"'"' "$0" && grep -q "RED FLAGS" "$0"' "$TMP/report.txt"
expect_true "no temporary file is left" bash -c '[ -z "$(ls "$0" | grep "\.tmp\.")" ]' "$TMP"
expect_exit 2 "$NFLUX" evaluate examples/ssri_5htp_request.json --format html --out "$TMP/no_such_folder/report.html"
expect_contains "no such folder"
expect_true "a bad --out writes nothing" test ! -e "$TMP/no_such_folder"
expect_exit 2 "$NFLUX" evaluate "$TMP/no_such_case.json" --format html --out "$TMP/never.html"
expect_true "a failed evaluation writes no report" test ! -e "$TMP/never.html"
# Piped text has no colour even when the terminal would (NO_COLOR or not).
expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json
expect_true "piped text has no ANSI escapes" bash -c '! grep -q $'"'"'\033'"'"' "$0"' "$OUT"
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --format pdf
# On a terminal (script(1) gives one) the text is coloured, unless NO_COLOR is set.
if command -v script >/dev/null; then
  expect_exit 0 script -qec "$NFLUX evaluate examples/ssri_5htp_request.json" /dev/null
  expect_true "a terminal gets colour" grep -q $'\033\[' "$OUT"
  expect_exit 0 env NO_COLOR=1 script -qec "$NFLUX evaluate examples/ssri_5htp_request.json" /dev/null
  expect_true "NO_COLOR: no colour on a terminal" bash -c '! grep -q $'"'"'\033\['"'"' "$0"' "$OUT"
fi

# ---------------------------------------------------------------------------------------------
# explain

expect_exit 0 "$NFLUX" explain examples/ssri_5htp_request.json --why-not precursor_5htp
expect_contains "BLOCKED"
expect_contains "ssri"
expect_exit 0 "$NFLUX" explain examples/ssri_5htp_request.json --why serotonin_syndrome_risk
expect_contains "<- rule "
expect_exit 0 "$NFLUX" explain examples/ssri_5htp_request.json --why serotonin_syndrome_risk --json
expect_json 'd["id"] == "serotonin_syndrome_risk" and d["kind"] == "alert" and len(d["chain"]["rules"]) > 0'
expect_exit 0 "$NFLUX" explain examples/ssri_5htp_request.json --why-not dopamine_synthesis --json
expect_json 'd["id"] == "dopamine_synthesis" and d["kind"] == "deficit"' \
  '[r["closeness"] for r in d["rules"]] == sorted((r["closeness"] for r in d["rules"]), reverse=True)' \
  'all(i["input"] and i["rules"] for i in d["deciding_inputs"])'
expect_exit 2 "$NFLUX" explain examples/ssri_5htp_request.json --why dopamine_synthesis_x
expect_contains "unknown id 'dopamine_synthesis_x' (did you mean 'dopamine_synthesis'"
expect_exit 2 "$NFLUX" explain examples/ssri_5htp_request.json --why suicide_risk_urgent
expect_contains "'suicide_risk_urgent' was not concluded for this case; try --why-not suicide_risk_urgent"
expect_exit 2 "$NFLUX" explain examples/ssri_5htp_request.json
expect_exit 2 "$NFLUX" explain examples/ssri_5htp_request.json --why a --why-not b
# Why not a blocked strategy: blocked, by what; and for one no rule brought up, what the gate would say.
expect_exit 0 "$NFLUX" explain examples/ssri_5htp_request.json --why-not precursor_5htp --json
expect_json 'd["blocked"] and any(r["with"] == "ssri" and r["severity"] == "relative" for r in d["block_reasons"])' \
  'd["safety"]["verdict"] == "blocked" and any(r["with"] == "ssri" and r["citation"] for r in d["safety"]["reasons"])'
ESCITALOPRAM=$TMP/escitalopram.json
python3 - examples/ssri_5htp_request.json "$ESCITALOPRAM" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["supplements"]["requested"] = []
json.dump(doc, open(sys.argv[2], "w"))
EOF
expect_exit 0 "$NFLUX" explain "$ESCITALOPRAM" --why-not precursor_tryptophan
expect_line "Were it suggested or requested, the safety gate would BLOCK it for this case:"
expect_contains "(with ssri, relative: Escitalopram) [alert serotonin_syndrome_risk]"
expect_exit 0 "$NFLUX" explain "$ESCITALOPRAM" --why-not precursor_tryptophan --json
expect_json 'not d["blocked"] and d["safety"]["verdict"] == "blocked" and d["safety"]["reasons"]'
expect_exit 0 "$NFLUX" explain "$ESCITALOPRAM" --why-not lifestyle_exercise --json
expect_json 'd["safety"]["verdict"] == "acceptable" and d["safety"]["reasons"] == []'

# ---------------------------------------------------------------------------------------------
# rules check, lint, test

expect_exit 0 "$NFLUX" rules check
expect_contains "no errors"
expect_exit 0 "$NFLUX" rules check --json
expect_json 'd["rules"] > 0 and len(d["files"]) > 0 and d["errors"] == []'

RULES_BROKEN=$TMP/rules_broken
cp -r rules "$RULES_BROKEN"
BROKEN_FILE=$(ls "$RULES_BROKEN"/*.rules | head -n 1)
printf '\nrule broken_rule "Broken"\n  cites who_2020_ferritin\n  when lab feritin < 30 ng/mL\n  then conclude driver iron_deficiency weight 0.8\nend\n' >>"$BROKEN_FILE"
expect_exit 3 "$NFLUX" rules check --rules "$RULES_BROKEN"
expect_contains "$BROKEN_FILE:"
expect_contains "feritin"
expect_exit 3 "$NFLUX" rules check --rules "$RULES_BROKEN" --json
expect_json 'len(d["errors"]) >= 1 and all(e["file"] and e["line"] > 0 and e["message"] for e in d["errors"])'
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --rules "$RULES_BROKEN"
expect_contains "feritin"
expect_true "evaluate with broken rules prints nothing on stdout" test ! -s "$OUT"
expect_exit 3 "$NFLUX" rules lint --rules "$RULES_BROKEN"

# No rules is bad input for every command that evaluates (never an empty "no alerts" report), and a
# problem rules check finds; a folder that does not exist is bad input.
RULES_EMPTY=$TMP/rules_empty
mkdir -p "$RULES_EMPTY/tests"
printf 'rule in_tests_only\n' >"$RULES_EMPTY/tests/skipped.rules"
for command in "evaluate examples/healthy_control.json" "evaluate examples/ssri_5htp_request.json --format json" \
  "explain examples/ssri_5htp_request.json --why-not precursor_5htp" "whatif examples/ssri_5htp_request.json --rank" \
  "flux examples/healthy_control.json"; do
  # shellcheck disable=SC2086  # word splitting of $command is intended
  expect_exit 2 "$NFLUX" $command --rules "$RULES_EMPTY"
  expect_line "$RULES_EMPTY: no rules loaded (no .rules files in the folder); an evaluation without rules would conclude nothing: check --rules"
  expect_true "$command with no rules prints nothing on stdout" test ! -s "$OUT"
done
expect_exit 3 "$NFLUX" rules check --rules "$RULES_EMPTY"
expect_contains "$RULES_EMPTY: no rules loaded (no .rules files in the folder)"
expect_contains ": 0 rules in 0 files; no rules"
expect_exit 3 "$NFLUX" rules check --rules "$RULES_EMPTY" --json
expect_json 'd["rules"] == 0 and len(d["errors"]) == 1 and "no rules loaded" in d["errors"][0]["message"]'
RULES_COMMENTS=$TMP/rules_comments
mkdir -p "$RULES_COMMENTS"
printf '# nothing but a comment\n' >"$RULES_COMMENTS/a.rules"
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --rules "$RULES_COMMENTS"
expect_contains "$RULES_COMMENTS: no rules loaded (1 .rules file(s) with no rule in them)"
expect_exit 3 "$NFLUX" rules check --rules "$RULES_COMMENTS"
expect_exit 2 "$NFLUX" rules check --rules "$TMP/no_such_rules"
expect_line "$TMP/no_such_rules: rules directory not found"
expect_exit 2 "$NFLUX" evaluate examples/healthy_control.json --rules "$TMP/no_such_rules"
expect_line "$TMP/no_such_rules: rules directory not found"

# Versions are hashes of content only: the same files give the same versions and trace id from any
# working directory, path spelling or symbolic link.
ROOT=$PWD
in_dir() {
  local dir=$1
  shift
  (cd "$dir" && "$@")
}
versions_of() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["versions"]["knowledge"], d["versions"]["rules"], d["trace_id"])' "$OUT"; }
expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json --format json
REFERENCE_VERSIONS=$(versions_of)
expect_true "versions are hashes" grep -q '^sha256:[0-9a-f]\{64\} sha256:[0-9a-f]\{64\} sha256:' <(echo "$REFERENCE_VERSIONS")
mkdir -p "$TMP/elsewhere"
ln -s "$ROOT/rules" "$TMP/linked_rules"
ln -s "$ROOT/knowledge" "$TMP/linked_knowledge"
for spelling in "--rules rules" "--rules ./rules/" "--rules $ROOT/rules" "--rules $ROOT/tests/../rules/ --knowledge $ROOT/./knowledge/" \
  "--rules $TMP/linked_rules --knowledge $TMP/linked_knowledge/"; do
  # shellcheck disable=SC2086  # word splitting of $spelling is intended
  expect_exit 0 "$NFLUX" evaluate examples/ssri_5htp_request.json --format json $spelling
  expect_true "same versions and trace id with $spelling" test "$(versions_of)" = "$REFERENCE_VERSIONS"
done
expect_exit 0 in_dir "$TMP/elsewhere" "$NFLUX" evaluate "$ROOT/examples/ssri_5htp_request.json" --format json \
  --rules ../linked_rules --knowledge ../linked_knowledge
expect_true "same versions and trace id from another working directory" test "$(versions_of)" = "$REFERENCE_VERSIONS"
expect_exit 0 in_dir "$TMP/elsewhere" "$NFLUX" rules check --rules "$TMP/linked_rules/" --knowledge "$ROOT/knowledge"
expect_contains "rules $(echo "$REFERENCE_VERSIONS" | cut -d' ' -f2): "

expect_exit 0 "$NFLUX" rules lint
expect_true "rules lint ends with a summary line" grep -qE '^[0-9]+ warning\(s\) in [0-9]+ rules$' <(tail -n 1 "$OUT")
RULES_LINT=$TMP/rules_lint
mkdir -p "$RULES_LINT"
cat >"$RULES_LINT/lint.rules" <<'EOF'
rule never_fires "Contradiction"
  cites who_2020_ferritin
  when lab ferritin is low and lab ferritin is high
  then conclude driver iron_deficiency weight 0.5
end

rule first "First"
  cites who_2020_ferritin
  when lab ferritin < 30 ng/mL
  then conclude driver iron_deficiency weight 0.8
end

rule second "Duplicate of first"
  cites who_2020_ferritin
  when lab ferritin < 30 ng/mL
  then conclude driver iron_deficiency weight 0.8
end
EOF
expect_exit 0 "$NFLUX" rules lint --rules "$RULES_LINT"
expect_contains "$RULES_LINT/lint.rules:3:"
expect_contains "rule 'never_fires' can never fire"
expect_contains "rule 'second' duplicates rule 'first'"
expect_exit 0 "$NFLUX" rules lint --rules "$RULES_LINT" --json
expect_json 'len(d["warnings"]) >= 2 and d["rules"] == 3'

# Golden cases: one passing, one failing, one with a misspelt key.
GOLDEN=$TMP/golden
mkdir -p "$GOLDEN"
cp examples/ssri_5htp_request.json "$GOLDEN/pass.case.json"
printf '{"description": "blocked", "must_include": {"blocked_strategies": ["precursor_5htp"], "alerts": ["serotonin_syndrome_risk"]}, "must_not_include": {"strategies": ["precursor_5htp"]}}\n' >"$GOLDEN/pass.expect.json"
cp examples/ssri_5htp_request.json "$GOLDEN/fail.case.json"
printf '{"must_include": {"strategies": ["precursor_5htp"]}}\n' >"$GOLDEN/fail.expect.json"
cp examples/ssri_5htp_request.json "$GOLDEN/typo.case.json"
printf '{"must_include": {"deficitz": []}}\n' >"$GOLDEN/typo.expect.json"
expect_exit 3 "$NFLUX" rules test --dir "$GOLDEN"
expect_line "PASS pass"
expect_line "FAIL fail"
expect_line "  strategy precursor_5htp: blocked by safety"
expect_contains "$GOLDEN/typo.expect.json: /must_include/deficitz: unknown key (did you mean 'deficits'?)"
expect_line "1 passed, 2 failed"
rm "$GOLDEN"/fail.* "$GOLDEN"/typo.*
expect_exit 0 "$NFLUX" rules test --dir "$GOLDEN" --coverage
expect_line "1 passed, 0 failed"
expect_contains "fired in none"
expect_exit 0 "$NFLUX" rules test --dir "$GOLDEN" --json
expect_json 'd["passed"] == 1 and d["failed"] == 0 and d["cases"][0]["name"] == "pass"'
# --deficits: a Markdown table of the deficits each case concludes (for README).
expect_exit 0 "$NFLUX" rules test --dir "$GOLDEN" --deficits
expect_line "| case | kind | deficits >= 0.5 | deficits 0.2-0.5 |"
expect_true "one table row per case" grep -qE '^\| pass \| - \| [0-9]+' "$OUT"

# --update rewrites an expectation in the complete format (every alert and strategy, the rules it
# covers); then a spurious or a missing result fails it, and so does a covered rule that did not fire.
expect_exit 0 "$NFLUX" rules test --dir "$GOLDEN" --update
expect_contains "migrated to the complete format"
expect_exit 0 "$NFLUX" rules test --dir "$GOLDEN"
expect_line "PASS pass"
python3 - "$GOLDEN/pass.expect.json" <<'EOF2'
import json, sys
path = sys.argv[1]
d = json.load(open(path))
assert "must_include" not in d and d["description"] == "blocked" and d["covers"], d
d["alerts"].append("data_quality_warning")
d["strategies"] = d["strategies"][1:]
d["covers"].append("data_quality_error_flag")
json.dump(d, open(path, "w"), indent=2)
EOF2
expect_exit 3 "$NFLUX" rules test --dir "$GOLDEN"
expect_line "  alert data_quality_warning: expected, missing"
expect_contains ": not expected, but present"
expect_line "  covered rule data_quality_error_flag: did not fire"
# --update keeps the covers a reviewer wrote: the rule that did not fire still fails the case.
expect_exit 3 "$NFLUX" rules test --dir "$GOLDEN" --update
expect_contains "+ strategy "
expect_line "  covered rule data_quality_error_flag: did not fire"
python3 - "$GOLDEN/pass.expect.json" <<'EOF2'
import json, sys
path = sys.argv[1]
d = json.load(open(path))
d["covers"].remove("data_quality_error_flag")
json.dump(d, open(path, "w"), indent=2)
EOF2
expect_exit 0 "$NFLUX" rules test --dir "$GOLDEN" --coverage
expect_contains "coverage: "
expect_contains "fired in none"
# A coverage floor in the folder is enforced.
echo 100 >"$GOLDEN/coverage_floor.txt"
expect_exit 3 "$NFLUX" rules test --dir "$GOLDEN"
expect_contains "is below the floor 100%"

# The flux model: indices, assumptions and contributions; what-if with a changed lab and a strategy.
FLUXCASE=rules/tests/flux_model_iron_b6_serotonin.case.json
expect_exit 0 "$NFLUX" flux "$FLUXCASE"
expect_contains "synthesis 0.549: lab:ferritin"
expect_exit 0 "$NFLUX" flux "$FLUXCASE" --json
expect_json 'abs(d["flux"]["serotonin"]["synthesis"] - 0.5485) < 1e-3 and d["contributions"]["serotonin"]["synthesis"][0]["input"] == "lab:ferritin" and "tryptophan_plasma" in d["flux"]["serotonin"]["assumed"] and len(d["flux"]) == 8'
expect_exit 0 "$NFLUX" flux rules/tests/healthy_control_female.case.json --json
expect_json 'all(v == 1 for p in d["flux"].values() for k, v in p.items() if k != "assumed")'
expect_exit 0 "$NFLUX" evaluate "$FLUXCASE" --format json
expect_json 'd["flux"]["serotonin"]["synthesis"] < 0.85 and any(s["id"] == "cofactor_iron" and s["predicted_effect"].get("serotonin.synthesis", 0) > 0.05 for s in d["strategies"])'
expect_exit 0 "$NFLUX" whatif "$FLUXCASE" --set lab.ferritin=80ng/mL --apply cofactor_b6
expect_contains "serotonin.synthesis      0.5485 -> 0.9692"
expect_contains "deficit:serotonin_synthesis: 0.777 -> 0"
expect_exit 0 "$NFLUX" whatif "$FLUXCASE" --apply cofactor_iron --rank --json
expect_json 'd["ranking"][0]["strategy"] == "cofactor_iron" and any(r["index"] == "serotonin.synthesis" and r["change"] > 0 for r in d["indices"])'
# --rank ranks only what the safety gate lets through, each with its verdict; on escitalopram,
# L-tryptophan and 5-HTP are never options (requested or not) and the blocked are listed apart.
ESCITALOPRAM_DEFICIT=$TMP/escitalopram_deficit.json
python3 - "$FLUXCASE" "$ESCITALOPRAM_DEFICIT" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["medications"] = [{"id": "escitalopram", "dose": "10 mg daily"}]
json.dump(doc, open(sys.argv[2], "w"))
EOF
for escitalopram_case in "$ESCITALOPRAM_DEFICIT" "$ESCITALOPRAM" examples/ssri_5htp_request.json; do
  expect_exit 0 "$NFLUX" whatif "$escitalopram_case" --rank --json
  expect_json 'd["ranking"] and all(r["verdict"] in ("acceptable", "acceptable_with_caution") for r in d["ranking"])' \
    'not any(r["strategy"] in ("precursor_tryptophan", "precursor_5htp") for r in d["ranking"])' \
    'any(b["strategy"] == "precursor_tryptophan" and any(x["with"] == "ssri" and x["citation"] for x in b["reasons"]) for b in d["blocked"])' \
    'all(b["verdict"] == "blocked" and b["reasons"] and "rank" not in b for b in d["blocked"])' \
    '[r["rank"] for r in d["ranking"]] == list(range(1, len(d["ranking"]) + 1))' \
    'all(r["verdict"] == "acceptable" or r["reasons"] for r in d["ranking"])'
done
expect_exit 0 "$NFLUX" whatif "$ESCITALOPRAM_DEFICIT" --rank
expect_line "  1. cofactor_iron +2.768  acceptable"
expect_line "blocked by the safety gate for this case (not options)"
expect_line "  precursor_tryptophan: blocked"
expect_line "       - Block unless prescriber-directed. (with ssri, relative: Escitalopram) [alert serotonin_syndrome_risk]"
expect_true "no serotonin precursor is ranked" test -z "$(grep -E '^  [0-9]+\. precursor_(tryptophan|5htp) ' "$OUT")"
# An applied strategy that the gate blocks: its effect is shown, with what blocks it first.
expect_exit 0 "$NFLUX" whatif "$ESCITALOPRAM_DEFICIT" --apply precursor_tryptophan --apply cofactor_iron
expect_true "the applied tryptophan is said to be blocked first" test "$(sed -n 3p "$OUT")" = "safety: precursor_tryptophan is BLOCKED for this case:"
expect_line "  - Block unless prescriber-directed. (with ssri, relative: Escitalopram) [alert serotonin_syndrome_risk]"
expect_true "an acceptable applied strategy has no safety line" test -z "$(grep '^safety: cofactor_iron' "$OUT")"
expect_exit 0 "$NFLUX" whatif "$ESCITALOPRAM_DEFICIT" --apply precursor_tryptophan --json
expect_json 'd["apply_safety"] == [{"strategy": "precursor_tryptophan", "verdict": "blocked", "reasons": d["apply_safety"][0]["reasons"]}] and d["apply_safety"][0]["reasons"][0]["with"] == "ssri"'
expect_exit 2 "$NFLUX" whatif "$FLUXCASE" --apply no_such_strategy
expect_contains "unknown strategy 'no_such_strategy'"
expect_exit 2 "$NFLUX" whatif "$FLUXCASE" --set ferritin=80
expect_contains "expected lab.ID=VALUE[UNIT]"

# A lab changed without a unit where its units differ is refused, naming the accepted units; never a
# what-if that silently leaves the lab out. Units that all give the same number need none.
expect_exit 2 "$NFLUX" whatif "$FLUXCASE" --set lab.ferritin=80
expect_line "--set lab.ferritin=80: give a unit for ferritin (accepted units: ng/mL, ug/L, pmol/L), e.g. lab.ferritin=80ng/mL"
expect_true "a refused change prints nothing on stdout" test ! -s "$OUT"
expect_exit 2 "$NFLUX" whatif "$FLUXCASE" --set "lab.ferritin=80 mmol"
expect_contains "ferritin is not measured in 'mmol' (accepted units: ng/mL, ug/L, pmol/L)"
expect_exit 2 "$NFLUX" whatif "$FLUXCASE" --set lab.feritin=80ng/mL
expect_contains "unknown lab 'feritin'"
expect_exit 0 "$NFLUX" whatif "$FLUXCASE" --set lab.tsh=2 --json
expect_exit 0 "$NFLUX" whatif "$FLUXCASE" --set "lab.ferritin=80 ug/L" --json
expect_json 'any(r["index"] == "serotonin.synthesis" and r["change"] > 0 for r in d["indices"])'

# explain, flux and whatif print the versions, as evaluate's text report does (text only).
VERSIONS=$("$NFLUX" evaluate "$FLUXCASE" | grep -m1 '^engine ')
expect_true "evaluate prints a versions line" test -n "$VERSIONS"
for command in "explain $FLUXCASE --why serotonin_synthesis" "flux $FLUXCASE" "whatif $FLUXCASE --apply cofactor_iron"; do
  # shellcheck disable=SC2086  # word splitting of $command is intended
  expect_exit 0 "$NFLUX" $command
  expect_line "$VERSIONS"
done
expect_exit 0 "$NFLUX" flux "$FLUXCASE" --json
expect_true "no versions line in JSON" test -z "$(grep '^engine ' "$OUT")"

# A misspelt command gets a suggestion (exit 2), an unknown word the list of commands.
expect_exit 2 "$NFLUX" evalute "$FLUXCASE"
expect_line "nflux: unknown command 'evalute'; did you mean evaluate?"
expect_exit 2 "$NFLUX" --rules rules wahtif "$FLUXCASE"
expect_line "nflux: unknown command 'wahtif'; did you mean whatif?"
expect_exit 2 "$NFLUX" frobnicate
expect_contains "nflux: unknown command 'frobnicate'; the commands are evaluate, explain"
expect_exit 0 "$NFLUX" --rules rules flux "$FLUXCASE"
# --flux says it takes a file.
for command in "evaluate" "explain"; do
  expect_exit 0 "$NFLUX" $command --help
  expect_true "$command --flux takes a FILE" grep -qE -- '--flux FILE +A JSON file holding an object of flux indices' "$OUT"
done

for command in "evaluate" "explain" "flux" "whatif" "rules" "rules check" "rules lint" "rules test"; do
  # shellcheck disable=SC2086  # word splitting of $command is intended
  expect_exit 0 "$NFLUX" $command --help
  expect_contains "Usage"
done

# ---------------------------------------------------------------------------------------------
# serve runs in nflux-serve beside nflux (cli/CMakeLists.txt): the same options, and a clear
# message when it is missing.

expect_exit 0 "$NFLUX" serve --help
expect_contains "--max-body"
LONE=$TMP/lone
mkdir -p "$LONE"
cp "$NFLUX" "$LONE/nflux"
expect_exit 1 "$LONE/nflux" --knowledge knowledge --rules rules serve --no-store
expect_contains "nflux: serve runs in $LONE/nflux-serve, which could not be started"
# The command itself never loads the HTTP library (nor libssl, which it brings); when it links
# libcrypto statically (NFLUX_STATIC_CRYPTO, from tests/CMakeLists.txt), no shared libcrypto either:
# one would be loaded beside its static copy, two OpenSSLs in one process.
if command -v ldd >/dev/null; then
  expect_exit 0 ldd "$NFLUX"
  if grep -qE "libssl|httplib" "$OUT"; then fail "$NFLUX loads libssl or cpp-httplib"; else pass; fi
  if [ "${NFLUX_STATIC_CRYPTO:-0}" = 1 ]; then
    if grep -q "libcrypto" "$OUT"; then fail "$NFLUX links libcrypto statically and loads a shared one"; else pass; fi
  fi
fi

report_and_exit

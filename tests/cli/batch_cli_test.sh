#!/usr/bin/env bash
# End-to-end tests of `nflux batch` (issue 12; shared/contracts/cli.md): results in input order and
# byte-identical for any --jobs, each line what `evaluate --format json` prints, bad lines reported
# with FILE:LINE and JSON path while the rest are evaluated (exit 2), a folder of case files, the
# summary, progress on a pipe, and --save followed by a clean `audit verify`.
#
# Run by ctest (cli_batch) from the repository root with $NFLUX set to the built binary.

# shellcheck source=tests/cli/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

CASES=$TMP/cases.jsonl
# 120 cases: every golden case, then again with other ids, compact, one per line.
python3 - "$CASES" <<'PY'
import glob, json, sys
paths = sorted(glob.glob("rules/tests/*.case.json"))
with open(sys.argv[1], "w") as out:
    for i in range(120):
        doc = json.load(open(paths[i % len(paths)]))
        doc["case_id"] = "b-%d" % i
        out.write(json.dumps(doc, separators=(",", ":")) + "\n")
PY

expect_exit 0 "$NFLUX" batch "$CASES" --jobs 1 --out "$TMP/jobs1.jsonl" --summary "$TMP/summary.json"
expect_contains "batch: 120 cases, 120 evaluated, 0 bad"
expect_true "120 result lines" test "$(wc -l <"$TMP/jobs1.jsonl")" -eq 120
for jobs in 2 4 8; do
  expect_exit 0 "$NFLUX" batch "$CASES" --jobs "$jobs" --quiet --out "$TMP/jobs$jobs.jsonl"
  expect_true "--jobs $jobs: byte-identical to --jobs 1" cmp -s "$TMP/jobs1.jsonl" "$TMP/jobs$jobs.jsonl"
  expect_true "--quiet prints nothing on stderr" test ! -s "$ERR"
done
# Each line is exactly what `evaluate --format json` prints for that case.
sed -n 7p "$CASES" >"$TMP/case7.json"
expect_exit 0 "$NFLUX" evaluate "$TMP/case7.json" --format json
expect_true "line 7 is evaluate's JSON" python3 -c 'import json, sys
a = json.load(open(sys.argv[1])); b = json.loads(open(sys.argv[2]).readlines()[6])
sys.exit(0 if a == b else 1)' "$OUT" "$TMP/jobs1.jsonl"
# Results go to stdout without --out; the input order is kept.
expect_exit 0 "$NFLUX" batch "$CASES" --jobs 3
expect_true "stdout equals --out" cmp -s "$OUT" "$TMP/jobs1.jsonl"
expect_true "a plain progress or summary line on a pipe, no bar" test -z "$(grep -F "$(printf '\r')" "$ERR")"
# The summary: counts per deficit, alert and blocked strategy.
run cat "$TMP/summary.json"
expect_json 'd["cases"] == 120 and d["evaluated"] == 120 and d["errors"]["total"] == 0' \
  'sum(v["likely"] for v in d["deficits"].values()) > 0' 'd["alerts"] and d["blocked_strategies"]' \
  'd["cases_per_second"] > 0 and d["saved_runs"] == 0'

# Bad lines: reported on stderr with FILE:LINE and the JSON path, an error line in their place, the
# rest evaluated, exit 2. Blank lines are skipped.
BAD=$TMP/bad.jsonl
{
  sed -n 1p "$CASES"
  echo
  echo '{"patient": '
  sed -n 2p "$CASES"
  echo '{"patient": {"sex": "female", "age_years": 40}, "labs": [{"test": "ferritin", "value": 5, "unit": "furlongs"}]}'
  sed -n 3p "$CASES"
} >"$BAD"
expect_exit 2 "$NFLUX" batch "$BAD" --jobs 2 --out "$TMP/bad_results.jsonl"
expect_contains "$BAD:3:"
expect_contains "$BAD:5: /labs/0/unit: unknown unit 'furlongs'"
expect_contains "batch: 5 cases, 3 evaluated, 2 bad (case 1, json 1)"
run cat "$TMP/bad_results.jsonl"
expect_true "one result per non-blank line" test "$(wc -l <"$TMP/bad_results.jsonl")" -eq 5
expect_true "the error lines stand in their places" python3 -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = [l.get("line") for l in lines] == [None, 3, None, 5, None]
ok = ok and lines[1]["error"]["kind"] == "json" and lines[3]["error"]["path"] == "/labs/0/unit"
ok = ok and all("deficits" in lines[i] for i in (0, 2, 4))
sys.exit(0 if ok else 1)' "$TMP/bad_results.jsonl"

# A folder: every *.json file in it, by name.
mkdir -p "$TMP/folder"
cp examples/healthy_control.json "$TMP/folder/b.json"
cp examples/perimenopause.json "$TMP/folder/a.json"
echo 'not a case' >"$TMP/folder/notes.txt"
expect_exit 0 "$NFLUX" batch "$TMP/folder" --quiet
expect_true "two results, a.json first" python3 -c 'import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a = json.load(open("examples/perimenopause.json")); b = json.load(open("examples/healthy_control.json"))
sys.exit(0 if [l["case_id"] for l in lines] == [a.get("case_id"), b.get("case_id")] else 1)' "$OUT"
# stdin
expect_exit 0 bash -c "head -5 '$CASES' | '$NFLUX' batch - --quiet"
expect_true "five results from stdin" test "$(wc -l <"$OUT")" -eq 5

# Bad usage.
expect_exit 2 "$NFLUX" batch "$TMP/no_such.jsonl"
expect_contains "no_such.jsonl: no such file or folder"
expect_exit 2 "$NFLUX" batch "$CASES" --format text
expect_exit 2 "$NFLUX" batch "$CASES" --jobs -1

# --save: every case and run stored in batched transactions; the audit chain verifies; the results'
# trace_id are the run ids, in order.
export NFLUX_DB=$TMP/batch.db NFLUX_ACTOR=dr_batch
expect_exit 2 "$NFLUX" batch "$BAD" --save --quiet --out "$TMP/saved_bad.jsonl"
expect_exit 0 "$NFLUX" batch "$CASES" --save --jobs 2 --out "$TMP/saved.jsonl"
expect_contains "stored: 120 runs"
expect_exit 0 "$NFLUX" audit verify
expect_exit 0 "$NFLUX" audit list --json
expect_json 'len(d) == 123' 'all(r["origin"] == "batch" and r["actor"] == "dr_batch" for r in d)'
expect_true "trace_id is the run id, in input order" python3 -c 'import json, sys
ids = [json.loads(l)["trace_id"] for l in open(sys.argv[1])]
sys.exit(0 if ids == ["run-%d" % i for i in range(4, 124)] else 1)' "$TMP/saved.jsonl"
expect_exit 0 "$NFLUX" audit replay run-60

report_and_exit

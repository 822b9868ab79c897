#!/usr/bin/env bash
# What the golden expectations (examples_golden) do not state, pinned for every example: each lab as
# entered and as converted with its status, the derived indices, the questionnaire scores, the
# data-quality findings, the flux indices and the first five next-best data, from
# `nflux evaluate --format json`, against examples/expected/NAME.data.json.
#   tests/examples/examples_data_test.sh            check (exit 1 on a difference, each one listed)
#   tests/examples/examples_data_test.sh --update   rewrite the files after a reviewed change
# Run from the source root; $NFLUX is the nflux binary (default build/nflux).
set -euo pipefail
NFLUX="${NFLUX:-build/nflux}" python3 - "$@" <<'PY'
import glob, json, os, subprocess, sys

update = sys.argv[1:] == ["--update"]
FLUX_FIELDS = ["synthesis", "release", "reuptake", "breakdown", "level", "turnover"]

def data(output):
    """The pinned part of one evaluation, in a stable shape (contract fields only)."""
    return {
        "labs": [{"test": l["test"], "input": l.get("input"), "value": l["value"], "unit": l["unit"],
                  "status": l["status"], "used": l["used"]} for l in output["labs"]],
        "derived": [{"id": d["id"], "value": d["value"], "status": d["status"]} for d in output["derived"]],
        "questionnaires": [{"id": q["id"], "total": q["total"], "band": q["band"], "from": q["from"],
                            "items_flagged": q.get("items_flagged", {})} for q in output["questionnaires"]],
        "data_quality": [{"path": q["path"], "severity": q["severity"], "code": q["code"]}
                         for q in output["data_quality"]],
        "flux": {t: {f: round(v[f], 3) for f in FLUX_FIELDS} for t, v in sorted(output["flux"].items())},
        "next_best_data": [n["input"] for n in output["next_best_data"][:5]],
    }

def differences(expected, actual, path=""):
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            yield from differences(expected.get(key), actual.get(key), f"{path}/{key}")
    elif isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from differences(e, a, f"{path}/{i}")
    elif expected != actual:
        yield f"{path}: expected {json.dumps(expected, ensure_ascii=False)}, got {json.dumps(actual, ensure_ascii=False)}"

failed = 0
names = sorted(os.path.basename(p)[:-len(".json")] for p in glob.glob("examples/*.json"))
for name in names:
    run = subprocess.run([os.environ["NFLUX"], "evaluate", f"examples/{name}.json", "--format", "json"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        print(f"FAIL {name}: nflux evaluate exited {run.returncode}: {run.stderr.strip()}")
        failed += 1
        continue
    actual = data(json.loads(run.stdout))
    path = f"examples/expected/{name}.data.json"
    text = json.dumps(actual, indent=2, ensure_ascii=False) + "\n"
    if update:
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w", encoding="utf-8").write(text)
            print(f"updated {path}")
        continue
    if not os.path.exists(path):
        print(f"FAIL {name}: no {path}: run tests/examples/examples_data_test.sh --update")
        failed += 1
        continue
    diffs = list(differences(json.load(open(path, encoding="utf-8")), actual))
    print(("FAIL " if diffs else "PASS ") + name)
    for diff in diffs:
        print(f"  {path}:{diff}")
    failed += bool(diffs)
print(f"{len(names) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY

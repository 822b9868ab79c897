#!/usr/bin/env bash
# examples/README.md indexes every example: each examples/NAME.json has a row in its table, each
# file the table names exists, each example tells its story in extra.narrative, and each file in
# examples/expected/ belongs to an example (examples_golden and examples_data check the results).
# The minimal case shown in README.md and docs/case-format.md evaluates ($NFLUX: the nflux binary).
# Run from the source root.
set -euo pipefail
python3 - <<'PY'
import glob, json, os, re, sys

problems = []
examples = sorted(os.path.basename(p) for p in glob.glob("examples/*.json"))
readme = open("examples/README.md", encoding="utf-8").read()
rows = {m.group(1) for m in re.finditer(r"^\|\s*\[([\w.-]+\.json)\]\(\1\)\s*\|", readme, re.M)}
for name in examples:
    if name not in rows:
        problems.append(f"examples/README.md: no table row for examples/{name} (| [{name}]({name}) | ... |)")
    doc = json.load(open("examples/" + name, encoding="utf-8"))
    narrative = doc.get("extra", {}).get("narrative", "")
    if not isinstance(narrative, str) or len(narrative.split()) < 20:
        problems.append(f"examples/{name}: /extra/narrative: missing or shorter than 20 words")
for name in sorted(rows - set(examples)):
    problems.append(f"examples/README.md: the table names {name}, which is not in examples/")
for path in sorted(glob.glob("examples/expected/*")):
    base = os.path.basename(path)
    suffix = next((s for s in (".expect.json", ".data.json") if base.endswith(s)), None)
    if suffix is None:
        problems.append(f"{path}: expected NAME.expect.json or NAME.data.json")
    elif base[: -len(suffix)] + ".json" not in examples:
        problems.append(f"{path}: no example examples/{base[: -len(suffix)]}.json")
for problem in problems:
    print(problem)
print(f"{len(examples)} examples, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
PY

NFLUX="${NFLUX:-build/nflux}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
for doc in README.md docs/case-format.md; do
  # The first ```json block after the "minimal case" sentence.
  python3 - "$doc" > "$TMP/minimal.json" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
start = re.search(r"[Mm]inimal case", text)
block = re.search(r"```json\n(.*?)```", text[start.end():], re.S) if start else None
if not block:
    sys.exit(f"{sys.argv[1]}: no minimal case (a ```json block after 'minimal case')")
print(block.group(1))
PY
  if ! "$NFLUX" evaluate "$TMP/minimal.json" --format json > /dev/null; then
    echo "$doc: the minimal case does not evaluate"
    exit 1
  fi
  echo "$doc: the minimal case evaluates"
done

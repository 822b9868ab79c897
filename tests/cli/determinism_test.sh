#!/usr/bin/env bash
# Determinism (issue 14): every example and golden case gives byte-identical JSON whatever the order
# of the cases, the job count, the working directory and path spelling, the process, the locale and
# the time zone. 20 shuffled orders with 1 and 2 jobs, from two folders, and each case's result also
# from its own `nflux evaluate` process. (The trace is compared through the trace id, its digest.)
#
# Run by ctest (cli_determinism) from the repository root with $NFLUX set to the built binary.

# shellcheck source=tests/cli/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testlib.sh"

ROOT=$PWD
python3 - "$TMP" <<'PY'
import glob, json, random, sys
tmp = sys.argv[1]
paths = sorted(glob.glob("examples/*.json")) + sorted(glob.glob("rules/tests/*.case.json"))
lines = [json.dumps(json.load(open(p)), separators=(",", ":")) for p in paths]
with open(tmp + "/reference.jsonl", "w") as out:
    out.write("\n".join(lines) + "\n")
for seed in range(20):
    order = list(range(len(lines)))
    random.Random(seed).shuffle(order)
    with open("%s/shuffled%d.jsonl" % (tmp, seed), "w") as out:
        out.write("\n".join(lines[i] for i in order) + "\n")
    with open("%s/order%d.txt" % (tmp, seed), "w") as out:
        out.write(" ".join(map(str, order)))
PY

expect_exit 0 "$NFLUX" batch "$TMP/reference.jsonl" --jobs 1 --quiet --out "$TMP/reference.out"
count=$(wc -l <"$TMP/reference.jsonl")
expect_true "one result per case ($count)" test "$(wc -l <"$TMP/reference.out")" -eq "$count"

# Every shuffled order, alternately with 1 and 2 jobs, in another time zone and locale: each
# case's line equals its line in the reference.
for seed in $(seq 0 19); do
  jobs=$((seed % 2 + 1))
  expect_exit 0 env TZ=Pacific/Kiritimati LC_ALL=de_DE.UTF-8 "$NFLUX" batch "$TMP/shuffled$seed.jsonl" \
    --jobs "$jobs" --quiet --out "$TMP/shuffled$seed.out"
  expect_true "order $seed, --jobs $jobs: every case's result identical to the reference" python3 - "$TMP" "$seed" <<'PY'
import sys
tmp, seed = sys.argv[1], sys.argv[2]
reference = open(tmp + "/reference.out").read().splitlines()
got = open("%s/shuffled%s.out" % (tmp, seed)).read().splitlines()
order = list(map(int, open("%s/order%s.txt" % (tmp, seed)).read().split()))
sys.exit(0 if len(got) == len(order) and all(got[k] == reference[i] for k, i in enumerate(order)) else 1)
PY
done

# From another working directory, the knowledge and rules named by other spellings of their paths.
mkdir -p "$TMP/elsewhere/sub"
ln -s "$ROOT/knowledge" "$TMP/elsewhere/kb-link"
expect_exit 0 bash -c "cd '$TMP/elsewhere/sub' && '$NFLUX' --knowledge ../kb-link/ --rules '$ROOT/rules/../rules' \
  batch '$TMP/reference.jsonl' --jobs 2 --quiet --out '$TMP/elsewhere.out'"
expect_true "another folder and path spelling: byte-identical" cmp -s "$TMP/reference.out" "$TMP/elsewhere.out"

# Each example in a process of its own prints what the batch wrote for it.
index=0
for example in examples/*.json; do
  index=$((index + 1))
  expect_exit 0 "$NFLUX" evaluate "$example" --format json
  expect_true "$example: its own process gives the batch's line" \
    python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.loads(open(sys.argv[2]).read().splitlines()[int(sys.argv[3])-1]); sys.exit(a!=b)' \
    "$OUT" "$TMP/reference.out" "$index"
done

report_and_exit

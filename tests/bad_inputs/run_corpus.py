#!/usr/bin/env python3
"""The hostile-input corpus of issue 14: runs every entry of manifest.tsv against nflux.

    tests/bad_inputs/run_corpus.py --nflux build/nflux [--only ID|GLOB]... [--jobs N] [--list]
                                   [--verbose] [--keep] [--results FILE]

Every entry runs from the repository root with a fresh temporary folder ({tmp}) and a private
database in it (NFLUX_DB={tmp}/nflux.db; the compiled snapshot goes to a cache folder of the run),
within a time limit (2 s of CPU time, user and system, so that a busy machine does not fail an
entry; NFLUX_CORPUS_TIMEOUT overrides it, e.g. 10 under sanitizers; a hang that does not use the
CPU is killed at WALL_FACTOR times the limit of wall-clock time), with
a peak resident memory of at most 512 MB (measured by wait4; a 4 GB address-space limit guards the
machine, since jemalloc reserves address space well beyond what it uses; neither is set when
NFLUX_CORPUS_NO_RLIMIT is set, because AddressSanitizer reserves terabytes). An entry passes when
  - no signal killed nflux, it used at most the time limit of CPU and was not killed as hung
    (the process group is killed then),
  - the exit code is the expected one (never 1: an internal error is a bug),
  - the expected fragment is in stderr (or in stdout, for a fragment written `stdout:TEXT`),
  - after a non-zero exit the database holds no runs and no case versions (nothing stored).
Entries whose exit is `http:STATUS` and command `http METHOD PATH` are request bodies for
`nflux serve`: one service (`--port 0`, its own database, a 1 MiB body limit) answers them all, one
request at a time; each passes when its answer has that status and the fragment in its body, the
service spent at most the time limit of CPU on it (and answered within the wall-clock guard), the
service still runs, and (for a 4xx) nothing more is stored. At the end the
service must stop cleanly on SIGTERM (exit 0) within the memory limit.
Prints one line per failure (with the exit code or signal, the time, the peak resident memory,
which counts the pages nflux shares with the runner it was forked from, and the first line of
stderr) and a summary; exits 1 on any failure. --jobs (default 2, or
NFLUX_CORPUS_JOBS) entries run at once.

The manifest format is documented at the top of manifest.tsv; the generators (inputs too large
to commit, symlink loops, copies of knowledge/ and rules/ with one file added) are GENERATORS below.
Python 3 standard library only.
"""

import argparse
import concurrent.futures
import fnmatch
import http.client
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MEMORY_LIMIT = 512 << 20        # peak resident memory
ADDRESS_SPACE_LIMIT = 4 << 30   # a guard for the machine
WALL_FACTOR = 5                 # wall-clock guard against hangs that wait: this many times the CPU limit
MAX_OUTPUT_READ = 8 << 20  # bytes of stdout/stderr searched for the fragment

# ---- Generated inputs ----------------------------------------------------------------------------
# Each generator gets the entry's temporary folder and the string arguments after its name in the
# manifest (`gen:NAME:ARG:ARG`) and returns the path that {file} stands for.

MINIMAL = {"case_id": "corpus", "patient": {"sex": "female", "age_years": 44},
           "symptoms": {"low_mood": 2}, "labs": [{"test": "ferritin", "value": 18, "unit": "ng/mL"}]}
RULE = ('rule zz_corpus_{n} "Corpus rule {n}"\n  cites stahl_2021_psychopharmacology\n'
        '  when symptom low_mood >= 2\n  then derive fact zz_corpus_fact_{n}\nend\n')


def _write(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _case(**changes):
    case = json.loads(json.dumps(MINIMAL))
    for key, value in changes.items():
        case[key] = value
    return case


def gen_trunc(tmp, source, offset):
    """The first OFFSET bytes of a repository file (a valid case or bundle cut short)."""
    data = (REPO / source).read_bytes()[: int(offset)]
    return _write(Path(tmp) / f"trunc_{Path(source).stem}_{offset}.json", data)


def gen_trunc_bundle(tmp, name, offset):
    """The first OFFSET bytes of the test bundle tests/fhir/bundles/NAME.json."""
    return gen_trunc(tmp, f"tests/fhir/bundles/{name}.json", offset)


def gen_big_string(tmp, where, size):
    """A case with one string of SIZE bytes at WHERE (case_id, key, extra, unit, med_name, lab_test)."""
    text = "x" * int(size)
    case = _case()
    if where == "case_id":
        case["case_id"] = text
    elif where == "key":
        case["symptoms"] = {text: 1}
    elif where == "extra":
        case["extra"] = {"narrative": text}
    elif where == "unit":
        case["labs"][0]["unit"] = text
    elif where == "med_name":
        case["medications"] = [{"id": "sertraline", "name": text}]
    elif where == "lab_test":
        case["labs"][0]["test"] = text
    else:
        raise ValueError(where)
    return _write(Path(tmp) / f"big_{where}.json", json.dumps(case))


def gen_many(tmp, what, count):
    """A case with COUNT entries in one list or map."""
    n = int(count)
    case = _case()
    if what == "labs":
        case["labs"] = [{"test": "ferritin", "value": 18 + i % 50, "unit": "ng/mL"} for i in range(n)]
    elif what == "symptoms":
        case["symptoms"] = {f"symptom_{i}": 1 for i in range(n)}
    elif what == "medications":
        case["medications"] = [{"id": f"unknown_drug_{i}"} for i in range(n)]
    elif what == "conditions":
        case["conditions"] = [{"id": f"unknown_condition_{i}"} for i in range(n)]
    elif what == "stressors":
        case["stressors"] = {f"stressor_{i}": 1 for i in range(n)}
    elif what == "questionnaires":
        case["questionnaires"] = {f"q_{i}": {"total": 1} for i in range(n)}
    elif what in ("current", "requested"):
        case["supplements"] = {what: ["cofactor_magnesium"] * n}
    elif what == "extra":
        case["extra"] = {"numbers": list(range(n))}
    elif what == "phq9_items":
        case["questionnaires"] = {"phq9": {"items": [1] * n}}
    else:
        raise ValueError(what)
    return _write(Path(tmp) / f"many_{what}.json", json.dumps(case, separators=(",", ":")))


def gen_deep(tmp, where, depth):
    """DEPTH nested arrays or objects: the whole document, under "extra", or a lab, closed or not."""
    n = int(depth)
    arrays, objects = "[" * n + "]" * n, '{"a":' * n + "1" + "}" * n
    head = '{"case_id":"deep","patient":{"sex":"female","age_years":44},'
    texts = {
        "array": arrays,
        "object": objects,
        "extra_array": head + '"extra":' + arrays + "}",
        "extra_object": head + '"extra":' + objects + "}",
        "labs": head + '"labs":' + arrays + "}",
        "symptom_value": head + '"symptoms":{"low_mood":' + arrays + "}}",
        "unclosed_array": "[" * n,
        "unclosed_object": '{"a":' * n,
        "extra_unclosed": head + '"extra":' + "[" * n,
    }
    return _write(Path(tmp) / f"deep_{where}.json", texts[where])


def gen_hook(tmp, kind, size):
    """A patient-view request made hostile by SIZE: SIZE-deep arrays beside its members, a patient
    id SIZE characters long, SIZE observations, or SIZE bytes of padding (past the body limit)."""
    n = int(size)
    hook = {"hook": "patient-view", "hookInstance": "d1b8f3b0-0000-4000-8000-000000000009",
            "context": {"patientId": "p", "userId": "Practitioner/1"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": "p", "gender": "female",
                                     "birthDate": "1980-01-01"}}}
    if kind == "deep":
        text = json.dumps(hook)[:-1] + ', "extension": ' + "[" * n + "]" * n + "}"
    elif kind == "long_patient_id":
        hook["context"]["patientId"] = "p" * n
        text = json.dumps(hook)
    elif kind == "observations":
        hook["prefetch"]["observations"] = _bundle([_observation(i) for i in range(n)])
        text = json.dumps(hook)
    elif kind == "oversized":
        text = json.dumps(hook)[:-1] + ', "padding": "' + "x" * n + '"}'
    else:
        raise ValueError(f"no hook kind {kind}")
    return _write(Path(tmp) / f"hook_{kind}.json", text)


def gen_unit_parens(tmp, count):
    """A lab whose unit is COUNT '(' (a unit parser recursing on parentheses)."""
    case = _case()
    case["labs"][0]["unit"] = "ng/" + "(" * int(count) + "mL"
    return _write(Path(tmp) / "unit_parens.json", json.dumps(case))


def gen_padded(tmp, size, kind="case"):
    """A valid case, or one batch line, padded with SIZE spaces: past the 32 MiB input limit."""
    text = json.dumps(MINIMAL)[:-1] + " " * int(size) + "}"
    name = "padded.jsonl" if kind == "jsonl" else "padded.json"
    if kind == "jsonl":
        text = json.dumps(MINIMAL) + "\n" + text + "\n" + json.dumps(MINIMAL) + "\n"
    return _write(Path(tmp) / name, text)


def gen_jsonl(tmp, kind, count):
    """A batch file of COUNT lines: bad JSON, wrong cases, or good cases with one bad line."""
    n = int(count)
    good = json.dumps(MINIMAL)
    if kind == "garbage":
        lines = ["{" for _ in range(n)]
    elif kind == "types":
        lines = [json.dumps(_case(patient={"sex": "female", "age_years": "44"})) for _ in range(n)]
    elif kind == "one_bad":
        lines = [good] * n
        lines[n // 2] = good[: len(good) // 2]
    elif kind == "empty_lines":
        lines = [""] * n
    elif kind == "arrays":
        lines = ["[" * 100 + "]" * 100 for _ in range(n)]
    else:
        raise ValueError(kind)
    return _write(Path(tmp) / f"{kind}.jsonl", "\n".join(lines) + "\n")


def gen_selflink(tmp, name):
    """NAME, a symbolic link to itself."""
    path = Path(tmp) / name
    os.symlink(name, path)
    return path


def gen_linkpair(tmp, name):
    """NAME -> other.json -> NAME."""
    os.symlink("other.json", Path(tmp) / name)
    os.symlink(name, Path(tmp) / "other.json")
    return Path(tmp) / name


def gen_dir(tmp, name):
    """A folder named like a case file."""
    path = Path(tmp) / name
    path.mkdir()
    return path


def gen_case_dir_loop(tmp):
    """A folder for `batch DIR`: one good case, a self-linked case and a link to the folder itself."""
    folder = Path(tmp) / "cases"
    folder.mkdir()
    _write(folder / "a.json", json.dumps(MINIMAL))
    os.symlink("loop.json", folder / "loop.json")
    os.symlink(".", folder / "again")
    return folder


def gen_random(tmp, size, seed, name="random.bin"):
    """SIZE pseudo-random bytes (seeded)."""
    rng = random.Random(int(seed))
    return _write(Path(tmp) / name, bytes(rng.getrandbits(8) for _ in range(int(size))))


def gen_garbage_db(tmp):
    """A file that is not an SQLite database, for --db."""
    return _write(Path(tmp) / "garbage.db", "this is not a database\n" * 100)


def _copy_tree(source, target):
    shutil.copytree(REPO / source, target, ignore=shutil.ignore_patterns("tests"), symlinks=True)
    return Path(target)


def gen_rules_dir(tmp, name, target=None):
    """rules/ copied to {tmp}/rules with tests/bad_inputs/rules/NAME added (as TARGET)."""
    folder = _copy_tree("rules", Path(tmp) / "rules")
    shutil.copyfile(HERE / "rules" / name, folder / (target or name))
    return folder


def gen_kb_dir(tmp, name, target=None):
    """knowledge/ copied to {tmp}/knowledge with tests/bad_inputs/knowledge/NAME added (as TARGET)."""
    folder = _copy_tree("knowledge", Path(tmp) / "knowledge")
    shutil.copyfile(HERE / "knowledge" / name, folder / (target or name))
    return folder


def _generated_source(folder, kind, size, extension):
    n = int(size)
    path = folder / f"zz_generated{extension}"
    if kind == "selflink":
        os.symlink(path.name, path)
    elif kind == "linkpair":
        os.symlink(f"zz_other{extension}", path)
        os.symlink(path.name, folder / f"zz_other{extension}")
    elif kind == "dirloop":
        os.symlink(".", folder / "zz_loop")
    elif kind == "parent_loop":
        (folder / "zz_sub").mkdir()
        os.symlink("..", folder / "zz_sub" / "up")
    elif kind == "many_files":  # hard links to one file: quick to make
        sub = folder / "zz_many"
        sub.mkdir()
        first = _write(sub / f"f00000{extension}", "{}" if extension == ".json" else "# empty\n")
        for i in range(1, n):
            os.link(first, sub / f"f{i:05d}{extension}")
    elif kind == "comments":
        _write(path, "#\n" * n)
    elif kind == "blank":
        _write(path, "\n" * n)
    elif kind == "many_rules":  # 5 lines a rule: SIZE lines are SIZE/5 rules, under 16 MiB
        _write(path, "".join(f'rule z{i} "t"\ncites ucum\nwhen age > 1\nthen derive fact f\nend\n'
                             for i in range(n // 5)))
    elif kind == "or_chain":  # one rule, one condition a line
        _write(path, 'rule zz_or "t"\ncites stahl_2021_psychopharmacology\nwhen age > 1\n'
               + "or age > 1\n" * n + "then derive fact zz_f\nend\n")
    elif kind == "parens":
        _write(path, 'rule zz_p "t"\ncites stahl_2021_psychopharmacology\nwhen ' + "(" * n
               + "age > 1" + ")" * n + "\nthen derive fact zz_f\nend\n")
    elif kind == "parens_unclosed":
        _write(path, 'rule zz_p "t"\ncites stahl_2021_psychopharmacology\nwhen ' + "(" * n + "\n")
    elif kind == "nots":
        _write(path, 'rule zz_n "t"\ncites stahl_2021_psychopharmacology\nwhen ' + "not " * n
               + "age > 1\nthen derive fact zz_f\nend\n")
    elif kind == "at_least_nested":
        _write(path, 'rule zz_a "t"\ncites stahl_2021_psychopharmacology\nwhen ' + "at least 1 of (" * n
               + "age > 1" + ")" * n + "\nthen derive fact zz_f\nend\n")
    elif kind == "bad_lines":
        _write(path, "rule (\n" * n)
    elif kind == "long_line":
        _write(path, 'rule zz_l "' + "x" * n + '"\ncites stahl_2021_psychopharmacology\nwhen age > 1\n'
               "then derive fact zz_f\nend\n")
    elif kind == "long_comment":
        _write(path, "#" + "x" * n + "\n")
    elif kind == "long_title":
        _write(path, RULE.format(n="t").replace("Corpus rule t", "x" * n))
    elif kind == "long_number":
        _write(path, RULE.format(n="d").replace(">= 2", ">= " + "9" * n))
    elif kind == "random":
        rng = random.Random(n)
        _write(path, bytes(rng.getrandbits(8) for _ in range(n)))
    elif kind == "deep_json":
        _write(path, '{"nodes": ' + "[" * n + "]" * n + "}")
    elif kind == "long_string":
        _write(path, json.dumps({"nodes": [{"id": "zz_corpus_node", "kind": "metabolite", "label": "x" * n,
                                            "description": "generated"}]}))
    elif kind == "big_file":  # valid JSON of SIZE bytes: comment keys padded with spaces
        _write(path, '{"_note": "big"' + " " * n + "}")
    elif kind == "many_nodes":
        _write(path, json.dumps({"nodes": [{"id": f"zz_node_{i}", "kind": "metabolite", "label": "n",
                                            "description": "generated"} for i in range(n)]}))
    elif kind == "edge_chain":  # a precursor chain zz_0 -> zz_1 -> ... -> zz_0 (a cycle)
        nodes = [{"id": f"zz_chain_{i}", "kind": "metabolite", "label": "n", "description": "g"} for i in range(n)]
        edges = [{"from": f"zz_chain_{i}", "type": "precursor_of", "to": f"zz_chain_{(i + 1) % n}",
                  "citations": ["cooper_bloom_roth"]} for i in range(n)]
        _write(path, json.dumps({"nodes": nodes, "edges": edges}))
    elif kind == "dense_graph":  # SIZE nodes, an edge from each to every other: paths explode
        nodes = [{"id": f"zz_chain_{i}", "kind": "metabolite", "label": "n", "description": "g"} for i in range(n)]
        edges = [{"from": f"zz_chain_{i}", "type": "precursor_of", "to": f"zz_chain_{j}",
                  "citations": ["cooper_bloom_roth"]}
                 for i in range(n) for j in range(n) if i != j]
        _write(path, json.dumps({"nodes": nodes, "edges": edges}))
    else:
        raise ValueError(kind)
    return folder


def gen_rules_gen(tmp, kind, size="0"):
    """rules/ copied to {tmp}/rules with a generated rule file (or links, or many files) added."""
    return _generated_source(_copy_tree("rules", Path(tmp) / "rules"), kind, size, ".rules")


def gen_kb_gen(tmp, kind, size="0"):
    """knowledge/ copied to {tmp}/knowledge with a generated JSON file (or links, or many files) added."""
    return _generated_source(_copy_tree("knowledge", Path(tmp) / "knowledge"), kind, size, ".json")


def _bundle(entries):
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "p", "gender": "female",
                                    "birthDate": "1980-01-01"}}] + entries}


def _observation(i, value=18, date="2026-01-01"):
    return {"resource": {"resourceType": "Observation", "id": f"o{i}", "status": "final",
                         "code": {"coding": [{"system": "http://loinc.org", "code": "2276-4"}]},
                         "effectiveDateTime": date,
                         "valueQuantity": {"value": value, "unit": "ng/mL", "system": "http://unitsofmeasure.org",
                                           "code": "ng/mL"}}}


def gen_fhir(tmp, kind, size):
    """FHIR bundles too large to commit: many observations, deep items, bundles in bundles."""
    n = int(size)
    if kind == "many_obs":
        doc = _bundle([_observation(i, 10 + i % 90, f"20{10 + i % 16:02d}-01-{1 + i % 28:02d}") for i in range(n)])
    elif kind == "deep_items":
        item = {"linkId": "44250-9", "answer": [{"valueInteger": 1}]}
        for _ in range(n):
            item = {"linkId": "group", "item": [item]}
        doc = _bundle([{"resource": {"resourceType": "QuestionnaireResponse", "status": "completed",
                                     "questionnaire": "http://loinc.org/q/44249-1", "item": [item]}}])
    elif kind == "deep_bundle":
        doc = _bundle([])
        for _ in range(n):
            doc = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": doc}]}
    elif kind == "many_entries_unused":
        doc = _bundle([{"resource": {"resourceType": "Basic", "id": f"b{i}"}} for i in range(n)])
    elif kind == "long_display":
        obs = _observation(0)
        obs["resource"]["code"]["coding"][0]["display"] = "x" * n
        doc = _bundle([obs])
    else:
        raise ValueError(kind)
    return _write(Path(tmp) / f"fhir_{kind}.json", json.dumps(doc, separators=(",", ":")))


GENERATORS = {
    "trunc": gen_trunc, "trunc_bundle": gen_trunc_bundle, "big_string": gen_big_string, "many": gen_many,
    "deep": gen_deep, "unit_parens": gen_unit_parens, "padded": gen_padded, "jsonl": gen_jsonl,
    "selflink": gen_selflink,
    "linkpair": gen_linkpair, "dir": gen_dir, "case_dir_loop": gen_case_dir_loop, "random": gen_random,
    "garbage_db": gen_garbage_db, "rules_dir": gen_rules_dir, "kb_dir": gen_kb_dir, "rules_gen": gen_rules_gen,
    "kb_gen": gen_kb_gen, "fhir": gen_fhir, "hook": gen_hook,
}


class GeneratorServer:
    """A child Python that makes the large inputs (one per worker thread): the runner stays small, so
    the peak memory wait4 reports for nflux (which counts the pages of the forked runner too) is
    nflux's own, and no generator's memory lingers in the runner."""

    def __init__(self):
        self.process = None

    def make(self, spec, tmp):
        if self.process is None or self.process.poll() is not None:  # first use, or it died
            self.process = subprocess.Popen([sys.executable, __file__, "--generator-server"],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                            encoding="utf-8")
        self.process.stdin.write(f"{spec}\t{tmp}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().rstrip("\n")
        if not answer.startswith("ok\t"):
            raise RuntimeError(f"generator {spec} failed: {answer or 'no answer'}")
        return answer[3:]

    def close(self):
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait()


_servers = threading.local()
_all_servers = []


def generator_server():
    if not hasattr(_servers, "server"):
        _servers.server = GeneratorServer()
        _all_servers.append(_servers.server)
    return _servers.server


def serve_generators():
    sys.setrecursionlimit(100_000)  # json.dumps of the deep FHIR generators
    for line in sys.stdin:
        spec, tmp = line.rstrip("\n").split("\t")
        try:
            name, *args = spec.split(":")
            answer = f"ok\t{GENERATORS[name](tmp, *args)}"
        except Exception as error:  # reported by the runner as a failure of the entry
            answer = f"error\t{type(error).__name__}: {error}".replace("\n", " ")
        print(answer, flush=True)


# Generators that make small files or links: run in the runner itself.
LIGHT_GENERATORS = {"trunc", "trunc_bundle", "selflink", "linkpair", "dir", "case_dir_loop", "garbage_db",
                    "rules_dir", "kb_dir", "unit_parens"}

# ---- The manifest --------------------------------------------------------------------------------


class Entry:
    def __init__(self, line_number, id_, input_, exit_, expect, command):
        self.line_number, self.id, self.input = line_number, id_, input_
        self.expect, self.command = expect, command
        self.http = exit_.startswith("http:")
        self.exit = None if self.http else int(exit_)
        self.exit_http = exit_[5:] if self.http else None


def read_manifest(path):
    entries, seen, defaults = [], set(), {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if fields[0] == "default" and len(fields) == 3:  # default FOLDER COMMAND: what "-" stands for
            defaults[fields[1]] = fields[2]
            continue
        if len(fields) == 5 and fields[4] == "-":
            folder = fields[0].split("/", 1)[0]
            if folder not in defaults:
                sys.exit(f"{path}:{number}: no default command for {folder}/ above this line")
            fields[4] = defaults[folder]
        if len(fields) != 5:
            sys.exit(f"{path}:{number}: expected 5 tab-separated fields, got {len(fields)}")
        entry = Entry(number, *fields)
        if entry.id in seen:
            sys.exit(f"{path}:{number}: duplicate id {entry.id}")
        if entry.exit == 1:
            sys.exit(f"{path}:{number}: exit 1 is an internal error and never expected")
        if entry.http != entry.command.startswith("http ") or (entry.http and len(shlex.split(entry.command)) != 3):
            sys.exit(f"{path}:{number}: the command is `http METHOD PATH` exactly when the exit is http:STATUS")
        seen.add(entry.id)
        entries.append(entry)
    return entries


def make_input(entry, tmp):
    if entry.input == "-":
        return None
    spec = entry.input.replace("{id}", entry.id).replace("{name}", entry.id.split("/", 1)[-1])
    if spec.startswith("gen:") and spec.split(":")[1] in LIGHT_GENERATORS:
        name, *args = spec[4:].split(":")
        return str(GENERATORS[name](tmp, *args))
    if spec.startswith("gen:"):
        return generator_server().make(spec[4:], tmp)
    path = HERE / spec
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(f"input {spec} is missing")
    return str(path.relative_to(REPO))


def expand(token, nflux, file, tmp):
    token = token.replace("{nflux}", nflux).replace("{tmp}", str(tmp)).replace("{file}", file or "")
    while "{repeat:" in token:  # {repeat:TEXT:N}: TEXT (no ':' or '}') N times
        start = token.index("{repeat:")
        end = token.index("}", start)
        text, count = token[start + 8:end].rsplit(":", 1)
        token = token[:start] + text * int(count) + token[end + 1:]
    while "{hex:" in token:  # {hex:HH}: one byte (0x80 and up: not UTF-8 on its own)
        start = token.index("{hex:")
        byte = int(token[start + 5:start + 7], 16)
        token = token[:start] + (chr(0xDC00 + byte) if byte >= 0x80 else chr(byte)) + token[start + 8:]
    while "{spaces:" in token:  # {spaces:N}
        start = token.index("{spaces:")
        end = token.index("}", start)
        token = token[:start] + " " * int(token[start + 8:end]) + token[end + 1:]
    return token


def stored_rows(db):
    """Rows in runs and case_versions of the database at db (0 when it or the tables do not exist)."""
    if not os.path.isfile(db):
        return 0
    try:
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            return sum(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                       for table in ("runs", "case_versions") if table in tables)
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return 0  # not a database: nothing stored in it


def read_head(path):
    with open(path, "rb") as f:
        return f.read(MAX_OUTPUT_READ).decode("utf-8", "replace")


def nflux_environment(cache, **extra):
    """The runner's environment for nflux: the shipped knowledge and rules (no overrides), the run's
    snapshot cache, no colour, and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("NFLUX_KNOWLEDGE", "NFLUX_RULES", "NFLUX_SNAPSHOT")}
    env.update(NFLUX_CACHE=cache, NO_COLOR="1", **extra)
    return env


def run_entry(entry, nflux, timeout, rlimit, cache, keep):
    """Runs one entry; returns (entry, the problems found (empty when it passed), its outcome)."""
    tmp = Path(tempfile.mkdtemp(prefix="nflux-corpus-"))
    outcome = {"id": entry.id}
    try:
        file = make_input(entry, tmp)
        argv = [expand(token, nflux, file, tmp) for token in shlex.split(entry.command)]
        stdin_path = None
        if len(argv) >= 2 and argv[-2] == "<":
            stdin_path, argv = argv[-1], argv[:-2]
        env = nflux_environment(cache, NFLUX_DB=str(tmp / "nflux.db"), XDG_DATA_HOME=str(tmp / "data"))

        def limit():  # in the child, before exec
            if rlimit:
                resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))

        out_path, err_path = tmp / "stdout", tmp / "stderr"
        with open(out_path, "wb") as out, open(err_path, "wb") as err, \
                open(stdin_path or os.devnull, "rb") as stdin:
            start = time.monotonic()
            child = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, cwd=REPO, env=env,
                                     preexec_fn=limit, start_new_session=True)
            timed_out = threading.Event()

            def kill():  # the whole process group nflux leads (its threads and any child)
                timed_out.set()
                try:
                    os.killpg(child.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

            timer = threading.Timer(WALL_FACTOR * timeout, kill)
            timer.start()
            _, status, usage = os.wait4(child.pid, 0)  # wait4: the child's own peak memory
            timer.cancel()
            child.returncode = os.waitstatus_to_exitcode(status)
            elapsed = time.monotonic() - start
        stderr, stdout = read_head(err_path), read_head(out_path)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        cpu = usage.ru_utime + usage.ru_stime
        outcome.update(exit=code, signal=None if code is not None else signal.Signals(os.WTERMSIG(status)).name,
                       timed_out=timed_out.is_set(), seconds=round(elapsed, 3), cpu_seconds=round(cpu, 3),
                       peak_mb=usage.ru_maxrss >> 10, stderr=stderr[:2000], stdout=stdout[:300])
        problems = []
        if timed_out.is_set():
            problems.append(f"hang: killed after {WALL_FACTOR * timeout:g} s of wall-clock time")
        elif cpu > timeout:
            problems.append(f"used {cpu:.2f} s of CPU, over {timeout:g} s")
        elif code is None:
            problems.append(f"killed by signal {outcome['signal']}")
        elif code != entry.exit:
            problems.append(f"expected exit {entry.exit}, got {code}")
        if rlimit and outcome["peak_mb"] > MEMORY_LIMIT >> 20:
            problems.append(f"peak memory {outcome['peak_mb']} MB over {MEMORY_LIMIT >> 20} MB")
        if not problems:
            expect = entry.expect.replace("{id}", entry.id).replace("{name}", entry.id.split("/", 1)[-1])
            where, fragment = ("stdout", expect[7:]) if expect.startswith("stdout:") else ("stderr", expect)
            if fragment not in (stdout if where == "stdout" else stderr):
                problems.append(f"{where} lacks {fragment!r}")
        if code != 0 and stored_rows(tmp / "nflux.db"):
            problems.append("runs or case versions were stored although it failed")
        return entry, problems, outcome
    except Exception as error:  # a broken entry or generator is a failure too, never a silent pass
        return entry, [f"runner error: {type(error).__name__}: {error}"], outcome
    finally:
        if keep:
            print(f"{entry.id}: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


SERVICE_MAX_BODY = 1 << 20  # --max-body of the corpus's service


class Service:
    """One `nflux serve --port 0` with a private database in `tmp`, for the corpus's HTTP entries."""

    def __init__(self, nflux, cache, tmp, start_timeout):
        self.tmp, self.log_path = tmp, tmp / "serve.log"
        env = nflux_environment(cache)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [nflux, "--db", str(tmp / "nflux.db"), "serve", "--port", "0", "--threads", "2",
                 "--read-timeout", "2", "--max-body", str(SERVICE_MAX_BODY)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, cwd=REPO, env=env,
                start_new_session=True)
        deadline = time.monotonic() + start_timeout
        while True:
            found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log())
            if found:
                self.port = int(found.group(1))
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"nflux serve did not start listening: {self.log()[-500:]!r}")
            time.sleep(0.05)

    def cpu_seconds(self):
        """The CPU time (user and system, all threads) the service has used so far (/proc/PID/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def send(self, method, path, body, timeout):
        """(status, body text) of one request on its own connection."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            try:
                connection.request(method, path, body=body, headers={"Content-Type": "application/json"})
            except (BrokenPipeError, ConnectionResetError):
                pass  # a body past the limit: the service may answer 413 before it has read it all
            response = connection.getresponse()
            return response.status, response.read(MAX_OUTPUT_READ).decode("utf-8", "replace")
        finally:
            connection.close()

    def stop(self):
        """(exit code, peak resident MB) after SIGTERM."""
        self.process.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return self.process.returncode, usage.ru_maxrss >> 10


def run_http_entries(entries, nflux, timeout, rlimit, cache, keep):
    """Sends every HTTP entry to one service; returns [(entry or None, problems)] of the failures
    (None: the service itself: its start, its stop, its memory)."""
    tmp = Path(tempfile.mkdtemp(prefix="nflux-corpus-http-"))
    failures = []
    try:
        try:
            service = Service(nflux, cache, tmp, start_timeout=max(60, 30 * timeout))
        except RuntimeError as error:
            return [(None, [str(error)])]
        for entry in entries:
            problems = []
            try:
                status = int(entry.exit_http)
                method, path = shlex.split(entry.command)[1:3]
                file = make_input(entry, tmp)
                body = Path(REPO / file if not os.path.isabs(file) else file).read_bytes() if file else b""
                stored_before = stored_rows(tmp / "nflux.db")
                cpu_before = service.cpu_seconds()
                got, text = service.send(method, path, body, WALL_FACTOR * timeout)
                cpu = service.cpu_seconds() - cpu_before
                if got >= 400 and stored_rows(tmp / "nflux.db") != stored_before:
                    problems.append(f"HTTP {got}, yet runs or case versions were stored")
                if got != status:
                    problems.append(f"expected HTTP {status}, got {got}: {text[:160]!r}")
                elif entry.expect and entry.expect not in text:
                    problems.append(f"answer lacks {entry.expect!r}: {text[:160]!r}")
                if cpu > timeout:
                    problems.append(f"the service used {cpu:.2f} s of CPU on it, over {timeout:g} s")
            except Exception as error:  # a timeout, a closed connection, a broken entry
                problems.append(f"{type(error).__name__}: {error}")
            if service.process.poll() is not None:
                problems.append(f"nflux serve died (exit {service.process.returncode}): {service.log()[-300:]!r}")
                failures.append((entry, problems))
                return failures
            if problems:
                failures.append((entry, problems))
        code, peak_mb = service.stop()
        problems = []
        if code != 0:
            problems.append(f"nflux serve exited {code} after SIGTERM, expected 0")
        if rlimit and peak_mb > MEMORY_LIMIT >> 20:
            problems.append(f"nflux serve's peak memory {peak_mb} MB over {MEMORY_LIMIT >> 20} MB")
        if problems:
            failures.append((None, problems))
        return failures
    finally:
        if keep:
            print(f"http entries: kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def describe(outcome):
    if "seconds" not in outcome:
        return ""
    first = next((line for line in outcome["stderr"].splitlines() if line.strip()), "")
    status = f"exit {outcome['exit']}" if outcome["exit"] is not None else f"signal {outcome['signal']}"
    return f"{status}, {outcome['seconds']:.2f} s, {outcome['peak_mb']} MB; stderr: {first[:160]!r}"


def main():
    if sys.argv[1:] == ["--generator-server"]:
        return serve_generators()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nflux", required=True, help="the nflux binary")
    parser.add_argument("--only", action="append",
                        help="run only this id (a glob such as 'rules/*' too); repeatable")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("NFLUX_CORPUS_JOBS", "2")),
                        help="entries run at once (default 2, or NFLUX_CORPUS_JOBS)")
    parser.add_argument("--manifest", default=str(HERE / "manifest.tsv"))
    parser.add_argument("--list", action="store_true", help="list the entries and exit")
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per entry, passed ones too")
    parser.add_argument("--keep", action="store_true", help="keep each entry's temporary folder")
    parser.add_argument("--results", help="also write every entry's outcome to this file (JSON Lines)")
    args = parser.parse_args()

    nflux = str(Path(args.nflux).resolve())
    if not os.access(nflux, os.X_OK):
        sys.exit(f"run_corpus: {args.nflux} is not an executable")
    entries = read_manifest(Path(args.manifest))
    if args.only:
        entries = [e for e in entries if any(e.id == pattern or fnmatch.fnmatchcase(e.id, pattern)
                                             for pattern in args.only)]
        if not entries:
            sys.exit(f"run_corpus: no entry matches {args.only}")
    if args.list:
        for e in entries:
            print(f"{e.id}\t{'http' if e.http else e.exit}\t{e.input}")
        return 0
    timeout = float(os.environ.get("NFLUX_CORPUS_TIMEOUT", "2"))
    rlimit = not os.environ.get("NFLUX_CORPUS_NO_RLIMIT")
    http_entries = [e for e in entries if e.http]
    runnable = [e for e in entries if not e.http]

    start = time.monotonic()
    failures = []
    results = open(args.results, "w", encoding="utf-8") if args.results else None
    cache = tempfile.mkdtemp(prefix="nflux-corpus-cache-")  # one snapshot cache for the run
    try:
        # Generated inputs first: they are the slowest, so the run ends sooner.
        runnable.sort(key=lambda e: not e.input.startswith("gen:"))
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_entry, e, nflux, timeout, rlimit, cache, args.keep) for e in runnable]
            for future in concurrent.futures.as_completed(futures):
                entry, problems, outcome = future.result()
                if results:
                    results.write(json.dumps(dict(outcome, problems=problems)) + "\n")
                if problems:
                    failures.append(entry)
                    print(f"FAIL {entry.id}: {'; '.join(problems)} ({describe(outcome)})", flush=True)
                elif args.verbose:
                    print(f"ok   {entry.id} ({describe(outcome)})", flush=True)
        if http_entries:
            for entry, problems in run_http_entries(http_entries, nflux, timeout, rlimit, cache, args.keep):
                failures.append(entry)
                print(f"FAIL {entry.id if entry else 'nflux serve'}: {'; '.join(problems)}", flush=True)
    finally:
        for server in _all_servers:
            server.close()
        shutil.rmtree(cache, ignore_errors=True)
        if results:
            results.close()
    elapsed = time.monotonic() - start
    failed = len({id(e) for e in failures if e is not None})
    print(f"corpus: {len(entries)} inputs ({len(http_entries)} sent to nflux serve), "
          f"{len(entries) - failed} passed, {failed} failed"
          f"{', and the service itself failed' if None in failures else ''} in {elapsed:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

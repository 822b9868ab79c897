#!/usr/bin/env python3
"""Assembles each fuzz target's seed corpus into OUT/<target>/ from what the repository already
holds (examples, golden cases, FHIR test bundles, the rule and knowledge files) and the small
hand-written seeds in tests/fuzz/seeds/<target>/ (crash reproducers among them).

Usage: make_seeds.py ROOT OUT"""
import json
import pathlib
import shutil
import sys

root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
seeds = root / 'tests/fuzz/seeds'


def put(target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def copy(target, paths):
    for path in sorted(paths):
        put(target, path.parent.name + '_' + path.name, path.read_bytes())


cases = list((root / 'examples').glob('*.json')) + list((root / 'rules/tests').glob('*.case.json'))
bundles = sorted((root / 'tests/fhir/bundles').glob('*.json')) + sorted((root / 'tests/service/data').glob('*.json'))
for target in ('case', 'evaluate'):
    copy(target, cases)
copy('fhir', bundles)
copy('rules', (root / 'rules').glob('*.rules'))
copy('knowledge', (root / 'knowledge').rglob('*.json'))

# Units: every unit a lab accepts, against its canonical unit.
count = 0
for path in sorted((root / 'knowledge').rglob('*.json')):
    for node in json.loads(path.read_text()).get('nodes', []):
        if node.get('kind') == 'lab' and node.get('canonical_unit'):
            for unit in node.get('units', []):
                count += 1
                put('units', f'{node["id"]}_{count}', f'{unit}\n{node["canonical_unit"]}')

# HTTP: "METHOD PATH" then the body, as http_fuzz.cc reads it.
put('http', 'discovery', 'GET /cds-services\n')
put('http', 'health', 'GET /health\n')
for bundle_path in bundles[:4]:
    bundle = json.loads(bundle_path.read_text())
    entries = [e['resource'] for e in bundle.get('entry', []) if 'resource' in e]
    def searchset(kind):
        return {'resourceType': 'Bundle', 'type': 'searchset',
                'entry': [{'resource': r} for r in entries if r.get('resourceType') == kind]}
    patient = next((r for r in entries if r.get('resourceType') == 'Patient'), None)
    if patient is None:
        continue
    prefetch = {'patient': patient, 'observations': searchset('Observation'),
                'medicationStatements': searchset('MedicationStatement'),
                'medicationRequests': searchset('MedicationRequest'), 'conditions': searchset('Condition'),
                'questionnaireResponses': searchset('QuestionnaireResponse')}
    context = {'userId': 'Practitioner/dr-1', 'patientId': patient.get('id', 'p1')}
    hook = {'hook': 'patient-view', 'hookInstance': 'seed-' + bundle_path.stem, 'context': context, 'prefetch': prefetch}
    put('http', 'patient_view_' + bundle_path.stem, 'POST /cds-services/neuroflux-patient-view\n' + json.dumps(hook))
    put('http', 'evaluate_' + bundle_path.stem, 'POST /evaluate\n' + bundle_path.read_text())

for folder in seeds.iterdir() if seeds.exists() else []:
    for path in folder.iterdir():
        put(folder.name, 'seed_' + path.name, path.read_bytes())

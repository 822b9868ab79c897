#!/usr/bin/env node
// Validates every FHIR R4 test bundle (tests/fhir/bundles/*.json, not the .case.json and
// .notes.json beside them) with the R4 validator of the npm `fhir` package, errorOnUnexpected:
// an unknown element, a wrong type, a missing required element or a code outside a required value
// set fails. Prints one line per problem and exits 1 on any error; 0 when every bundle is valid.
//   node tests/fhir/validate.js [BUNDLE.json ...]
'use strict';
const fs = require('fs');
const path = require('path');
let Fhir;
try {
  ({ Fhir } = require('fhir'));
} catch (e) {
  console.error('the npm fhir package is not installed: run scripts/test, or npm ci --prefix tests/fhir');
  process.exit(1);
}

const dir = path.join(__dirname, 'bundles');
const files = process.argv.length > 2
  ? process.argv.slice(2)
  : fs.readdirSync(dir)
      .filter((f) => f.endsWith('.json') && !f.endsWith('.case.json') && !f.endsWith('.notes.json'))
      .sort()
      .map((f) => path.join(dir, f));

const fhir = new Fhir();
let failed = 0;
for (const file of files) {
  const resource = JSON.parse(fs.readFileSync(file, 'utf8'));
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  const errors = result.messages.filter((m) => m.severity === 'error' || m.severity === 'fatal');
  for (const m of errors) console.log(`${path.basename(file)}: ${m.location}: ${m.message}`);
  if (!result.valid || errors.length > 0) failed++;
  else console.log(`${path.basename(file)}: valid FHIR R4 ${resource.resourceType}`);
}
console.log(`${files.length - failed} of ${files.length} bundles valid`);
process.exit(failed === 0 && files.length > 0 ? 0 : 1);

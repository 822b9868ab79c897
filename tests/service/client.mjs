// A CDS client against a running `nflux serve` (Node 20, its own fetch): discovery, patient-view
// with prefetch, patient-view fetching from a FHIR server (a small one started here on the loopback
// address, requiring the bearer token), order-sign with a draft 5-HTP order, and feedback on the
// cards; every response checked against the CDS Hooks 2.0 rules and every FHIR resource in a
// suggestion validated with the npm `fhir` validator.
//
//   node tests/service/client.mjs http://127.0.0.1:PORT [TOKEN]
// Exit 0 when every check passes; otherwise each problem on stderr and exit 1.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDiscovery, checkHookResponse, loadFhirValidator } from './cds_rules.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const base = process.argv[2];
const serviceToken = process.argv[3];  // a JWT when the service runs with --auth
const problems = [];
const fhir = loadFhirValidator();
const record = JSON.parse(readFileSync(join(here, 'data', 'ssri-record.bundle.json'), 'utf8'));
const drafts = JSON.parse(readFileSync(join(here, 'data', 'ssri-draft-orders.bundle.json'), 'utf8'));
const patientId = 'p-ssri';
const FHIR_TOKEN = 'fhir-access-token-for-tests';

function expect(condition, message) {
  if (!condition) problems.push(message);
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (serviceToken) headers.Authorization = `Bearer ${serviceToken}`;
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    problems.push(`${method} ${path}: the body is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, json, headers: response.headers };
}

// The record's resources by type, as the prefetch templates of the discovery document name them.
function prefetchOf(bundle) {
  const searchset = (type) => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: bundle.entry.filter((e) => e.resource.resourceType === type).map((e) => ({ resource: e.resource })),
  });
  return {
    patient: bundle.entry.find((e) => e.resource.resourceType === 'Patient').resource,
    observations: searchset('Observation'),
    medicationStatements: searchset('MedicationStatement'),
    medicationRequests: searchset('MedicationRequest'),
    conditions: searchset('Condition'),
    questionnaireResponses: searchset('QuestionnaireResponse'),
  };
}

// A FHIR server with the record: GET Type/id and Type?patient=... searches; 401 without the token.
function startFhirServer(seen) {
  const prefetch = prefetchOf(record);
  const server = createServer((req, res) => {
    seen.push({ url: req.url, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${FHIR_TOKEN}`) {
      res.writeHead(401, { 'Content-Type': 'application/fhir+json' });
      return res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] }));
    }
    const url = new URL(req.url, 'http://localhost');
    const [, , type, id] = url.pathname.split('/');  // /fhir/Type[/id]
    let body;
    if (type === 'Patient' && id === patientId) body = prefetch.patient;
    else if (!id && url.searchParams.get('patient') === patientId) {
      const key = Object.keys(prefetch).find((k) => prefetch[k].entry?.[0]?.resource.resourceType === type);
      body = key ? prefetch[key] : { resourceType: 'Bundle', type: 'searchset', entry: [] };
    }
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/fhir+json' });
    res.end(JSON.stringify(body ?? { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function hookRequest(hook, extra) {
  return { hook, hookInstance: crypto.randomUUID(), context: { userId: 'Practitioner/dr-1', patientId }, ...extra };
}

function checkCards(name, response) {
  expect(response.status === 200, `${name}: status ${response.status}: ${JSON.stringify(response.json)}`);
  if (response.status !== 200) return [];
  const before = problems.length;
  checkHookResponse(response.json, fhir, problems);
  for (let i = before; i < problems.length; ++i) problems[i] = `${name}: ${problems[i]}`;
  expect(response.json.cards.length > 0, `${name}: no cards`);
  for (const card of response.json.cards)
    expect(/^run-\d+$/.test(card.extension?.['com.neuroflux.run'] ?? ''), `${name}: card ${card.uuid} names no run`);
  return response.json.cards;
}

async function main() {
  const health = await call('GET', '/health');
  expect(health.status === 200 && health.json?.status === 'ok', `health: ${JSON.stringify(health.json)}`);
  expect(health.headers.get('access-control-allow-origin') !== null, 'health: no CORS header');

  const discovery = await call('GET', '/cds-services');
  checkDiscovery(discovery.json, problems);
  const ids = (discovery.json?.services ?? []).map((s) => s.id);
  expect(ids.includes('neuroflux-patient-view') && ids.includes('neuroflux-order-sign'), `discovery: services ${ids}`);

  // patient-view with everything prefetched.
  const viewed = checkCards('patient-view', await call('POST', '/cds-services/neuroflux-patient-view',
    hookRequest('patient-view', { prefetch: prefetchOf(record) })));
  const alert = viewed.find((c) => c.source.topic?.code === 'alert:serotonin_syndrome_risk');
  expect(alert?.indicator === 'warning', `patient-view: no serotonin syndrome warning card: ${viewed.map((c) => c.summary)}`);

  // patient-view without prefetch: the service fetches from our FHIR server with the token.
  const seen = [];
  const fhirServer = await startFhirServer(seen);
  const fhirBase = `http://127.0.0.1:${fhirServer.address().port}/fhir`;
  const fetched = checkCards('patient-view (fhirServer)', await call('POST', '/cds-services/neuroflux-patient-view',
    hookRequest('patient-view', { fhirServer: fhirBase, fhirAuthorization: {
      access_token: FHIR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service' } })));
  expect(seen.length >= 6, `fhirServer: ${seen.length} requests, expected one per prefetch template`);
  expect(seen.every((r) => r.authorization === `Bearer ${FHIR_TOKEN}`), 'fhirServer: a request without the bearer token');
  expect(seen.some((r) => r.url === `/fhir/Patient/${patientId}`), `fhirServer: Patient not read: ${seen.map((r) => r.url)}`);
  expect(JSON.stringify(fetched.map((c) => c.summary)) === JSON.stringify(viewed.map((c) => c.summary)),
    'patient-view: fetched and prefetched data gave different cards');
  // A wrong token: the FHIR server says 401, the service answers 502 naming the fhirServer.
  const refused = await call('POST', '/cds-services/neuroflux-patient-view',
    hookRequest('patient-view', { fhirServer: fhirBase, fhirAuthorization: { access_token: 'wrong', token_type: 'Bearer' } }));
  expect(refused.status === 502 && refused.json?.error?.path === '/fhirServer', `wrong FHIR token: ${JSON.stringify(refused.json)}`);
  fhirServer.close();

  // order-sign: the draft 5-HTP order on top of escitalopram is blocked, with a delete suggestion.
  const signed = checkCards('order-sign', await call('POST', '/cds-services/neuroflux-order-sign',
    hookRequest('order-sign', { prefetch: prefetchOf(record), context: { userId: 'Practitioner/dr-1', patientId, draftOrders: drafts } })));
  const blocked = signed.find((c) => c.source.topic?.code === 'blocked-order:precursor_5htp');
  const remove = blocked?.suggestions?.[0]?.actions?.[0];
  expect(remove?.type === 'delete' && remove?.resourceId === 'MedicationRequest/draft-5htp',
    `order-sign: no delete of the draft 5-HTP order: ${JSON.stringify(signed.map((c) => c.summary))}`);

  // Feedback: the blocked card accepted (its suggestion), the alert overridden with a reason.
  const feedback = await call('POST', '/cds-services/neuroflux-order-sign/feedback', { feedback: [
    { card: blocked?.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: blocked?.suggestions?.[0]?.uuid }],
      outcomeTimestamp: new Date().toISOString() },
    { card: alert?.uuid, outcome: 'overridden', overrideReason: { reason: alert?.overrideReasons?.[1],
      userComment: 'Prescriber aware' }, outcomeTimestamp: new Date().toISOString() },
  ] });
  expect(feedback.status === 200 && feedback.json?.stored?.length === 2, `feedback: ${JSON.stringify(feedback.json)}`);
  expect(feedback.json?.stored?.[0]?.run === blocked?.extension?.['com.neuroflux.run'], 'feedback: stored with another run');
  const unknown = await call('POST', '/cds-services/neuroflux-order-sign/feedback', { feedback: [
    { card: crypto.randomUUID(), outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }] });
  expect(unknown.status === 404 && unknown.json?.error?.path === '/feedback/0/card', `unknown card: ${JSON.stringify(unknown.json)}`);

  if (problems.length) {
    for (const p of problems) console.error(`client: ${p}`);
    process.exit(1);
  }
  console.log(`client: discovery, patient-view (prefetch and fhirServer), order-sign and feedback all valid ` +
    `(${viewed.length + fetched.length + signed.length} cards checked)`);
}

main().catch((error) => {
  console.error(`client: ${error.stack ?? error}`);
  process.exit(1);
});

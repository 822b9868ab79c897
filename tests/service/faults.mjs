// Faults fired at a running `nflux serve` between good requests: malformed JSON, a wrong hook,
// a missing context, a body over the limit, a slow client, a client that disconnects mid-request,
// an unknown service. Each fault must get its status (or, for the slow and vanishing clients, the
// connection dropped) and every good request before and after must be answered correctly. Last, a
// request is in flight when the service gets SIGTERM: it must still be answered.
//
//   node tests/service/faults.mjs http://127.0.0.1:PORT SERVER_PID
// The service must run with --max-body 1048576 --read-timeout 1 (tests/service/service_test.sh).
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const base = new URL(process.argv[2]);
const serverPid = Number(process.argv[3]);
const problems = [];
const caseText = readFileSync(join(here, '..', '..', 'examples', 'ssri_5htp_request.json'), 'utf8');
const record = JSON.parse(readFileSync(join(here, 'data', 'ssri-record.bundle.json'), 'utf8'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let goodCount = 0;

// A patient-view call with the whole record prefetched (escitalopram and a draft 5-HTP order: an alert).
function hookBody() {
  const search = (type) => ({ resourceType: 'Bundle', type: 'searchset',
    entry: record.entry.filter((e) => e.resource.resourceType === type).map((e) => ({ resource: e.resource })) });
  return JSON.stringify({ hook: 'patient-view', hookInstance: crypto.randomUUID(), context: { patientId: 'p-ssri' },
    prefetch: { patient: record.entry[0].resource, observations: search('Observation'),
      medicationStatements: search('MedicationStatement'), medicationRequests: search('MedicationRequest'),
      conditions: search('Condition') } });
}

// Raw HTTP over a socket: writes `parts` with `pauseMs` between them; resolves with the status
// (0 when the connection closed without an answer) and the body.
function raw(parts, { pauseMs = 0, destroyAfterWrite = false } = {}) {
  return new Promise((resolve) => {
    const socket = connect(Number(base.port), base.hostname);
    let data = '';
    socket.on('data', (chunk) => { data += chunk; });
    socket.on('error', () => {});
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(data);
      const body = data.split('\r\n\r\n').slice(1).join('\r\n\r\n');
      resolve({ status: match ? Number(match[1]) : 0, body });
    });
    socket.on('connect', async () => {
      for (let i = 0; i < parts.length; ++i) {
        if (i > 0 && pauseMs) await sleep(pauseMs);
        if (!socket.destroyed) socket.write(parts[i]);
      }
      if (destroyAfterWrite) socket.destroy();
    });
  });
}

function requestHead(path, length, extra = '') {
  return `POST ${path} HTTP/1.1\r\nHost: ${base.host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${length}\r\nConnection: close\r\n${extra}\r\n`;
}

async function good(label) {
  const evaluated = await fetch(new URL('/evaluate', base), { method: 'POST', body: caseText });
  const evaluation = await evaluated.json();
  if (evaluated.status !== 200 || !evaluation.alerts?.some((a) => a.id === 'serotonin_syndrome_risk'))
    problems.push(`good /evaluate after ${label}: ${evaluated.status} ${JSON.stringify(evaluation).slice(0, 300)}`);
  const hooked = await fetch(new URL('/cds-services/neuroflux-patient-view', base), { method: 'POST', body: hookBody(),
    headers: { 'Content-Type': 'application/json' } });
  const cards = await hooked.json();
  if (hooked.status !== 200 || !cards.cards?.some((c) => c.source?.topic?.code === 'alert:serotonin_syndrome_risk'))
    problems.push(`good hook after ${label}: ${hooked.status} ${JSON.stringify(cards).slice(0, 300)}`);
  goodCount += 2;
}

async function expectError(label, path, body, status, errorPath) {
  const response = await fetch(new URL(path, base), { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
  const json = await response.json().catch(() => null);
  if (response.status !== status || (errorPath !== undefined && json?.error?.path !== errorPath))
    problems.push(`${label}: expected ${status} at '${errorPath}', got ${response.status} ${JSON.stringify(json)}`);
}

async function main() {
  await good('start');
  await expectError('malformed JSON', '/cds-services/neuroflux-patient-view', '{"hook": "patient-view",', 400, '');
  await good('malformed JSON');
  await expectError('wrong hook', '/cds-services/neuroflux-patient-view',
    JSON.stringify({ hook: 'order-sign', hookInstance: 'x', context: { patientId: 'p' } }), 400, '/hook');
  await good('wrong hook');
  await expectError('missing context', '/cds-services/neuroflux-order-sign',
    JSON.stringify({ hook: 'order-sign', hookInstance: 'x', prefetch: {} }), 400, '/context');
  await good('missing context');
  await expectError('unknown service', '/cds-services/neuroflux-nothing', '{}', 404, '');
  await good('unknown service');

  // A body over the limit: 413 from the Content-Length alone, whatever follows.
  const huge = 'x'.repeat(2 * 1024 * 1024);
  const tooLarge = await raw([requestHead('/evaluate', huge.length), huge]);
  if (tooLarge.status !== 413) problems.push(`huge body: expected 413, got ${tooLarge.status}`);
  if (tooLarge.status === 413 && !tooLarge.body.includes('larger than the limit')) problems.push(`huge body: body ${tooLarge.body}`);
  await good('huge body');

  // A slow client (half a request, then silence past the read timeout) while good requests go on.
  const body = hookBody();
  const slow = raw([requestHead('/cds-services/neuroflux-patient-view', body.length), body.slice(0, 40), body.slice(40)],
    { pauseMs: 2500 });
  await good('slow client started');
  await good('slow client waiting');
  const slowResult = await slow;
  if (slowResult.status === 200) problems.push('slow client: answered 200 although it stalled past the read timeout');
  await good('slow client');

  // A client that disconnects mid-request: nothing to answer; the service carries on.
  await raw([requestHead('/cds-services/neuroflux-patient-view', body.length), body.slice(0, 100)], { destroyAfterWrite: true });
  await raw([`POST /evaluate HTTP/1.1\r\nHost: ${base.host}\r\nContent-Le`], { destroyAfterWrite: true });
  await good('disconnects');

  // SIGTERM while a request is in flight: it is answered, then the service exits (checked by the caller).
  const inFlight = raw([requestHead('/cds-services/neuroflux-patient-view', body.length), body.slice(0, 50), body.slice(50)],
    { pauseMs: 400 });
  await sleep(150);
  process.kill(serverPid, 'SIGTERM');
  const last = await inFlight;
  if (last.status !== 200 || !JSON.parse(last.body || '{}').cards)
    problems.push(`in flight at SIGTERM: expected 200 with cards, got ${last.status} ${last.body.slice(0, 200)}`);

  if (problems.length) {
    for (const p of problems) console.error(`faults: ${p}`);
    process.exit(1);
  }
  console.log(`faults: every fault answered as expected; ${goodCount} good requests between them all right; ` +
    'the request in flight at SIGTERM was answered');
}

main().catch((error) => {
  console.error(`faults: ${error.stack ?? error}`);
  process.exit(1);
});

// Load on a running `nflux serve`: CLIENTS concurrent keep-alive clients send CALLS patient-view hook
// calls in all (the prefetch of tests/service/data/ssri-record.bundle.json, a new hookInstance each);
// every answer must be 200 with cards. Prints throughput, p50/p99 latency and the service's resident
// memory after warm-up and at the end (from /proc/PID/status).
//
//   node tests/service/load.mjs http://127.0.0.1:PORT SERVER_PID [CALLS] [CLIENTS]
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const base = new URL(process.argv[2]);
const pid = Number(process.argv[3]);
const calls = Number(process.argv[4] ?? 20000);
const clients = Number(process.argv[5] ?? 16);
const warmup = Math.min(1000, Math.floor(calls / 10));
const record = JSON.parse(readFileSync(join(here, 'data', 'ssri-record.bundle.json'), 'utf8'));
const byType = (type) => ({ resourceType: 'Bundle', type: 'searchset',
  entry: record.entry.filter((e) => e.resource.resourceType === type).map((e) => ({ resource: e.resource })) });
const prefetch = { patient: record.entry[0].resource, observations: byType('Observation'),
  medicationStatements: byType('MedicationStatement'), medicationRequests: byType('MedicationRequest'),
  conditions: byType('Condition') };
const agent = new Agent({ keepAlive: true, maxSockets: clients });

const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

function post(body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({ host: base.hostname, port: base.port, path: '/cds-services/neuroflux-patient-view',
      method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
    (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, data, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0, errors = 0, rssAfterWarmup = 0;
const latencies = [];
async function client() {
  while (next < calls) {
    const index = next++;
    const body = JSON.stringify({ hook: 'patient-view', hookInstance: `load-${index}`, context: { patientId: 'p-ssri' }, prefetch });
    const answer = await post(body);
    if (answer.status !== 200 || !answer.data.includes('"cards"')) {
      if (errors++ < 5) console.error(`load: call ${index}: ${answer.status} ${answer.data.slice(0, 200)}`);
    }
    if (index >= warmup) latencies.push(answer.ms);
    if (index === warmup) rssAfterWarmup = rssKb();
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: clients }, client));
const seconds = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
const rssEnd = rssKb();
console.log(JSON.stringify({ calls, clients, errors, seconds: +seconds.toFixed(2), calls_per_second: Math.round(calls / seconds),
  p50_ms: +at(0.5).toFixed(2), p99_ms: +at(0.99).toFixed(2), rss_after_warmup_mb: +(rssAfterWarmup / 1024).toFixed(1),
  rss_end_mb: +(rssEnd / 1024).toFixed(1) }));
agent.destroy();
process.exit(errors ? 1 : 0);

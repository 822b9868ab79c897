// The shape rules of CDS Hooks 2.0 for a discovery document and a hook response, and the FHIR R4
// validation (npm `fhir`) of every resource inside suggestions. Each check pushes a problem naming
// where it is ("cards[2].suggestions[0].actions[0].resource: ServiceRequest.status: ...").
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// The `fhir` validator, installed at test set-up by scripts/setup.sh in tests/fhir/node_modules (the
// FHIR import tests' own; NFLUX_FHIR_MODULES may name another folder holding it).
export function loadFhirValidator() {
  const places = [process.env.NFLUX_FHIR_MODULES, join(here, '..', 'fhir')].filter(Boolean);
  for (const place of places) {
    if (!existsSync(join(place, 'node_modules', 'fhir'))) continue;
    const require = createRequire(join(place, 'package.json'));
    const { Fhir } = require('fhir');
    return new Fhir();
  }
  throw new Error(`the npm 'fhir' validator is not installed (looked in ${places.join(', ')}); run scripts/setup.sh`);
}

const INDICATORS = ['info', 'warning', 'critical'];
const SELECTION = ['at-most-one', 'any'];
const ACTION_TYPES = ['create', 'update', 'delete'];
const LINK_TYPES = ['absolute', 'smart'];

const isString = (v) => typeof v === 'string' && v.length > 0;
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function checkDiscovery(doc, problems) {
  if (!isObject(doc) || !Array.isArray(doc.services)) return problems.push('discovery: no services array');
  doc.services.forEach((s, i) => {
    const at = `services[${i}]`;
    for (const key of ['hook', 'description', 'id']) if (!isString(s[key])) problems.push(`${at}.${key}: required string`);
    if (s.prefetch !== undefined) {
      if (!isObject(s.prefetch)) problems.push(`${at}.prefetch: not an object`);
      else for (const [k, v] of Object.entries(s.prefetch)) if (!isString(v)) problems.push(`${at}.prefetch.${k}: not a string`);
    }
  });
}

function checkFhirResource(resource, at, fhir, problems) {
  if (!isObject(resource) || !isString(resource.resourceType)) return problems.push(`${at}: not a FHIR resource`);
  const result = fhir.validate(resource, { errorOnUnexpected: true });
  for (const m of result.messages.filter((m) => m.severity === 'error')) problems.push(`${at}: ${m.location}: ${m.message}`);
  if (!result.valid && !result.messages.some((m) => m.severity === 'error')) problems.push(`${at}: not valid FHIR R4`);
}

function checkAction(action, at, fhir, problems) {
  if (!ACTION_TYPES.includes(action.type)) problems.push(`${at}.type: '${action.type}' is not create, update or delete`);
  if (!isString(action.description)) problems.push(`${at}.description: required string`);
  if (action.type === 'delete') {
    if (!/^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(action.resourceId ?? ''))
      problems.push(`${at}.resourceId: a delete needs a relative reference Type/id, got ${JSON.stringify(action.resourceId)}`);
  } else {
    checkFhirResource(action.resource, `${at}.resource`, fhir, problems);
  }
}

function checkCard(card, at, fhir, problems) {
  if (!isString(card.summary)) problems.push(`${at}.summary: required string`);
  else if ([...card.summary].length >= 140) problems.push(`${at}.summary: ${[...card.summary].length} characters (must be < 140)`);
  if (!INDICATORS.includes(card.indicator)) problems.push(`${at}.indicator: '${card.indicator}' is not info, warning or critical`);
  if (!isObject(card.source) || !isString(card.source.label)) problems.push(`${at}.source.label: required string`);
  if (card.source?.url !== undefined && !/^https?:\/\//.test(card.source.url)) problems.push(`${at}.source.url: not absolute`);
  if (card.uuid !== undefined && !isString(card.uuid)) problems.push(`${at}.uuid: not a string`);
  if (card.detail !== undefined && typeof card.detail !== 'string') problems.push(`${at}.detail: not a string`);
  if (card.suggestions !== undefined) {
    if (!SELECTION.includes(card.selectionBehavior)) problems.push(`${at}.selectionBehavior: required with suggestions`);
    card.suggestions.forEach((s, j) => {
      if (!isString(s.label)) problems.push(`${at}.suggestions[${j}].label: required string`);
      (s.actions ?? []).forEach((a, k) => checkAction(a, `${at}.suggestions[${j}].actions[${k}]`, fhir, problems));
    });
  }
  (card.links ?? []).forEach((l, j) => {
    if (!isString(l.label) || !isString(l.url)) problems.push(`${at}.links[${j}]: label and url required`);
    if (!LINK_TYPES.includes(l.type)) problems.push(`${at}.links[${j}].type: '${l.type}' is not absolute or smart`);
  });
  (card.overrideReasons ?? []).forEach((r, j) => {
    if (!isString(r.display)) problems.push(`${at}.overrideReasons[${j}].display: required`);
  });
}

export function checkHookResponse(response, fhir, problems) {
  if (!isObject(response) || !Array.isArray(response.cards)) return problems.push('response: no cards array');
  response.cards.forEach((card, i) => checkCard(card, `cards[${i}]`, fhir, problems));
  const uuids = response.cards.map((c) => c.uuid);
  if (new Set(uuids).size !== uuids.length) problems.push('cards: uuids are not unique');
}

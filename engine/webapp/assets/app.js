// NeuroFlux web app: the case form (built from the knowledge base the page carries), checking as
// you type through /app/api/validate, evaluating through /app/api/cases; the what-if panel of the
// patient page (/app/api/whatif); the rule-impact upload (/app/api/impact). No framework, no
// network beyond the app itself.
'use strict';

function el(tag, attributes, children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children || []) node.append(child);
  return node;
}

// A JSON POST with the session's CSRF token; the answer's status and JSON (or an error object).
async function post(url, body) {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(url, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: body});
  let answer = {};
  try { answer = await response.json(); } catch (e) { answer = {error: {message: 'HTTP ' + response.status}}; }
  return {status: response.status, answer: answer};
}

// A table from a header row and rows of cells (text).
function table(headers, rows) {
  return el('table', {}, [el('thead', {}, [el('tr', {}, headers.map(h => el('th', {scope: 'col', text: h})))]),
    el('tbody', {}, rows.map(cells => el('tr', {}, cells.map(c => el('td', {text: c})))))]);
}

(function () {
  const form = document.getElementById('case-form');
  if (!form) return;
  const kb = JSON.parse(document.getElementById('knowledge').textContent);
  const messages = document.getElementById('messages');
  const crisis = document.getElementById('crisis');
  let imported = null;  // {name, text}: a file evaluated as it is
  let counter = 0;

  // ---- Small DOM helpers ------------------------------------------------------------------
  function field(label, control) {
    const id = control.id || ('f' + (++counter));
    control.id = id;
    return el('div', {class: 'field'}, [el('label', {for: id, text: label}), control]);
  }
  function select(name, options, attributes) {
    const node = el('select', Object.assign({name: name}, attributes || {}));
    for (const [value, label] of options) node.append(el('option', {value: value, text: label}));
    return node;
  }
  function section(title, children) {
    return el('fieldset', {}, [el('legend', {text: title})].concat(children));
  }
  const scale = [['', 'not asked'], ['0', '0 absent'], ['1', '1 mild'], ['2', '2 moderate'], ['3', '3 severe']];
  const knownUnknown = [['', 'not known'], ['true', 'yes'], ['false', 'no']];

  // ---- The form, from the knowledge base --------------------------------------------------
  const patient = section('Patient', [
    field('Case id (optional)', el('input', {name: 'case_id', autocomplete: 'off'})),
    field('Sex', select('sex', [['female', 'female'], ['male', 'male']])),
    field('Age (years)', el('input', {name: 'age_years', type: 'number', min: 0, max: 130, step: 'any', required: true})),
    field('Pregnant', select('pregnant', knownUnknown)),
    field('Gestational age (weeks)', el('input', {name: 'gestational_age_weeks', type: 'number', min: 0, max: 45})),
    field('Lactating', select('lactating', knownUnknown)),
    field('Menopausal status', select('menopausal_status',
      [['', 'not known'], ['premenopausal', 'premenopausal'], ['perimenopausal', 'perimenopausal'], ['postmenopausal', 'postmenopausal']])),
    field('BMI (kg/m²)', el('input', {name: 'bmi', type: 'number', min: 10, max: 80, step: 'any'}))]);

  const symptoms = section('Symptoms (0-3)', kb.symptoms.map(s => field(s.label, select('symptom:' + s.id, scale))));

  const questionnaires = section('Questionnaires', kb.questionnaires.filter(q => !q.result_only && q.items > 0).map(q => {
    const items = [];
    const options = [['', '-']];
    for (let v = q.item_min; v <= q.item_max; v++) options.push([String(v), String(v)]);
    for (let i = 1; i <= q.items; i++)
      items.push(field(q.label + ' item ' + i + (q.reverse_items.includes(i) ? ' (reverse)' : ''),
        select('item:' + q.id + ':' + i, options, {'data-questionnaire': q.id, 'data-item': i})));
    const score = el('output', {id: 'score-' + q.id, 'aria-live': 'polite', text: 'not scored'});
    return el('details', {}, [el('summary', {}, [q.label + ' ', score]), el('div', {class: 'grid'}, items)]);
  }));

  const labList = el('datalist', {id: 'labs-list'}, kb.labs.map(l => el('option', {value: l.id, text: l.label + (l.loinc ? ' (LOINC ' + l.loinc + ')' : '')})));
  const medicationList = el('datalist', {id: 'medications-list'},
    kb.medications.map(m => el('option', {value: m.id, text: m.label + (m.atc ? ' (' + m.atc + ')' : '')})));
  const conditionList = el('datalist', {id: 'conditions-list'},
    kb.conditions.map(c => el('option', {value: c.id, text: c.label + ' (' + c.icd10 + ')'})));

  function labRow() {
    const test = el('input', {name: 'lab-test', list: 'labs-list', autocomplete: 'off', placeholder: 'name, id or LOINC'});
    // The units the knowledge base accepts for the lab are offered; any other is typed and the
    // engine's message says why it is refused.
    const units = el('datalist', {id: 'units-' + (++counter)});
    const unit = el('input', {name: 'lab-unit', list: units.id, autocomplete: 'off', placeholder: 'unit'});
    test.addEventListener('change', () => {
      const lab = findLab(test.value);
      units.replaceChildren(...(lab ? lab.units : []).map(u => el('option', {value: u})));
      if (lab) test.value = lab.id;
    });
    const remove = el('button', {type: 'button', class: 'remove', text: 'Remove'});
    const row = el('div', {class: 'row lab'}, [field('Lab', test), field('Value', el('input', {name: 'lab-value', type: 'number', step: 'any'})),
      field('Unit', unit), units, field('Date', el('input', {name: 'lab-date', type: 'date'})), remove]);
    remove.addEventListener('click', () => { row.remove(); changed(); });
    return row;
  }
  function findLab(text) {
    const t = text.trim().toLowerCase();
    return kb.labs.find(l => l.id === t || l.loinc === t || l.label.toLowerCase() === t) || null;
  }
  function listRow(kind, list, placeholder) {
    const input = el('input', {name: kind, list: list, autocomplete: 'off', placeholder: placeholder});
    const remove = el('button', {type: 'button', class: 'remove', text: 'Remove'});
    const row = el('div', {class: 'row'}, [field(kind === 'medication' ? 'Medication' : 'Condition', input), remove]);
    remove.addEventListener('click', () => { row.remove(); changed(); });
    return row;
  }
  function adder(label, container, make) {
    const button = el('button', {type: 'button', text: label});
    button.addEventListener('click', () => { const row = make(); container.append(row); row.querySelector('input').focus(); });
    return button;
  }
  const labs = el('div', {id: 'labs'});
  const medications = el('div', {id: 'medications'});
  const conditions = el('div', {id: 'conditions'});

  const supplementOptions = kb.strategies.filter(s => ['precursor', 'cofactor', 'botanical'].includes(s.kind));
  function supplementSet(kind, title) {
    return el('fieldset', {class: 'checks'}, [el('legend', {text: title})].concat(supplementOptions.map(s => {
      const box = el('input', {type: 'checkbox', name: kind, value: s.id, id: kind + '-' + s.id});
      return el('span', {class: 'check'}, [box, el('label', {for: box.id, text: s.label})]);
    })));
  }

  const lifestyle = section('Lifestyle', kb.lifestyle.map(f => {
    const name = 'lifestyle:' + f.id;
    if (f.type === 'boolean') return field(f.label, select(name, knownUnknown));
    if (f.type === 'enum') return field(f.label, select(name, [['', 'not known']].concat(f.values.map(v => [v, v]))));
    if (f.type === 'scale') return field(f.label + ' (0-3)', select(name, scale));
    return field(f.label + (f.unit ? ' (' + f.unit.replace(/[{}]/g, '') + ')' : ''),
      el('input', {name: name, type: 'number', step: 'any', min: f.min, max: f.max}));
  }));
  const stressors = section('Stressors (0-3)', kb.stressors.map(s => field(s.label, select('stressor:' + s.id, scale))));

  form.append(patient, symptoms, questionnaires,
    section('Labs', [labList, labs, adder('Add a lab', labs, labRow)]),
    section('Medications', [medicationList, medications, adder('Add a medication', medications, () => listRow('medication', 'medications-list', 'name, id or ATC code'))]),
    section('Conditions', [conditionList, conditions, adder('Add a condition', conditions, () => listRow('condition', 'conditions-list', 'name, id or ICD-10 code'))]),
    section('Supplements', [supplementSet('current', 'Taken now'), supplementSet('requested', 'Requested')]),
    lifestyle, stressors);

  // ---- The case as JSON (shared/contracts/case.md): only what was filled in ----------------
  function value(name) { const node = form.elements.namedItem(name); return node ? node.value.trim() : ''; }
  function number(text) { return text === '' ? undefined : Number(text); }
  function boolOf(text) { return text === '' ? undefined : text === 'true'; }
  function medicationEntry(text) {
    const m = kb.medications.find(x => x.id === text || x.label.toLowerCase() === text.toLowerCase());
    if (m) return {id: m.id};
    if (/^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$/.test(text)) return {atc: text};
    return {id: text};  // unknown: kept, flagged by the engine, never a reason to refuse the case
  }
  function conditionEntry(text) {
    const c = kb.conditions.find(x => x.id === text || x.label.toLowerCase() === text.toLowerCase());
    if (c) return {id: c.id};
    if (/^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$/.test(text)) return {icd10: text};
    return {id: text};
  }
  function buildCase() {
    const c = {};
    if (value('case_id')) c.case_id = value('case_id');
    const p = {sex: value('sex'), age_years: number(value('age_years'))};
    for (const name of ['pregnant', 'lactating']) if (boolOf(value(name)) !== undefined) p[name] = boolOf(value(name));
    if (value('gestational_age_weeks')) p.gestational_age_weeks = number(value('gestational_age_weeks'));
    if (value('menopausal_status')) p.menopausal_status = value('menopausal_status');
    if (value('bmi')) p.bmi = number(value('bmi'));
    c.patient = p;
    const symptomValues = {};
    for (const s of kb.symptoms) if (value('symptom:' + s.id) !== '') symptomValues[s.id] = Number(value('symptom:' + s.id));
    if (Object.keys(symptomValues).length) c.symptoms = symptomValues;
    const qs = {};
    for (const q of kb.questionnaires) {
      const items = [];
      for (let i = 1; i <= q.items; i++) items.push(value('item:' + q.id + ':' + i));
      if (items.length && items.every(v => v !== '')) qs[q.id] = {items: items.map(Number)};
    }
    if (Object.keys(qs).length) c.questionnaires = qs;
    const labRows = [...labs.querySelectorAll('.lab')].map(row => {
      const get = n => row.querySelector('[name="' + n + '"]').value.trim();
      const lab = {test: get('lab-test'), value: number(get('lab-value'))};
      if (get('lab-unit')) lab.unit = get('lab-unit');
      if (get('lab-date')) lab.date = get('lab-date');
      return lab;
    }).filter(l => l.test !== '' || l.value !== undefined);
    if (labRows.length) c.labs = labRows;
    const meds = [...medications.querySelectorAll('input')].map(i => i.value.trim()).filter(Boolean).map(medicationEntry);
    if (meds.length) c.medications = meds;
    const conds = [...conditions.querySelectorAll('input')].map(i => i.value.trim()).filter(Boolean).map(conditionEntry);
    if (conds.length) c.conditions = conds;
    const current = [...form.querySelectorAll('input[name="current"]:checked')].map(b => b.value);
    const requested = [...form.querySelectorAll('input[name="requested"]:checked')].map(b => b.value);
    if (current.length || requested.length) c.supplements = {current: current, requested: requested};
    const life = {};
    for (const f of kb.lifestyle) {
      const v = value('lifestyle:' + f.id);
      if (v === '') continue;
      life[f.id] = f.type === 'boolean' ? v === 'true' : f.type === 'enum' ? v : Number(v);
    }
    if (Object.keys(life).length) c.lifestyle = life;
    const stress = {};
    for (const s of kb.stressors) if (value('stressor:' + s.id) !== '') stress[s.id] = Number(value('stressor:' + s.id));
    if (Object.keys(stress).length) c.stressors = stress;
    return c;
  }
  function caseText() { return imported ? imported.text : JSON.stringify(buildCase(), null, 2); }

  // ---- Live scores, the crisis notice, checking ------------------------------------------
  function updateScores() {
    let danger = false;
    for (const q of kb.questionnaires) {
      const out = document.getElementById('score-' + q.id);
      if (!out) continue;
      const answers = [];
      for (let i = 1; i <= q.items; i++) answers.push(value('item:' + q.id + ':' + i));
      if (q.safety_item && Number(answers[q.safety_item - 1] || 0) > 0) danger = true;
      if (answers.some(a => a === '')) { out.textContent = answers.filter(a => a !== '').length + ' of ' + q.items + ' answered'; continue; }
      const total = answers.reduce((sum, a, i) => sum + (q.reverse_items.includes(i + 1) ? q.item_max + q.item_min - Number(a) : Number(a)), 0);
      const band = q.bands.find(b => total >= b.min && total <= b.max);
      out.textContent = 'total ' + total + (band ? ' (' + band.label + ')' : '');
    }
    crisis.hidden = !danger;
    crisis.textContent = danger ? 'Safety item answered above 0 (thoughts of self-harm): assess suicide risk now and follow your crisis protocol before anything else.' : '';
  }
  function show(list) {
    messages.replaceChildren(...list.map(m => el('li', {class: m.kind, text: (m.path ? m.path + ': ' : '') + m.message})));
  }
  let timer = null;
  function changed() {
    updateScores();
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  }
  async function check() {
    const {answer} = await post('/app/api/validate', caseText());
    const list = (answer.errors || []).map(e => ({kind: 'error', path: e.path, message: e.message}));
    for (const d of answer.data_quality || []) list.push({kind: d.severity === 'error' ? 'error' : 'warning', path: d.path, message: d.message});
    if (answer.error) list.push({kind: 'error', path: '', message: answer.error.message});
    if (!list.length) list.push({kind: 'ok', path: '', message: 'No problems found.'});
    show(list);
  }
  form.addEventListener('input', changed);
  form.addEventListener('change', changed);

  document.getElementById('evaluate').addEventListener('click', async () => {
    const {status, answer} = await post('/app/api/cases', caseText());
    if (status === 201) { window.location.assign(answer.url); return; }
    const list = (answer.errors || []).map(e => ({kind: 'error', path: e.path, message: e.message}));
    if (!list.length) list.push({kind: 'error', path: '', message: (answer.error && answer.error.message) || 'HTTP ' + status});
    show(list);
  });
  document.getElementById('export').addEventListener('click', () => {
    const link = el('a', {href: URL.createObjectURL(new Blob([caseText()], {type: 'application/json'})),
      download: (value('case_id') || 'case') + '.json'});
    document.body.append(link);
    link.click();
    link.remove();
  });
  document.getElementById('import-file').addEventListener('change', async event => {
    const file = event.target.files[0];
    if (!file) { imported = null; for (const node of form.elements) node.disabled = false; changed(); return; }
    imported = {name: file.name, text: await file.text()};
    for (const node of form.elements) node.disabled = true;
    show([{kind: 'ok', path: '', message: 'Imported ' + file.name + ': it is checked and evaluated as it is (clear the file to use the form).'}]);
    check();
  });
  // ---- A new visit: the form filled from the latest one ------------------------------------
  // The inverse of buildCase(); what the form cannot hold (a questionnaire given as a total, free
  // text under "extra") is listed, so that nothing is dropped unseen.
  function set(name, v) {
    const node = form.elements.namedItem(name);
    if (node && v !== undefined && v !== null) node.value = String(v);
  }
  function fill(c) {
    const left = [];
    set('case_id', c.case_id);
    for (const [k, v] of Object.entries(c.patient || {})) set(k, v);
    for (const [id, v] of Object.entries(c.symptoms || {})) set('symptom:' + id, v);
    for (const [id, q] of Object.entries(c.questionnaires || {})) {
      if (Array.isArray(q.items)) q.items.forEach((v, i) => set('item:' + id + ':' + (i + 1), v));
      else left.push('/questionnaires/' + id + ' (a total: enter its items)');
    }
    for (const lab of c.labs || []) {
      const row = labRow();
      labs.append(row);
      const test = row.querySelector('[name="lab-test"]');
      test.value = lab.test || '';
      test.dispatchEvent(new Event('change'));
      row.querySelector('[name="lab-value"]').value = lab.value === undefined ? '' : String(lab.value);
      row.querySelector('[name="lab-unit"]').value = lab.unit || '';
      row.querySelector('[name="lab-date"]').value = lab.date || '';
    }
    for (const [container, list, kind, key] of [[medications, c.medications, 'medication', 'atc'], [conditions, c.conditions, 'condition', 'icd10']])
      for (const entry of list || []) {
        const row = listRow(kind, kind + 's-list', '');
        container.append(row);
        row.querySelector('input').value = entry.id || entry[key] || '';
      }
    for (const kind of ['current', 'requested'])
      for (const id of (c.supplements || {})[kind] || []) {
        const box = document.getElementById(kind + '-' + id);
        if (box) box.checked = true; else left.push('/supplements/' + kind + ': ' + id);
      }
    for (const [id, v] of Object.entries(c.lifestyle || {})) set('lifestyle:' + id, v);
    for (const [id, v] of Object.entries(c.stressors || {})) set('stressor:' + id, v);
    if (c.extra) left.push('/extra');
    return left;
  }
  const prefill = document.getElementById('prefill');
  if (prefill) {
    const left = fill(JSON.parse(prefill.textContent));
    if (left.length) form.before(el('p', {class: 'caution', role: 'status', text: 'Not carried into the form: ' + left.join('; ')}));
    changed();
  }
  updateScores();
})();

// ---- The what-if panel of the patient page ------------------------------------------------------
(function () {
  const form = document.getElementById('whatif');
  if (!form) return;
  const kb = JSON.parse(document.getElementById('whatif-knowledge').textContent);
  const lab = document.getElementById('whatif-lab');
  const unit = document.getElementById('whatif-unit');
  const strategy = document.getElementById('whatif-strategy');
  const result = document.getElementById('whatif-result');
  for (const l of kb.labs) lab.append(el('option', {value: l.id, text: l.label + (l.loinc ? ' (LOINC ' + l.loinc + ')' : '')}));
  for (const s of kb.strategies) strategy.append(el('option', {value: s.id, text: s.label + ' (' + s.kind + ')'}));
  function units() {
    const found = kb.labs.find(l => l.id === lab.value);
    unit.replaceChildren(...(found ? found.units : []).map(u => el('option', {value: u, text: u})));
  }
  lab.addEventListener('change', units);
  const number = v => (v > 0 ? '+' : '') + v;
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const value = document.getElementById('whatif-value').value.trim();
    const request = {case_id: form.dataset.case, set: [], apply: []};
    if (lab.value) request.set.push('lab.' + lab.value + '=' + value + unit.value);
    if (strategy.value) request.apply.push(strategy.value);
    if (!request.set.length && !request.apply.length) {
      result.replaceChildren(el('p', {class: 'error', role: 'alert', text: 'Choose a lab to change or a strategy to apply.'}));
      return;
    }
    const {status, answer} = await post('/app/api/whatif', JSON.stringify(request));
    if (status !== 200) {
      result.replaceChildren(el('p', {class: 'error', role: 'alert', text: (answer.error && answer.error.message) || 'HTTP ' + status}));
      return;
    }
    const parts = [el('h3', {text: 'What if ' + request.set.concat(request.apply.map(a => 'apply ' + a)).join(', ')})];
    for (const applied of answer.apply_safety) {
      if (applied.verdict === 'acceptable') continue;
      const blocked = applied.verdict === 'blocked';
      parts.push(el('div', {class: blocked ? 'crisis' : 'caution', role: 'alert'}, [
        el('p', {text: applied.strategy + (blocked ? ' is BLOCKED for this patient by the safety gate; its effect below is shown only to explain it.' : ' is acceptable only with caution for this patient:')}),
        el('ul', {}, applied.reasons.map(r => el('li', {text: r.text})))]));
    }
    const moved = answer.indices.filter(i => i.change !== 0);
    parts.push(el('h4', {text: 'Flux indices that change'}));
    parts.push(moved.length ? table(['Index', 'Before', 'After', 'Change'], moved.map(i => [i.index, String(i.before), String(i.after), number(i.change)]))
      : el('p', {text: 'No flux index changes.'}));
    parts.push(el('h4', {text: 'Conclusions that change'}));
    parts.push(answer.conclusions.length ? table(['Conclusion', 'Before', 'After'], answer.conclusions.map(c => [c.conclusion, String(c.before), String(c.after)]))
      : el('p', {text: 'No conclusion changes.'}));
    result.replaceChildren(...parts);
  });
})();

// ---- The rule-impact upload (authors) ------------------------------------------------------------
(function () {
  const form = document.getElementById('impact');
  if (!form) return;
  const result = document.getElementById('impact-result');
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const chosen = Array.from(document.getElementById('impact-files').files);
    const files = await Promise.all(chosen.map(async f => ({name: f.webkitRelativePath || f.name, text: await f.text()})));
    result.replaceChildren(el('p', {text: 'Evaluating the stored cases under both rule sets...'}));
    const {status, answer} = await post('/app/api/impact', JSON.stringify({files: files}));
    if (status !== 200) {
      const list = (answer.errors || []).map(e => el('li', {text: (e.path ? e.path + ': ' : '') + e.message}));
      result.replaceChildren(el('p', {class: 'error', role: 'alert', text: (answer.error && answer.error.message) || 'HTTP ' + status}), el('ul', {class: 'error'}, list));
      return;
    }
    const parts = [el('p', {role: 'status', text: answer.cases + ' stored cases evaluated; ' + answer.changed.length + ' would conclude otherwise; ' +
      answer.failed.length + ' failed (' + answer.rule_files + ' rule files, version ' + answer.rules_version + ').'})];
    const rows = [];
    for (const c of answer.changed)
      for (const [section, change] of Object.entries(c.change))
        if (change && typeof change === 'object' && !Array.isArray(change) && change.added) {
          for (const id of change.added) rows.push([c.case_id, section, id, 'added']);
          for (const id of change.removed) rows.push([c.case_id, section, id, 'removed']);
          for (const ch of change.changed) rows.push([c.case_id, section, ch.id, ch.field + ': ' + JSON.stringify(ch.before) + ' -> ' + JSON.stringify(ch.after)]);
        }
    if (rows.length) parts.push(table(['Case', 'Section', 'Item', 'Change'], rows));
    for (const f of answer.failed) parts.push(el('p', {class: 'error', text: f.case_id + ': ' + f.error}));
    result.replaceChildren(...parts);
  });
})();

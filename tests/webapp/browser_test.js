// The web app in a real browser (Debian's chromium, driven by puppeteer-core): a practitioner signs
// in, enters a case field by field (a wrong unit and a misspelt medication first, checking the
// engine's messages; PHQ-9 item 9 above 0 showing the crisis notice at once), evaluates, and finds
// the red flag first and the top deficit of the stored run in the report; another practitioner
// gets 403 for that patient; a form post and an API call without the CSRF token are refused; a
// what-if shows the gate blocking 5-HTP; a second visit (an imported case file) draws the trend
// charts; a reviewer replays the run, compares the two runs and sees the audit trail verify; no
// page logs a console error. Run by webapp_browser_test.sh, which starts nflux serve and the accounts.
//   BASE=http://127.0.0.1:PORT NFLUX=build/nflux NFLUX_DB=... PASSWORD=... [SCREENSHOTS=docs] node browser_test.js
'use strict';

const {execFileSync} = require('child_process');
const path = require('path');
const puppeteer = require('puppeteer-core');

const BASE = process.env.BASE;
const PASSWORD = process.env.PASSWORD;
const SCREENSHOTS = process.env.SCREENSHOTS || '';
const failures = [];
function check(ok, what) {
  console.log((ok ? 'ok   ' : 'FAIL ') + what);
  if (!ok) failures.push(what);
}
const pause = ms => new Promise(resolve => setTimeout(resolve, ms));

// A page that records console errors and uncaught exceptions; `expected` lists fragments of the
// errors a step provokes on purpose (a 403 answer shows as a failed resource).
function watch(page, errors) {
  page.on('console', message => { if (message.type() === 'error') errors.push(message.text()); });
  page.on('pageerror', error => errors.push(String(error)));
}

// Signs in as `name` in a private browser context, with the mouse or (byKeyboard) with the
// keyboard alone: Tab to each field, Enter to send.
async function signIn(browser, name, byKeyboard = false) {
  const context = await browser.createIncognitoBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const errors = [];
  watch(page, errors);
  await page.setViewport({width: 1024, height: 900});
  await page.goto(BASE + '/app/login');
  if (!byKeyboard) {
    await page.type('#name', name);
    await page.type('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
    return {context, page, errors};
  }
  for (let i = 0; i < 10 && await page.evaluate(() => document.activeElement.id) !== 'name'; i++) await page.keyboard.press('Tab');
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'password', 'Tab moves from the account to the password');
  await page.keyboard.type(PASSWORD);
  await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
  return {context, page, errors};
}

async function messages(page) {
  return page.$$eval('#messages li', items => items.map(item => item.textContent));
}

// Waits until the check list (filled after a debounced /app/api/validate) holds `fragment`.
async function messagesWith(page, fragment) {
  for (let i = 0; i < 40; i++) {
    const list = await messages(page);
    if (list.some(text => text.includes(fragment))) return list;
    await pause(150);
  }
  return messages(page);
}

// Accessibility checks of the page shown: every visible control has a label (a <label for>, a
// wrapping label or aria-label), and nothing is wider than the window at tablet width (768 px) and
// at 200% zoom of a 1280-px window (640 CSS px).
async function accessible(page, name) {
  const unlabelled = await page.$$eval('input, select, textarea', nodes => nodes
    .filter(n => n.type !== 'hidden' && n.type !== 'submit' && n.type !== 'button')
    .filter(n => !(n.labels && n.labels.length) && !n.getAttribute('aria-label'))
    .map(n => n.name || n.id || n.outerHTML.slice(0, 60)));
  check(unlabelled.length === 0, name + ': every control has a label: ' + JSON.stringify(unlabelled));
  const viewport = page.viewport();
  for (const width of [768, 640]) {
    await page.setViewport({width: width, height: 900});
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(overflow <= 0, name + ': no sideways scrolling at ' + width + ' px: ' + overflow + ' px too wide');
  }
  await page.setViewport(viewport);
}

(async () => {
  const browser = await puppeteer.launch({executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: 'new', args: ['--no-sandbox', '--disable-gpu']});
  try {
    // ---- Sign in and enter a case field by field -------------------------------------------
    const lee = await signIn(browser, 'dr_lee');
    check(lee.page.url() === BASE + '/app/', 'signed in, the patient list is shown');
    await lee.page.click('nav a[href="/app/cases/new"]');
    await lee.page.waitForSelector('#case-form input[name=age_years]');
    const page = lee.page;
    await page.type('input[name=case_id]', 'browser-pat-1');
    await page.type('input[name=age_years]', '38');
    await page.select('select[name="symptom:low_mood"]', '3');
    await page.select('select[name="symptom:fatigue"]', '2');
    await page.select('select[name="symptom:anhedonia"]', '2');
    await page.click('details:has(#score-phq9) summary');
    const phq9 = [2, 2, 1, 3, 1, 2, 1, 1, 0];
    for (let i = 0; i < 8; i++) await page.select(`select[name="item:phq9:${i + 1}"]`, String(phq9[i]));
    check(await page.$eval('#crisis', node => node.hidden), 'no crisis notice while item 9 is unanswered');
    await page.select('select[name="item:phq9:9"]', '1');
    check(await page.$eval('#crisis', node => !node.hidden && node.textContent.includes('suicide risk')),
      'PHQ-9 item 9 above 0 shows the crisis notice at once');
    check((await page.$eval('#score-phq9', node => node.textContent)) === 'total 14 (moderate)',
      'the PHQ-9 total and band are scored live');

    await page.click('#labs + button');
    await page.type('#labs input[name=lab-test]', 'ferritin');
    await page.keyboard.press('Tab');
    await page.type('#labs input[name=lab-value]', '12');
    await page.type('#labs input[name=lab-unit]', 'furlongs');
    let list = await messagesWith(page, '/labs/0/unit');
    check(list.some(text => text.startsWith('/labs/0/unit: unknown unit \'furlongs\'')),
      'a wrong unit gets the engine\'s message with its path: ' + JSON.stringify(list));
    await page.click('#labs input[name=lab-unit]', {clickCount: 3});
    await page.type('#labs input[name=lab-unit]', 'ng/mL');

    await page.click('#medications + button');
    await page.type('#medications input[name=medication]', 'sertralinne');
    list = await messagesWith(page, 'sertralinne');
    check(list.some(text => text.includes('/medications/0/id: unknown medication \'sertralinne\' (did you mean \'sertraline\'?)')),
      'a misspelt medication is flagged with the nearest id, not refused: ' + JSON.stringify(list));
    check(!list.some(text => text.includes('/labs/0/unit')), 'the corrected unit is accepted');
    await page.click('#medications input[name=medication]', {clickCount: 3});
    await page.type('#medications input[name=medication]', 'sertraline');
    list = await messagesWith(page, 'No problems found');
    check(list.length === 1 && list[0] === 'No problems found.', 'the corrected case has no problems: ' + JSON.stringify(list));
    if (SCREENSHOTS) await page.screenshot({path: path.join(SCREENSHOTS, 'webapp-case-form.png')});
    await accessible(page, 'the case form');

    // ---- Evaluate: the red flag first, the top deficit of the stored run ---------------------
    await Promise.all([page.waitForNavigation(), page.click('#evaluate')]);
    check(page.url() === BASE + '/app/cases/browser-pat-1', 'evaluating opens the patient page: ' + page.url());
    const frameHandle = await page.waitForSelector('iframe.report');
    const frame = await frameHandle.contentFrame();
    await frame.waitForSelector('h2');
    const run = JSON.parse(execFileSync(process.env.NFLUX, ['audit', 'show', 'run-1', '--format', 'json']).toString()).evaluation;
    const kb = JSON.parse(execFileSync(process.env.NFLUX, ['kb', 'export', '--format', 'json']).toString());
    const label = id => (kb.nodes.find(node => node.id === id) || {label: id}).label.replace(/ \(.*\)$/, '');
    const text = await frame.$eval('body', body => body.innerText);
    const firstAlert = run.alerts[0];
    const afterRedFlags = text.slice(text.indexOf('Red flags'));
    check(firstAlert.severity === 'urgent' && afterRedFlags.split('\n')[1].includes(label(firstAlert.id)),
      'the report shows the urgent red flag first: ' + firstAlert.id + ' / ' + afterRedFlags.split('\n')[1]);
    const topDeficit = run.deficits[0];
    const topRow = await frame.$eval('table.deficits', table => table.querySelectorAll('tr')[1].innerText);
    check(topRow.includes(label(topDeficit.id)), 'the top deficit of the stored run heads the report: ' + topDeficit.id);
    if (SCREENSHOTS) await page.screenshot({path: path.join(SCREENSHOTS, 'webapp-patient.png'), fullPage: true});
    await page.goto(BASE + '/app/');
    check((await page.$$eval('tbody a', links => links.map(a => a.textContent))).includes('browser-pat-1'),
      'the patient is in the practitioner\'s list');
    if (SCREENSHOTS) await page.screenshot({path: path.join(SCREENSHOTS, 'webapp-patients.png')});
    await accessible(page, 'the patient list');

    // ---- What if: a lab changed and a strategy the safety gate blocks on sertraline ----------
    await page.goto(BASE + '/app/cases/browser-pat-1');
    await page.select('#whatif-lab', 'ferritin');
    await page.type('#whatif-value', '80');
    await page.select('#whatif-unit', 'ng/mL');
    await page.select('#whatif-strategy', 'precursor_5htp');
    await page.click('#whatif button[type=submit]');
    await page.waitForSelector('#whatif-result h3');
    const whatif = await page.$eval('#whatif-result', node => node.innerText);
    check(whatif.includes('precursor_5htp is BLOCKED for this patient') && whatif.includes('serotonin_syndrome_risk'),
      'the what-if says the safety gate blocks 5-HTP on sertraline, with the alert: ' + whatif.slice(0, 200));
    check(/Conclusions that change[\s\S]*deficit:|No conclusion changes/.test(whatif) && whatif.includes('Flux indices that change'),
      'the what-if shows the flux indices and conclusions before and after');
    if (SCREENSHOTS) await page.screenshot({path: path.join(SCREENSHOTS, 'webapp-whatif.png'), fullPage: true});
    await accessible(page, 'the patient page with a what-if');

    // ---- A second visit (imported as a case file): the trend charts -------------------------
    await page.goto(BASE + '/app/cases/new');
    const visit2 = path.join(process.env.TMPDIR || '/tmp', 'nflux-browser-visit2-' + process.pid + '.json');
    require('fs').writeFileSync(visit2, JSON.stringify({case_id: 'browser-pat-1',
      patient: {sex: 'female', age_years: 38}, symptoms: {low_mood: 2, fatigue: 1, anhedonia: 1},
      questionnaires: {phq9: {items: [1, 1, 1, 2, 1, 1, 1, 0, 0]}},
      labs: [{test: 'ferritin', value: 45, unit: 'ng/mL', date: '2026-11-20'}],
      medications: [{id: 'sertraline'}]}));
    const upload = await page.$('#import-file');
    await upload.uploadFile(visit2);
    await messagesWith(page, 'Imported');
    await Promise.all([page.waitForNavigation(), page.click('#evaluate')]);
    require('fs').unlinkSync(visit2);
    const charts = await page.$$eval('figure.chart', figures => figures.map(f => f.querySelector('figcaption').textContent));
    check(charts.some(c => c.startsWith('ferritin (ng/mL): 45 ng/mL')), 'the second visit draws the ferritin trend: ' + JSON.stringify(charts.slice(0, 4)));
    check(charts.some(c => c.startsWith('phq9: 8')), 'and the PHQ-9 total over the visits: ' + JSON.stringify(charts.filter(c => c.startsWith('phq9'))));
    const ferritinChart = await page.$eval('figure.chart svg', svg => svg.querySelectorAll('circle').length);
    check(ferritinChart === 2, 'one point per visit in the first chart: ' + ferritinChart);
    if (SCREENSHOTS) {
      const trends = await page.$('#trends');
      await trends.scrollIntoView();
      await page.screenshot({path: path.join(SCREENSHOTS, 'webapp-trends.png')});
    }

    // ---- A third visit from the patient page: the form starts from the latest one ------------
    await Promise.all([page.waitForNavigation(), page.click('a[href="/app/cases/new?from=browser-pat-1"]')]);
    await page.waitForSelector('#labs input[name=lab-value]');
    const prefilled = await page.evaluate(() => [document.querySelector('input[name=age_years]').value,
      document.querySelector('#labs input[name=lab-test]').value, document.querySelector('#labs input[name=lab-value]').value,
      document.querySelector('#medications input[name=medication]').value, document.querySelector('select[name="item:phq9:4"]').value]);
    check(JSON.stringify(prefilled) === JSON.stringify(['38', 'ferritin', '45', 'sertraline', '2']),
      'a new visit starts from the latest one: ' + JSON.stringify(prefilled));
    await page.click('#labs input[name=lab-value]', {clickCount: 3});
    await page.type('#labs input[name=lab-value]', '60');
    await messagesWith(page, 'No problems found');
    await Promise.all([page.waitForNavigation(), page.click('#evaluate')]);
    const third = await page.$$eval('figure.chart figcaption', captions => captions.map(c => c.textContent));
    check(third.some(c => c.startsWith('ferritin (ng/mL): 60 ng/mL')), 'the third visit joins the trends: ' + JSON.stringify(third.slice(0, 2)));

    // ---- Refusals --------------------------------------------------------------------------
    const csrfless = await page.evaluate(async () => {
      const form = await fetch('/app/logout', {method: 'POST', body: new URLSearchParams({}), credentials: 'same-origin'});
      const api = await fetch('/app/api/cases', {method: 'POST', body: '{}', credentials: 'same-origin'});
      return [form.status, api.status];
    });
    check(csrfless[0] === 403 && csrfless[1] === 403, 'posts without the CSRF token are refused: ' + csrfless);
    const leeErrors = lee.errors.filter(e => !e.includes('403'));
    check(leeErrors.length === 0, 'no console errors on the practitioner\'s pages: ' + JSON.stringify(leeErrors));

    const kim = await signIn(browser, 'dr_kim', /*byKeyboard=*/true);
    check(kim.page.url() === BASE + '/app/', 'signed in with the keyboard alone');
    const response = await kim.page.goto(BASE + '/app/cases/browser-pat-1');
    check(response.status() === 403, 'another practitioner gets 403 for the patient');
    check(!(await kim.page.content()).includes('Top deficits'), 'and sees none of its data');
    await kim.page.goto(BASE + '/app/');
    check(!(await kim.page.$$eval('tbody a', links => links.map(a => a.textContent))).includes('browser-pat-1'),
      'nor in the patient list');
    const kimErrors = kim.errors.filter(e => !e.includes('403'));
    check(kimErrors.length === 0, 'no console errors on the other practitioner\'s pages: ' + JSON.stringify(kimErrors));

    // ---- A reviewer: the run, its replay, the diff of the two visits, the audit trail --------
    const ann = await signIn(browser, 'rev_ann');
    await ann.page.goto(BASE + '/app/runs/1');
    check((await ann.page.$eval('pre.trace', node => node.textContent)).length > 100, 'the run page shows its trace');
    await Promise.all([ann.page.waitForNavigation(), ann.page.click('form[action="/app/runs/1/replay"] button')]);
    check((await ann.page.$eval('main', node => node.innerText)).includes('Identical: the run reproduces exactly'),
      'a reviewer replays the run and it reproduces');
    if (SCREENSHOTS) await ann.page.screenshot({path: path.join(SCREENSHOTS, 'webapp-replay.png')});
    await ann.page.goto(BASE + '/app/runs/1');
    await Promise.all([ann.page.waitForNavigation(), ann.page.click('form[action="/app/runs/diff"] button')]);
    check((await ann.page.$eval('main', node => node.innerText)).includes('run-1 and run-2 differ'),
      'the diff of the two visits\' runs: ' + ann.page.url());
    if (SCREENSHOTS) await ann.page.screenshot({path: path.join(SCREENSHOTS, 'webapp-diff.png'), fullPage: true});
    await accessible(ann.page, 'the diff page');
    await ann.page.goto(BASE + '/app/audit');
    check((await ann.page.$eval('main', node => node.innerText)).includes('Verified'), 'the audit trail verifies');
    if (SCREENSHOTS) await ann.page.screenshot({path: path.join(SCREENSHOTS, 'webapp-audit.png')});
    await accessible(ann.page, 'the audit page');
    await ann.page.goto(BASE + '/app/runs/1');
    await accessible(ann.page, 'the run page');
    check(ann.errors.length === 0, 'no console errors on the reviewer\'s pages: ' + JSON.stringify(ann.errors));
    const replayByPractitioner = await kim.page.evaluate(async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const answer = await fetch('/app/runs/1/replay', {method: 'POST', body: new URLSearchParams({csrf}), credentials: 'same-origin'});
      return answer.status;
    });
    check(replayByPractitioner === 403, 'a practitioner cannot replay (a reviewer\'s task): ' + replayByPractitioner);
  } finally {
    await browser.close();
  }
  console.log(failures.length ? failures.length + ' failed' : 'all passed');
  process.exit(failures.length ? 1 : 0);
})().catch(error => { console.error(error); process.exit(1); });

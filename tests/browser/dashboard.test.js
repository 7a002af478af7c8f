// dashboard.test.js - the log4scan dashboard in a real browser.
//
//   node dashboard.test.js BASE_URL USER PASSWORD EXPECT.json OUT_DIR
//
// Debian's chromium (headless, fresh profile) driven by playwright-core:
// logs in, checks the overview numbers against the reports that were
// submitted (EXPECT.json, computed by the caller from the reports, not from
// the server), drills down from a number to a device and to a path, proves
// that hostile file and host names are shown as text and run no script, and
// saves a screenshot of the overview in OUT_DIR.  Prints "ok NAME" /
// "not ok NAME - why" lines.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, user, password, expectFile, outDir] = process.argv.slice(2);
const want = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
let failures = 0;
function ok(name) { console.log('ok ' + name); }
function notOk(name, why) { failures++; console.log('not ok ' + name + ' - ' + String(why).replace(/\n/g, ' ').slice(0, 300)); }
function check(name, cond, why) { if (cond) ok(name); else notOk(name, why || 'condition false'); }

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'l4s-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const dialogs = [], pageErrors = [], consoleErrors = [], foreign = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', e => pageErrors.push(String(e)));
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('request', r => {
    if (!r.url().startsWith(base) && !r.url().startsWith(want.empty_base) && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  const num = async sel => Number((await page.locator(sel).first().innerText()).replace(/[^0-9]/g, ''));

  try {
    await page.goto(base + '/');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    ok('login-required');

    await page.fill('#login-user', user);
    await page.fill('#login-password', 'not the password');
    await page.click('#login-submit');
    await page.waitForFunction(() => document.getElementById('login-error') &&
      document.getElementById('login-error').textContent.length > 0, null, { timeout: 15000 });
    ok('login-wrong-password-refused');

    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#cards [data-k=devices] .num', { timeout: 15000 });
    ok('login');

    const cards = {
      devices: '[data-k=devices]', devices_exposed: '[data-k=devices_exposed]',
      devices_exposed_attacked: '[data-k=devices_exposed_attacked]', vulnerable: '[data-k=vulnerable]',
      mitigated: '[data-k=mitigated]', safe: '[data-k=safe]', restart: '[data-k=restart]',
      attempts: '[data-k=attempts]', devices_attacked: '[data-k=devices_attacked]',
    };
    for (const [k, sel] of Object.entries(cards)) {
      const got = await num('#cards ' + sel + ' .num');
      check('overview-' + k, got === want[k], 'got ' + got + ', want ' + want[k]);
    }
    // what changed since yesterday: each card with a trend count shows its
    // change since yesterday's row (seeded by the test)
    for (const [k, d] of Object.entries(want.since_deltas)) {
      const el = page.locator('#cards ' + cards[k] + ' .delta');
      const got = (await el.count()) ? Number(await el.getAttribute('data-delta')) : null;
      const text = (await el.count()) ? await el.innerText() : '';
      check('since-yesterday-' + k, got === d && /since yesterday/.test(text), 'got ' + got + ' "' + text + '", want ' + d);
    }
    await page.waitForSelector('#trend-chart polyline', { state: 'attached' });
    check('trend-chart-drawn', await page.locator('#trend-chart polyline').count() >= 4);
    const byCve = await page.locator('#by-cve').innerText();
    check('by-cve-table', byCve.includes('CVE-2021-44228'), byCve.slice(0, 200));
    const rem = await page.locator('#remediation').innerText();
    check('remediation-table', rem.includes(want.shared_label), rem.slice(0, 200));
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'overview.png'), fullPage: true });
    check('screenshot-saved', fs.statSync(path.join(outDir, 'overview.png')).size > 10000);

    // issue 20: the headline's first number is the critical exposure
    const firstCard = page.locator('#headline .card').first();
    check('headline-first-is-critical-exposure', (await firstCard.getAttribute('data-k')) === 'devices_critical_exposed',
      await firstCard.getAttribute('data-k'));
    const crit = await num('#headline [data-k=devices_critical_exposed] .num');
    check('headline-critical-exposed', crit === want.devices_critical_exposed, 'got ' + crit + ', want ' + want.devices_critical_exposed);
    const firstCve = await page.locator('#by-cve tbody tr').first().innerText();
    check('by-cve-most-severe-first-with-title', firstCve.includes(want.top_cve) && firstCve.includes(want.top_cve_title_word) &&
      firstCve.includes(want.top_cve_cvss) && firstCve.includes('critical'), firstCve);
    check('by-severity-table', (await page.locator('#by-severity .tag.sev-critical').count()) >= 1);

    // issue 20 point 8: the trend's legend (one colour per line), devices on
    // the left axis and files on the right; issue 22: the rules change
    // marked on it and said on the overview
    const legend = await page.evaluate(() => Array.from(document.querySelectorAll('#trend-legend .key[data-series]')).map(k => {
      const sw = getComputedStyle(k.querySelector('.swatch'));
      const line = document.querySelector('#trend-chart polyline.l-' + k.getAttribute('data-series'));
      return { s: k.getAttribute('data-series'), text: k.textContent, swatch: sw.backgroundColor + ' ' + sw.backgroundImage,
        stroke: line ? getComputedStyle(line).stroke : null };
    }));
    check('trend-legend-series', legend.length === 4 && ['devices', 'vulnerable', 'exposed', 'attacked'].every(x => legend.some(l => l.s === x)),
      JSON.stringify(legend));
    check('trend-legend-colours-match-lines', legend.length && legend.every(l => l.stroke && l.stroke !== 'none' && l.swatch.includes(l.stroke)),
      JSON.stringify(legend));
    check('trend-legend-colours-distinct', new Set(legend.map(l => l.stroke)).size === legend.length, JSON.stringify(legend));
    check('trend-legend-axes', legend.some(l => l.s === 'devices' && l.text.includes('left axis')) &&
      legend.some(l => l.s === 'vulnerable' && l.text.includes('right axis')), JSON.stringify(legend));
    const axes = await page.evaluate(() => ({ left: document.querySelectorAll('#trend-chart .axis-left').length,
      right: document.querySelectorAll('#trend-chart .axis-right').length,
      lt: (document.querySelector('#trend-chart .axis-title-left') || {}).textContent,
      rt: (document.querySelector('#trend-chart .axis-title-right') || {}).textContent }));
    check('trend-two-axes', axes.left === 1 && axes.right === 1 && axes.lt === 'devices' && axes.rt === 'files', JSON.stringify(axes));
    const mark = page.locator('#trend-chart .rule-mark[data-rules="' + want.rules_id + '"]');
    check('trend-rules-mark', (await mark.count()) === 1 && (await mark.locator('text').textContent()) === 'rules ' + want.rules_id,
      await mark.count());
    const upd = await page.locator('#rules-update').innerText();
    check('overview-rules-update', upd.includes('rules updated (' + want.rules_id + ', ') &&
      upd.includes('1 device newly affected by ' + want.rules_cve) && upd.includes('0 devices no longer affected'), upd);
    check('overview-rules-update-links-rules-view', (await page.locator('#rules-update a').first().getAttribute('href')) === '#/rules');
    check('no-enroll-hint-with-devices', (await page.locator('#enroll').count()) === 0);
    await page.locator('#rules-update a.rules-newly').click();
    await page.waitForFunction(() => location.hash.startsWith('#/rules?change='));
    check('rules-update-links-the-change', /kind=newly/.test(await page.evaluate(() => location.hash)), await page.evaluate(() => location.hash));
    await page.waitForSelector('main table a.rules-device');
    const rjHosts = await page.locator('main table a.rules-device').allInnerTexts();
    check('rules-update-drills-down', JSON.stringify(rjHosts) === JSON.stringify([want.rules_host]), JSON.stringify(rjHosts));
    await page.goto(base + '/#/');
    await page.waitForSelector('#trend-legend');

    // drill down: exposed devices -> the device -> one of its paths
    await page.click('#cards [data-k=devices_exposed] .num');
    await page.waitForFunction(() => location.hash.startsWith('#/devices?exposed=1'));
    await page.waitForSelector('main table a.device-link');
    const exposedHosts = await page.locator('main table a.device-link').allInnerTexts();
    check('drill-exposed-devices', JSON.stringify(exposedHosts.sort()) === JSON.stringify(want.exposed_hosts.sort()),
      JSON.stringify(exposedHosts));
    await page.locator('main table a.device-link', { hasText: want.exposed_hosts[0] }).first().click();
    await page.waitForSelector('#device-title');
    check('drill-device-page', (await page.locator('#device-title').innerText()).includes(want.exposed_hosts[0]));
    await page.waitForSelector('#device-files table a.file-path');
    const paths = await page.locator('#device-files a.file-path').allInnerTexts();
    check('device-files-listed', paths.includes(want.exposed_path), JSON.stringify(paths));
    await page.locator('#device-files a.file-path', { hasText: want.exposed_path }).first().click();
    await page.waitForFunction(() => location.hash.startsWith('#/files?'));
    await page.waitForSelector('main table a.file-path');
    const one = await page.locator('main table a.file-path').allInnerTexts();
    check('drill-to-path', one.length === 1 && one[0] === want.exposed_path, JSON.stringify(one));
    // counted once: the file's one row says which JVM has it loaded; severity badges
    await page.goto(base + '/#/files?status=vulnerable&sort=severity');
    await page.waitForSelector('main table tbody tr td .tag');
    const rows = await page.locator('main table tbody tr', { hasText: want.exposed_path }).allInnerTexts();
    check('file-counted-once', rows.length === 1, JSON.stringify(rows));   // web1's file and its JVM's copy: one row
    check('file-loaded-by-pid', rows.some(r => r.includes('loaded by pid ' + want.loaded_pid)), JSON.stringify(rows));
    check('files-severity-badges', (await page.locator('main table .tag.sev-critical').count()) >= 1);
    check('files-severity-filter', (await page.locator('form.filters select[name=severity]').count()) === 1);
    await page.screenshot({ path: path.join(outDir, 'files-severity.png'), fullPage: true });

    // exposure: loopback listeners shown, not counted
    await page.goto(base + '/#/devices?q=' + want.loopback_host);
    await page.waitForSelector('main table a.device-link');
    const loRow = await page.locator('main table tbody tr').first().innerText();
    check('loopback-device-not-exposed', !/\bexposed\b/.test(loRow), loRow);
    await page.locator('main table a.device-link').first().click();
    await page.waitForSelector('#device-processes table tbody tr td');
    const loProc = await page.locator('#device-processes').innerText();
    check('loopback-listener-shown', loProc.includes('loopback: not exposed') && loProc.includes('127.0.0.1'), loProc);

    // coverage: a partly scanned device is never "clean"
    await page.goto(base + '/#/devices?partial=1');
    await page.waitForSelector('main table a.device-link');
    const partialHosts = await page.locator('main table a.device-link').allInnerTexts();
    check('partial-devices-listed', partialHosts.includes(want.partial_host) && !partialHosts.includes(want.clean_host),
      JSON.stringify(partialHosts));
    const partRow = await page.locator('main table tbody tr', { hasText: want.partial_host }).first().innerText();
    check('partial-not-clean', partRow.includes('partial scan') && !partRow.includes('clean'), partRow);
    await page.locator('main table a.device-link', { hasText: want.partial_host }).first().click();
    await page.waitForSelector('#device-coverage');
    const cov = await page.locator('#device-coverage').innerText();
    check('device-coverage-shown', cov.includes('partial') && cov.includes('/srv') && cov.includes('whole-host'), cov);
    await page.screenshot({ path: path.join(outDir, 'device-coverage.png'), fullPage: true });
    await page.goto(base + '/#/devices?q=' + want.clean_host);
    await page.waitForSelector('main table a.device-link');
    const cleanRow = await page.locator('main table tbody tr').first().innerText();
    check('full-scan-clean', cleanRow.includes('clean (full scan)'), cleanRow);

    // images: which images hold vulnerable Log4j, on how many devices, which layer brought it
    await page.click('nav a[data-route=images]');
    await page.waitForSelector('main table a.image-link');
    const imgs = await page.locator('main table a.image-link').allInnerTexts();
    check('images-listed', imgs[0] === want.image && imgs.includes(want.hostile_image), JSON.stringify(imgs));
    await page.locator('main table a.image-link', { hasText: want.image }).first().click();
    await page.waitForSelector('#image-layers table a.layer-link');
    const layers = await page.locator('#image-layers').innerText();
    check('image-layers', layers.includes('sha256:aaa') && layers.includes('sha256:bbb') && layers.includes('deleted later'), layers);
    await page.screenshot({ path: path.join(outDir, 'images.png'), fullPage: true });
    await page.locator('#image-layers a.layer-link', { hasText: 'sha256:bbb' }).first().click();
    await page.waitForSelector('main table a.file-path');
    const delRow = await page.locator('main table tbody tr').first().innerText();
    check('deleted-layer-file-marked', delRow.includes('deleted in a later layer'), delRow);
    const injected2 = await page.evaluate(() => document.querySelectorAll('main img, main script').length);
    check('hostile-image-name-as-text', injected2 === 0, injected2);

    const procs = await page.goto(base + '/#/processes?restart=1').then(() =>
      page.waitForSelector('main table tbody tr td')).then(() => page.locator('main table tbody tr').count());
    check('restart-processes-view', procs === want.restart, procs);

    // attempts: the decoded payload (attacker text, shown as text), the
    // leaked lookups and the domain to block
    await page.goto(base + '/#/attempts');
    await page.waitForSelector('main table a.device-link');
    const att = await page.locator('main').innerText();
    check('attempt-payload-shown', att.includes(want.hostile_payload), att.slice(0, 400));
    check('attempt-exfil-shown', att.includes('env:AWS_SECRET_ACCESS_KEY'), att.slice(0, 400));
    check('attempt-domain-to-block', att.includes(want.callback_domain + '\t') || att.includes(want.callback_domain + '\n'),
      att.slice(0, 400));
    const injected3 = await page.evaluate(() => document.querySelectorAll('main img, main script').length);
    check('hostile-payload-as-text', injected3 === 0, injected3);
    await page.screenshot({ path: path.join(outDir, 'attempts.png'), fullPage: true });

    // issue 20 point 8: sort by a column's header, then reverse it
    await page.goto(base + '/#/devices');
    await page.waitForSelector('main table a.device-link');
    await page.click('main th[data-sort=hostname] a');
    await page.waitForFunction(() => /sort=hostname&order=asc/.test(location.hash));
    await page.waitForSelector('main th[data-sort=hostname][aria-sort=ascending]');
    let hosts = await page.locator('main table a.device-link').allInnerTexts();
    check('sort-by-header-asc', JSON.stringify(hosts) === JSON.stringify(want.hostnames_sorted), JSON.stringify(hosts));
    await page.screenshot({ path: path.join(outDir, 'devices-sorted.png'), fullPage: true });
    await page.click('main th[data-sort=hostname] a');
    await page.waitForFunction(() => /sort=hostname&order=desc/.test(location.hash));
    await page.waitForSelector('main th[data-sort=hostname][aria-sort=descending]');
    hosts = await page.locator('main table a.device-link').allInnerTexts();
    check('sort-by-header-desc', JSON.stringify(hosts) === JSON.stringify(want.hostnames_sorted.slice().reverse()), JSON.stringify(hosts));
    await page.click('main th[data-sort=vulnerable] a');
    await page.waitForFunction(() => /sort=vulnerable&order=desc/.test(location.hash));
    await page.waitForSelector('main th[data-sort=vulnerable][aria-sort=descending]');
    const vul = (await page.locator('main table tbody tr td:nth-child(3)').allInnerTexts()).map(Number);
    check('sort-by-count-desc', vul.length === want.devices && vul.every((v, i) => !i || vul[i - 1] >= v), JSON.stringify(vul));

    // paging: four rows a page, a total, next and previous
    await page.goto(base + '/#/devices?sort=hostname&order=asc&limit=4');
    await page.waitForSelector('#pager-state');
    const pages = Math.ceil(want.devices / 4);
    let pst = await page.locator('#pager-state').innerText();
    check('paging-total', pst.includes('rows 1–4 of ' + want.devices) && pst.includes('page 1 of ' + pages), pst);
    check('paging-first-no-previous', (await page.locator('#pager a.pager-prev').count()) === 0);
    await page.click('#pager a.pager-next');
    await page.waitForFunction(() => /page=2/.test(location.hash));
    await page.waitForFunction(() => /rows 5–8/.test((document.getElementById('pager-state') || {}).textContent || ''));
    hosts = await page.locator('main table a.device-link').allInnerTexts();
    check('paging-next-page', JSON.stringify(hosts) === JSON.stringify(want.hostnames_sorted.slice(4, 8)), JSON.stringify(hosts));
    check('paging-previous-shown', (await page.locator('#pager a.pager-prev').count()) === 1);
    await page.screenshot({ path: path.join(outDir, 'devices-page2.png'), fullPage: true });
    await page.click('#pager a.pager-prev');
    await page.waitForFunction(() => /rows 1–4/.test((document.getElementById('pager-state') || {}).textContent || ''));
    hosts = await page.locator('main table a.device-link').allInnerTexts();
    check('paging-previous-page', JSON.stringify(hosts) === JSON.stringify(want.hostnames_sorted.slice(0, 4)), JSON.stringify(hosts));

    // a device page's tables: every row is in the page, so a header click
    // sorts them in the browser (the order the API's JSON gives, sorted the
    // way the test says: text case-insensitively, numbers as numbers) and
    // more than 50 rows are paged
    await page.goto(base + '/#/devices?q=' + encodeURIComponent(want.many_host));
    await page.waitForSelector('main table a.device-link');
    await page.locator('main table a.device-link').first().click();
    await page.waitForSelector('#device-files table a.file-path');
    await page.waitForSelector('#device-processes table th.csort');
    const devId = await page.evaluate(() => location.hash.replace(/^#\/device\//, '').replace(/\?.*$/, ''));
    const apiPaths = await page.evaluate(async id => (await (await fetch('/api/v1/findings?device=' + id + '&limit=500')).json())
      .items.map(f => f.path), devId);
    check('device-files-api-count', apiPaths.length === want.many_files, apiPaths.length);
    const lc = a => a.slice().sort((x, y) => { x = x.toLowerCase(); y = y.toLowerCase(); return x < y ? -1 : x > y ? 1 : 0; });
    const pathsAsc = lc(apiPaths);
    check('device-files-case-order-differs', JSON.stringify(pathsAsc) !== JSON.stringify(apiPaths.slice().sort()));
    const shownPaths = () => page.locator('#device-files table tbody a.file-path').allInnerTexts();
    const pstate = () => page.locator('#device-files .tpager-state').innerText();
    let dp = await shownPaths();
    check('device-files-first-page', dp.length === 50, dp.length);
    check('device-files-pager-total', (await pstate()).includes('rows 1–50 of ' + want.many_files), await pstate());
    const pathTh = page.locator('#device-files th.csort', { hasText: 'Path' });
    await pathTh.locator('button').click();
    check('device-files-sort-aria-asc', (await pathTh.getAttribute('aria-sort')) === 'ascending', await pathTh.getAttribute('aria-sort'));
    dp = await shownPaths();
    check('device-files-sorted-asc', JSON.stringify(dp) === JSON.stringify(pathsAsc.slice(0, 50)), JSON.stringify(dp.slice(0, 6)));
    await page.screenshot({ path: path.join(outDir, 'device-sorted.png'), fullPage: true });
    await page.locator('#device-files .tpager-next').click();
    dp = await shownPaths();
    check('device-files-page2', JSON.stringify(dp) === JSON.stringify(pathsAsc.slice(50)), JSON.stringify(dp));
    check('device-files-page2-state', (await pstate()).includes('rows 51–' + want.many_files + ' of ' + want.many_files), await pstate());
    check('device-files-page2-previous', (await page.locator('#device-files .tpager-prev').count()) === 1);
    await pathTh.locator('button').click();
    check('device-files-sort-aria-desc', (await pathTh.getAttribute('aria-sort')) === 'descending');
    dp = await shownPaths();
    check('device-files-sorted-desc-from-page1', JSON.stringify(dp) === JSON.stringify(pathsAsc.slice().reverse().slice(0, 50)),
      JSON.stringify(dp.slice(0, 6)));
    await page.locator('#device-files .tpager-all').click();
    dp = await shownPaths();
    check('device-files-show-all', JSON.stringify(dp) === JSON.stringify(pathsAsc.slice().reverse()), dp.length);
    check('device-files-one-sorted-header', (await page.locator('#device-files th[aria-sort]').count()) === 1);
    const pidTh = page.locator('#device-processes th.csort', { hasText: 'PID' });
    const pids = async () => (await page.locator('#device-processes table tbody tr td:first-child').allInnerTexts()).map(Number);
    await pidTh.locator('button').click();
    let pp = await pids();
    check('device-pids-numeric-asc', (await pidTh.getAttribute('aria-sort')) === 'ascending' &&
      JSON.stringify(pp) === JSON.stringify(want.many_pids), JSON.stringify(pp));
    await pidTh.locator('button').click();
    pp = await pids();
    check('device-pids-numeric-desc', (await pidTh.getAttribute('aria-sort')) === 'descending' &&
      JSON.stringify(pp) === JSON.stringify(want.many_pids.slice().reverse()), JSON.stringify(pp));
    check('device-processes-not-paged', (await page.locator('#device-processes .tpager').count()) === 0);

    // evidence behind a disclosure; a long path on one line, its file name visible
    await page.goto(base + '/#/files?path=a-rather-long');
    await page.waitForSelector('main table a.file-path');
    const ev = page.locator('main table details.evidence').first();
    check('evidence-collapsed', (await ev.count()) === 1 && (await ev.getAttribute('open')) === null &&
      !(await ev.locator('li').first().isVisible()));
    const cellW = await page.evaluate(() => document.querySelector('main table details.evidence').closest('td').getBoundingClientRect().width);
    check('evidence-narrow-when-closed', cellW < 200, cellW);
    await ev.locator('summary').click();
    check('evidence-opens', (await ev.getAttribute('open')) !== null && (await ev.locator('li').first().isVisible()) &&
      (await ev.innerText()).includes('JndiLookup.class'), await ev.innerText());
    const lp = await page.evaluate(() => {
      const a = document.querySelector('main table a.file-path'), clip = a.querySelector('.clip');
      const text = clip.querySelector('.clip-in').firstChild, r = clip.getBoundingClientRect();
      const range = document.createRange();
      range.setStart(text, text.length - 'log4j-core-2.17.1.jar'.length);
      range.setEnd(text, text.length);
      const name = range.getBoundingClientRect();
      range.setStart(text, 0);
      range.setEnd(text, 8);
      const head = range.getBoundingClientRect();
      const cs = getComputedStyle(clip);
      return { text: a.innerText, title: clip.getAttribute('title'), lineHeight: parseFloat(cs.lineHeight) || 18,
        height: r.height, clipped: clip.scrollWidth > clip.clientWidth, overflow: cs.textOverflow, ws: cs.whiteSpace,
        nameIn: name.left >= r.left - 1 && name.right <= r.right + 1, headOut: head.right <= r.left + 1 };
    });
    check('long-path-text-whole', lp.text === want.long_path && lp.title === want.long_path, JSON.stringify(lp));
    check('long-path-one-line', lp.ws === 'nowrap' && lp.height < 1.6 * lp.lineHeight && lp.clipped && lp.overflow === 'ellipsis',
      JSON.stringify(lp));
    check('long-path-file-name-visible', lp.nameIn && lp.headOut, JSON.stringify(lp));
    await page.screenshot({ path: path.join(outDir, 'files-evidence.png'), fullPage: true });

    // narrow width: the navigation wraps instead of overflowing
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(base + '/#/');
    await page.waitForSelector('nav a');
    const over = await page.evaluate(() => {
      const links = Array.from(document.querySelectorAll('header a, header button'));
      return { page: document.documentElement.scrollWidth, view: window.innerWidth,
        out: links.filter(a => a.getBoundingClientRect().right > window.innerWidth + 0.5).map(a => a.textContent) };
    });
    check('narrow-nav-no-overflow', over.out.length === 0, JSON.stringify(over));
    await page.screenshot({ path: path.join(outDir, 'narrow.png') });
    await page.setViewportSize({ width: 1360, height: 900 });

    // hostile names: shown as text, nothing runs
    await page.goto(base + '/#/devices?q=' + encodeURIComponent(want.hostile_host_query));
    await page.waitForSelector('main table a.device-link');
    const hostileHost = await page.locator('main table a.device-link').first().innerText();
    check('hostile-hostname-as-text', hostileHost === want.hostile_host, hostileHost);
    await page.locator('main table a.device-link').first().click();
    await page.waitForSelector('#device-files table a.file-path');
    const hp = await page.locator('#device-files a.file-path').allInnerTexts();
    check('hostile-path-as-text', want.hostile_paths.every(p => hp.includes(p)), JSON.stringify(hp));
    await page.waitForTimeout(500);
    const injected = await page.evaluate(() => ({
      imgs: document.querySelectorAll('main img, main script, main b, main iframe').length,
      xss: window.__xss === undefined ? null : window.__xss,
    }));
    check('hostile-no-elements-injected', injected.imgs === 0, JSON.stringify(injected));
    check('hostile-no-script-ran', injected.xss === null && dialogs.length === 0,
      JSON.stringify({ injected, dialogs }));
    const csp = await page.evaluate(async () => (await fetch('/')).headers.get('content-security-policy'));
    check('csp-served', /script-src 'self'/.test(csp || '') && !/unsafe-inline/.test(csp), csp);
    const inline = await page.evaluate(() => new Promise(resolve => {
      document.addEventListener('securitypolicyviolation', () => resolve('blocked'), { once: true });
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.appendChild(s);
      setTimeout(() => resolve(window.__inline === 1 ? 'ran' : 'not run'), 1000);
    }));
    check('csp-blocks-inline-script', inline !== 'ran', inline);

    await page.click('#logout');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    const after = await page.evaluate(async () => (await fetch('/api/v1/summary')).status);
    check('logout', after === 401, after);

    // an empty collector: how to enroll an agent, not a page of zeros
    // (logged in last: the session cookie is per host, not per port)
    await page.goto(want.empty_base + '/');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('#enroll', { timeout: 15000 });
    const hint = await page.locator('#enroll').innerText();
    check('empty-enroll-token', hint.includes('log4scan-server token create --name fleet'), hint);
    check('empty-enroll-submit', (await page.locator('#enroll-submit').innerText()) ===
      'log4scan scan --submit ' + want.empty_base + ' --token l4s_...', hint);
    check('empty-no-zero-cards', (await page.locator('main .card').count()) === 0);
    await page.screenshot({ path: path.join(outDir, 'empty.png'), fullPage: true });

    check('no-page-errors', pageErrors.length === 0, JSON.stringify(pageErrors));
    check('no-foreign-requests', foreign.length === 0, JSON.stringify(foreign));
    const unexpected = consoleErrors.filter(m => !/401|Content Security Policy|Unauthorized/.test(m));
    check('no-console-errors', unexpected.length === 0, JSON.stringify(unexpected));
  } catch (e) {
    notOk('browser-run', e && e.stack ? e.stack : e);
    try { await page.screenshot({ path: path.join(outDir, 'failure.png'), fullPage: true }); } catch (_) { /* ignore */ }
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failures ? 1 : 0);
})();

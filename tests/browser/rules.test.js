// rules.test.js - the dashboard's rules view (issue 22) in a real browser.
//
//   node rules.test.js BASE_URL USER PASSWORD CVE HOSTILE_SOURCE OUT_DIR
//
// Debian's chromium (headless) driven by playwright-core: a viewer sees the
// Rules entry; #/rules shows the active rules (loaded from a file whose
// name is hostile markup: shown as text, nothing injected), the versions
// kept, and the change "1 devices newly affected by CVE"; the number links
// to the list of exactly that device (host "a").  Screenshots: rules.png,
// rules-devices.png in OUT_DIR.  Prints "ok NAME" / "not ok NAME - why".
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [base, user, password, cve, hostile, outDir] = process.argv.slice(2);
let failures = 0;
function ok(name) { console.log('ok ' + name); }
function notOk(name, why) { failures++; console.log('not ok ' + name + ' - ' + String(why).replace(/\n/g, ' ').slice(0, 300)); }
function check(name, cond, why) { if (cond) ok(name); else notOk(name, why || 'condition false'); }

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'l4s-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', e => pageErrors.push(String(e)));
  try {
    await page.goto(base + '/');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('nav a', { timeout: 15000 });
    const nav = await page.locator('nav a').allInnerTexts();
    check('nav-has-rules', nav.includes('Rules'), JSON.stringify(nav));

    await page.goto(base + '/#/rules');
    await page.waitForSelector('#rules-active', { timeout: 15000 });
    const active = await page.locator('#rules-active').innerText();
    check('active-rules-shown', active.includes('#1') && active.includes(hostile) && /[0-9a-f]{64}/.test(active), active);
    const injected = await page.evaluate(() => ({ n: document.querySelectorAll('main img, main script, main iframe').length,
      xss: window.__xss === undefined ? null : window.__xss }));
    check('hostile-source-as-text', injected.n === 0 && injected.xss === null, JSON.stringify(injected));
    const line = page.locator('li.rules-change[data-cve="' + cve + '"]');
    check('change-line', (await line.count()) === 1, await page.locator('main').innerText());
    const text = await line.innerText();
    check('change-line-text', text.includes(cve) && /1 devices newly affected, 0 no longer affected/.test(text), text);
    const versions = await page.locator('main table tbody tr').count();
    check('versions-listed', versions === 2, versions);
    await page.screenshot({ path: path.join(outDir, 'rules.png'), fullPage: true });

    await line.locator('a.rules-newly').click();
    await page.waitForSelector('#rules-devices table', { timeout: 15000 });
    const hosts = await page.locator('#rules-devices a.rules-device').allInnerTexts();
    check('drill-down-exactly-the-device', JSON.stringify(hosts) === JSON.stringify(['a']), JSON.stringify(hosts));
    check('drill-down-says-what', (await page.locator('#rules-devices-what').innerText()).includes(cve), '');
    check('drill-down-url', /#\/rules\?change=\d+&kind=newly$/.test(page.url()), page.url());
    await page.screenshot({ path: path.join(outDir, 'rules-devices.png'), fullPage: true });
    check('no-page-errors', pageErrors.length === 0, pageErrors.join('; '));
  } catch (e) {
    notOk('browser-run', e && e.stack ? e.stack : e);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failures ? 1 : 0);
})();

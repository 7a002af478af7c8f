// rules.test.js - the dashboard's rules view (issue 22) in a real browser.
//
//   node rules.test.js BASE_URL USER PASSWORD CVE HOSTILE_SOURCE OUT_DIR ADMIN
//
// Debian's chromium (headless) driven by playwright-core: a viewer sees the
// Rules entry; #/rules shows the active rules (loaded from a file whose
// name is hostile markup: shown as text, nothing injected), the versions
// kept, and the change "1 devices newly affected by CVE"; the number links
// to the list of exactly that device (host "a"); the viewer has no "Make
// active" button, the admin has, and pressing it (confirmed) makes the
// built-in rules active again: the page then lists "0 devices newly
// affected, 1 no longer affected".  Screenshots: rules.png,
// rules-devices.png, rules-rollback.png in OUT_DIR.  Prints "ok NAME" /
// "not ok NAME - why".
'use strict';
const fs = require('fs');
const path = require('path');
const { ok, notOk, check, failures, launch } = require('./harness');

const [base, user, password, cve, hostile, outDir, admin] = process.argv.slice(2);

(async () => {
  const { ctx, profile } = await launch();
  const page = ctx.pages()[0] || await ctx.newPage();
  const pageErrors = [], dialogs = [];
  page.on('pageerror', e => pageErrors.push(String(e)));
  page.on('dialog', d => { dialogs.push(d.message()); d.accept().catch(() => {}); });
  async function login(name) {
    await page.goto(base + '/');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    await page.fill('#login-user', name);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('nav a', { timeout: 15000 });
  }
  try {
    await login(user);
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
    await page.goto(base + '/#/rules');
    await page.waitForSelector('#rules-active', { timeout: 15000 });
    check('viewer-no-make-active', (await page.locator('#rules-activate-0').count()) === 0, '');

    // the admin makes the built-in rules active again from the view
    await page.click('#logout');
    await login(admin);
    await page.goto(base + '/#/rules');
    await page.waitForSelector('#rules-activate-0', { timeout: 15000 });
    await page.click('#rules-activate-0');
    let back = '';
    for (let i = 0; i < 120; i++) {
      await page.waitForTimeout(500);
      await page.goto(base + '/#/rules?t=' + i);
      await page.waitForSelector('#rules-active', { timeout: 15000 });
      back = await page.locator('#rules-active').innerText();
      if (back.includes('built-in') && !(await page.locator('#rules-judging').count())) break;
    }
    check('admin-make-active-confirmed', dialogs.length === 1 && dialogs[0].includes('built-in'), JSON.stringify(dialogs));
    check('admin-make-active-done', back.includes('built-in'), back);
    const lines = await page.locator('li.rules-change[data-cve="' + cve + '"]').allInnerTexts();
    check('rollback-change-line', lines.some(t => /0 devices newly affected, 1 no longer affected/.test(t)), JSON.stringify(lines));
    await page.screenshot({ path: path.join(outDir, 'rules-rollback.png'), fullPage: true });
    check('no-page-errors', pageErrors.length === 0, pageErrors.join('; '));
  } catch (e) {
    notOk('browser-run', e && e.stack ? e.stack : e);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failures() ? 1 : 0);
})();

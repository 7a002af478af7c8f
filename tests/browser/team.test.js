// team.test.js - the dashboard's team views in a real browser (issue 20 point 9).
//
//   node team.test.js BASE_URL ADMIN VIEWER PASSWORD HOSTILE_NAME DEVICE_ID OUT_DIR
//
// Debian's chromium (headless) driven by playwright-core: the admin sees
// the Audit and Team entries, the audit log shows a failed login's hostile
// user name as text (no element injected, no script run), retires a device
// from its page (it leaves the device list and shows on #/team), and
// unretires it; the viewer sees neither entry nor any device control, and
// #/audit shows it the overview; the admin creates a read token (shown
// once; it reads the API), a token with a hostile name (shown as text) and
// a user (viewer by default; a second one of that name refused in the
// page).  Screenshots: audit.png, team.png, team-created.png,
// device-retired.png, viewer-device.png in OUT_DIR.  Prints "ok NAME" /
// "not ok NAME - why" lines.
'use strict';
const fs = require('fs');
const path = require('path');
const { ok, notOk, check, failures, launch } = require('./harness');

const [base, admin, viewer, password, hostile, deviceId, outDir] = process.argv.slice(2);

async function login(page, user) {
  await page.goto(base + '/');
  await page.waitForSelector('#login-form', { timeout: 15000 });
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('nav a', { timeout: 15000 });
}
async function navTexts(page) { return page.locator('nav a').allInnerTexts(); }

(async () => {
  const { ctx, profile } = await launch();
  const page = ctx.pages()[0] || await ctx.newPage();
  const dialogs = [], pageErrors = [];
  page.on('dialog', d => { dialogs.push(d.message()); d.accept().catch(() => {}); });
  page.on('pageerror', e => pageErrors.push(String(e)));
  try {
    await login(page, admin);
    const nav = await navTexts(page);
    check('admin-sees-audit-and-team', nav.includes('Audit') && nav.includes('Team'), JSON.stringify(nav));

    await page.goto(base + '/#/audit?kind=login_failed');
    await page.waitForSelector('main table tbody tr td');
    const subjects = await page.locator('main table tbody tr td:nth-child(4)').allInnerTexts();
    check('audit-hostile-as-text', subjects.includes(hostile), JSON.stringify(subjects));
    const injected = await page.evaluate(() => ({ n: document.querySelectorAll('main img, main script, main iframe').length,
      xss: window.__xss === undefined ? null : window.__xss }));
    check('audit-nothing-injected', injected.n === 0 && injected.xss === null, JSON.stringify(injected));
    await page.screenshot({ path: path.join(outDir, 'audit.png'), fullPage: true });

    await page.goto(base + '/#/device/' + deviceId);
    await page.waitForSelector('#retire-' + deviceId, { timeout: 15000 });
    await page.click('#retire-' + deviceId);   // the confirm() is accepted
    await page.waitForSelector('#unretire-' + deviceId, { timeout: 15000 });
    const state = await page.locator('#device-state').innerText();
    check('device-retired-shown', /retired/.test(state), state);
    await page.screenshot({ path: path.join(outDir, 'device-retired.png'), fullPage: true });
    const listed = await page.evaluate(async id => (await (await fetch('/api/v1/devices')).json()).items.map(d => d.id), Number(deviceId));
    check('retired-leaves-list', !listed.includes(Number(deviceId)), JSON.stringify(listed));
    await page.goto(base + '/#/team');
    await page.waitForSelector('#unretire-' + deviceId, { timeout: 15000 });
    ok('team-lists-retired');
    await page.screenshot({ path: path.join(outDir, 'team.png'), fullPage: true });
    await page.click('#unretire-' + deviceId);
    await page.waitForFunction(() => !document.querySelector('main table button[id^=unretire-]'), null, { timeout: 15000 });
    const back = await page.evaluate(async () => (await (await fetch('/api/v1/devices')).json()).items.length);
    check('unretired-back-in-list', back >= 1, back);

    // an admin creates a read token (shown once, and it works) and a user;
    // a hostile token name is shown as text
    await page.fill('#new-token-name', 'ci-reader');
    await page.selectOption('#new-token-role', 'read');
    await page.click('#new-token-submit');
    await page.waitForSelector('#new-token-value', { timeout: 15000 });
    const tok = await page.locator('#new-token-value').innerText();
    check('token-created-shown-once', /^l4s_[0-9a-f]{64}$/.test(tok), tok);
    const withTok = await page.evaluate(async t => (await fetch('/api/v1/summary', { credentials: 'omit',
      headers: { Authorization: 'Bearer ' + t } })).status, tok);
    check('created-token-reads', withTok === 200, withTok);
    await page.fill('#new-token-name', hostile);
    await page.click('#new-token-submit');
    await page.waitForFunction(h => document.querySelector('#new-token-value') &&
      document.querySelector('#new-token-result b').textContent === h, hostile, { timeout: 15000 });
    await page.fill('#new-user-name', 'nina');
    await page.fill('#new-user-password', password);
    await page.click('#new-user-submit');
    await page.waitForFunction(h => { const t = [...document.querySelectorAll('main table td')].map(td => td.textContent);
      return t.includes('nina') && t.includes(h); }, hostile, { timeout: 15000 }).catch(() => {});
    const names = await page.evaluate(() => [...document.querySelectorAll('main table td')].map(td => td.textContent));
    check('created-user-and-hostile-token-listed', names.includes('nina') && names.includes(hostile), JSON.stringify(names));
    const roleOf = await page.evaluate(async () => (await (await fetch('/api/v1/users')).json()).items
      .filter(u => u.name === 'nina').map(u => u.role));
    check('created-user-viewer-by-default', JSON.stringify(roleOf) === '["viewer"]', JSON.stringify(roleOf));
    const injected2 = await page.evaluate(() => ({ n: document.querySelectorAll('main img, main script, main iframe').length,
      xss: window.__xss === undefined ? null : window.__xss }));
    check('team-nothing-injected', injected2.n === 0 && injected2.xss === null, JSON.stringify(injected2));
    await page.fill('#new-user-name', 'nina');
    await page.fill('#new-user-password', password);
    await page.click('#new-user-submit');
    await page.waitForFunction(() => document.querySelector('#new-user-error').textContent !== '', null, { timeout: 15000 });
    const dupErr = await page.locator('#new-user-error').innerText();
    check('duplicate-user-refused-in-page', /exists/.test(dupErr), dupErr);
    await page.screenshot({ path: path.join(outDir, 'team-created.png'), fullPage: true });

    await page.click('#logout');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    await login(page, viewer);
    const vnav = await navTexts(page);
    check('viewer-no-admin-nav', !vnav.includes('Audit') && !vnav.includes('Team'), JSON.stringify(vnav));
    await page.goto(base + '/#/device/' + deviceId);
    await page.waitForSelector('#device-title', { timeout: 15000 });
    await page.waitForTimeout(300);
    // the tables' sort and paging buttons are a reader's; no other button
    const buttons = await page.locator('main button:not(.sort-button):not(.link-button)').count();
    check('viewer-no-device-controls', buttons === 0, buttons);
    await page.screenshot({ path: path.join(outDir, 'viewer-device.png'), fullPage: true });
    await page.goto(base + '/#/audit');
    await page.waitForSelector('#cards', { timeout: 15000 });
    ok('viewer-audit-route-shows-overview');
    check('no-page-errors', pageErrors.length === 0, JSON.stringify(pageErrors));
    check('only-confirm-dialogs', dialogs.every(m => /Retire this device/.test(m)), JSON.stringify(dialogs));
  } catch (e) {
    notOk('browser-run', e && e.stack ? e.stack : e);
    try { await page.screenshot({ path: path.join(outDir, 'team-failure.png'), fullPage: true }); } catch (_) { /* ignore */ }
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failures() ? 1 : 0);
})();

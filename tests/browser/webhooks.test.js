// webhooks.test.js - the dashboard's Webhooks page in a real browser.
//
//   node webhooks.test.js BASE_URL USER PASSWORD RECEIVER_URL SECRET OUT_DIR
//
// Debian's chromium (headless) driven by playwright-core: logs in, opens
// Webhooks from the navigation, adds a target through the form, checks that
// the page never shows the secret, clicks "Send test" and waits for the
// delivery log to show the attempt with HTTP 200, deletes the target, and
// saves a screenshot (OUT_DIR/webhooks.png).  The caller checks that the
// receiver got the test event, signed.  Prints "ok NAME" / "not ok NAME - why".
'use strict';
const fs = require('fs');
const path = require('path');
const { ok, notOk, check, failures, launch } = require('./harness');

const [base, user, password, receiver, secret, outDir] = process.argv.slice(2);

(async () => {
  const { ctx, profile } = await launch();
  const page = ctx.pages()[0] || await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', e => pageErrors.push(String(e)));
  page.on('dialog', d => d.accept().catch(() => {}));
  try {
    await page.goto(base + '/');
    await page.waitForSelector('#login-form', { timeout: 15000 });
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('nav a[data-route=webhooks]', { timeout: 15000 });
    ok('nav-entry');
    await page.click('nav a[data-route=webhooks]');
    await page.waitForSelector('#webhook-targets table', { timeout: 15000 });
    check('empty-targets-hint', (await page.locator('#webhook-targets').innerText()).includes('No webhook yet'));

    await page.fill('#webhook-url', receiver);
    await page.fill('#webhook-secret', secret);
    await page.click('#webhook-add-submit');
    await page.waitForSelector('#webhook-targets button.webhook-test', { timeout: 15000 });
    const targets = await page.locator('#webhook-targets').innerText();
    check('target-listed', targets.includes(receiver) && targets.includes('device_attacked'), targets.slice(0, 300));
    check('secret-not-shown', !(await page.content()).includes(secret));

    await page.click('#webhook-targets button.webhook-test');
    await page.waitForFunction(() => {
      const l = document.getElementById('webhook-log');
      return l && /HTTP 200/.test(l.textContent);
    }, null, { timeout: 15000 }).catch(() => {});
    // the page reloads its tables 2 and 6 s after a test; else open it again until the attempt shows
    let logText = await page.locator('#webhook-log').innerText();
    for (let i = 0; i < 60 && !/HTTP 200/.test(logText); i++) {
      await page.click('nav a[data-route=""]');
      await page.click('nav a[data-route=webhooks]');
      await page.waitForSelector('#webhook-log table', { timeout: 15000 });
      logText = await page.locator('#webhook-log').innerText();
      if (!/HTTP 200/.test(logText)) await page.waitForTimeout(500);
    }
    check('test-in-log', /test #\d+/.test(logText) && /HTTP 200/.test(logText), logText.slice(0, 300));
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'webhooks.png'), fullPage: true });
    check('screenshot-saved', fs.statSync(path.join(outDir, 'webhooks.png')).size > 10000);

    await page.click('#webhook-targets button.webhook-delete');
    await page.waitForFunction(() => /deleted/.test(document.getElementById('webhook-msg').textContent), null,
      { timeout: 15000 });
    await page.waitForFunction(() => /No webhook yet/.test(document.getElementById('webhook-targets').textContent),
      null, { timeout: 15000 });
    ok('delete');
    check('no-page-errors', pageErrors.length === 0, pageErrors.join('; '));
  } catch (e) {
    notOk('browser-run', e);
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failures() ? 1 : 0);
})();

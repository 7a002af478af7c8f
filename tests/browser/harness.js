// harness.js - what the browser tests share: TAP-like "ok NAME" / "not ok
// NAME - why" lines with a failure count, and Debian's chromium (headless,
// a throwaway profile) launched by playwright-core.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

let failed = 0;
function ok(name) { console.log('ok ' + name); }
function notOk(name, why) { failed++; console.log('not ok ' + name + ' - ' + String(why).replace(/\n/g, ' ').slice(0, 300)); }
function check(name, cond, why) { if (cond) ok(name); else notOk(name, why || 'condition false'); }
function failures() { return failed; }

// { ctx, profile }: close ctx, then remove profile (close() does both)
async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'l4s-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
    viewport: { width: 1360, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return { ctx, profile };
}

module.exports = { ok, notOk, check, failures, launch };

// Opens grade pages (scripts/grade.py's NAME.html) in headless Chromium with
// the network cut, as a teacher would, and checks that nothing of the
// student's runs: a submission whose cells display script and HTML with
// handlers that would change the page's title, open a dialog or reach the
// network (scripts/check-grader.py writes one) must leave the page as the
// grader wrote it.
//   node check-grade-page.mjs PAGE.html [SCREENSHOT.png]
// For each page it checks: the title is the grader's; no dialog opened; no
// request left the page (file: and data: aside); the notebook is in an
// iframe with an empty sandbox attribute; the grade section is shown; and,
// inside the frame, no script ran (window.mnistfcPwned is unset there).
// Exit status 0 when every page passes.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node check-grade-page.mjs PAGE.html [SCREENSHOT.png] ...');
  process.exit(2);
}
const log = (msg) => console.log(`grade-page-check: ${msg}`);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnistfc-grade-page-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  offline: true,
});
let failed = 0;
try {
  for (let i = 0; i < args.length; i++) {
    const html = path.resolve(args[i]);
    const shot = args[i + 1]?.endsWith('.png') ? path.resolve(args[++i]) : null;
    const problems = [];
    const page = await browser.newPage();
    page.on('dialog', async (d) => { problems.push(`a dialog opened: ${d.message()}`); await d.dismiss(); });
    page.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('about:')) problems.push(`a request left the page: ${u}`);
    });
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await page.waitForTimeout(1000);
    const want = `Grade of ${path.basename(html, '.html')}`;
    const title = await page.title();
    if (title !== want) problems.push(`title ${JSON.stringify(title)}, want ${JSON.stringify(want)}`);
    const frames = await page.evaluate(() => [...document.querySelectorAll('iframe')].map((f) => f.getAttribute('sandbox')));
    if (frames.length !== 1 || frames[0] !== '') problems.push(`iframes ${JSON.stringify(frames)}, want one with sandbox=""`);
    if (!(await page.locator('#grade').isVisible())) problems.push('the grade section is not shown');
    for (const frame of page.frames()) {
      if (await frame.evaluate(() => window.mnistfcPwned !== undefined).catch(() => false)) problems.push(`a script ran in ${frame.url()}`);
    }
    if (shot) await page.screenshot({ path: shot });
    await page.close();
    for (const p of problems) log(`FAIL ${path.basename(html)}: ${p}`);
    if (problems.length) failed++;
    else log(`ok ${path.basename(html)}: nothing of the submission ran`);
  }
} finally {
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

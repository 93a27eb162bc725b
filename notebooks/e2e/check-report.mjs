// Checks HTML reports (scripts/run-notebooks.py --html) in headless Chromium
// with the network cut: every request other than file: and data: is aborted.
//   node check-report.mjs REPORT.html [SCREENSHOT.png] [REPORT2.html SCREENSHOT2.png ...]
// (scripts/check-reports.sh, make report-check). For each report it checks:
//   - the page loads nothing from the network (aborted requests are listed);
//   - KaTeX rendered the math (at least one formula) with no errors, and no raw
//     LaTeX ($...$, $$, \frac, \sum, ...) is left in the visible text;
//   - the table of contents exists and links existing headings, questions included;
//   - the run stamp is there (date, Go/GoMLX/GoNB versions, backend, CPU/GPU,
//     profile, seed, wall time);
//   - code cells are folded or absent, and images show; raw LaTeX is looked
//     for outside the code (a shell line's $(...) is no formula);
//   - the interactive curves: plotly.js is embedded once, every figure
//     (.mnistfc-figure) is drawn by it, and hovering over a point of the first
//     one shows its epoch and value (REPORT_MIN_FIGURES, default 1: how many
//     figures the report must have);
// then saves a screenshot of the top of the page (stamp, contents) and, next
// to it, NAME-math.png: the page scrolled to its first displayed formula.
// Environment: CHROMIUM (default /usr/bin/chromium), REPORT_MIN_MATH (default 1),
// REPORT_CODE=show (code shown on purpose: make report CODE=show).
// Exit status 0 when every report passes.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node check-report.mjs REPORT.html [SCREENSHOT.png] ...');
  process.exit(2);
}
const jobs = [];
for (let i = 0; i < args.length; i++) {
  const html = args[i];
  const shot = args[i + 1]?.endsWith('.png') ? args[++i] : null;
  jobs.push({ html: path.resolve(html), shot: shot && path.resolve(shot) });
}
const minMath = Number(process.env.REPORT_MIN_MATH ?? 1);
const minFigures = Number(process.env.REPORT_MIN_FIGURES ?? 1);
const log = (msg) => console.log(`report-check: ${msg}`);

// Raw LaTeX that must not be visible once KaTeX has run.
const RAW_LATEX = [
  /\$\$/,
  /(^|[^\w$])\$[^$\s][^$\n]{0,300}?\$(?![\w$])/,
  /\\(frac|dfrac|tfrac|sum|prod|int|sigma|mathrm|mathbb|mathbf|text|ln|log|exp|cdot|times|approx|leq|geq|xrightarrow|rightarrow|leftarrow|qquad|quad|big|Big|left|right|begin|end|sqrt|alpha|beta|lambda|partial|nabla|in|max|min|arg|bar|hat|mid)\b/,
];

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnistfc-report-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  offline: true,
});
let failed = 0;
try {
  for (const job of jobs) {
    const problems = await checkOne(job);
    for (const p of problems) log(`FAIL ${path.basename(job.html)}: ${p}`);
    if (problems.length) failed++;
    else log(`ok ${path.basename(job.html)}`);
  }
} finally {
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

// checkFigures checks the interactive curves: plotly.js embedded once, every
// figure drawn, and a hover label with the epoch over a point of the first.
async function checkFigures(page) {
  const problems = [];
  const f = await page.evaluate(() => ({
    loaders: document.querySelectorAll('script[data-mnistfc-plotly]').length,
    plotly: typeof window.Plotly === 'object' && window.Plotly.version,
    figures: document.querySelectorAll('.mnistfc-figure').length,
    drawn: [...document.querySelectorAll('.mnistfc-figure')].filter((el) => el.querySelector('.main-svg')).length,
  }));
  log(`  ${f.figures} interactive figure(s), ${f.drawn} drawn by plotly.js ${f.plotly || '(not loaded)'}; plotly.js embedded ${f.loaders} time(s)`);
  if (f.figures < minFigures) problems.push(`${f.figures} interactive figure(s), want at least ${minFigures}`);
  if (f.figures === 0) return problems;
  if (f.loaders !== 1) problems.push(`plotly.js is embedded ${f.loaders} times, want once`);
  if (f.drawn !== f.figures) problems.push(`${f.figures - f.drawn} of ${f.figures} figure(s) not drawn by plotly.js`);
  if (!f.drawn) return problems;
  // The pixel of a point of the first trace in the first figure.
  const at = await page.evaluate(() => {
    const gd = [...document.querySelectorAll('.mnistfc-figure')].find((el) => el.querySelector('.main-svg'));
    gd.scrollIntoView({ block: 'center' });
    const tr = gd._fullData[0], fl = gd._fullLayout;
    // A point inside the panel: the last one sits on its right edge.
    const i = Math.floor((tr.x.length - 1) / 2);
    const xa = fl[tr.xaxis.replace('x', 'xaxis')], ya = fl[tr.yaxis.replace('y', 'yaxis')];
    const box = gd.getBoundingClientRect();
    return { x: box.left + xa._offset + xa.d2p(tr.x[i]), y: box.top + ya._offset + ya.d2p(tr.y[i]), epoch: tr.x[i] };
  });
  await page.mouse.move(at.x - 30, at.y - 30);
  await page.mouse.move(at.x, at.y, { steps: 5 });
  let hover = '';
  try {
    await page.waitForSelector('.mnistfc-figure .hoverlayer .hovertext', { timeout: 5_000 });
    hover = await page.evaluate(() => document.querySelector('.mnistfc-figure .hoverlayer .hovertext').textContent);
  } catch { /* no label */ }
  log(`  hover over epoch ${at.epoch} of the first figure: ${JSON.stringify(hover)}`);
  if (!new RegExp(`epoch ${at.epoch}: \\d`).test(hover)) problems.push(`hovering over a point shows ${JSON.stringify(hover)}, want "epoch ${at.epoch}: <value>"`);
  return problems;
}

async function checkOne({ html, shot }) {
  const problems = [];
  if (!fs.existsSync(html)) return [`no such file ${html}`];
  const page = await browser.newPage();
  const blocked = [];
  await page.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
    blocked.push(u);
    return route.abort();
  });
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  const t0 = Date.now();
  await page.goto(pathToFileURL(html).href, { waitUntil: 'load', timeout: 60_000 });
  try {
    await page.waitForFunction(() => document.documentElement.hasAttribute('data-math-rendered'), null, { timeout: 30_000 });
  } catch {
    problems.push('math was not rendered within 30 s (no data-math-rendered attribute: KaTeX missing or failed)');
  }
  await page.evaluate(() => document.fonts.ready);
  const r = await page.evaluate(() => {
    const skip = (el) => el.closest('.katex, script, style, noscript, .jp-InputArea, details:not([open]) > :not(summary)');
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || skip(el) || !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      texts.push(n.nodeValue);
    }
    const toc = document.querySelector('nav.mnistfc-toc');
    const links = toc ? [...toc.querySelectorAll('a[href^="#"]')] : [];
    // A fragment names an id as it is or percent-decoded (nbconvert keeps
    // non-ASCII heading text percent-encoded in ids), as browsers resolve it.
    const targets = (a) => {
      const raw = a.getAttribute('href').slice(1);
      let decoded = raw;
      try { decoded = decodeURIComponent(raw); } catch { /* keep raw */ }
      return [raw, decoded];
    };
    const broken = links.filter((a) => !targets(a).some((id) => document.getElementById(id))).map((a) => a.getAttribute('href'));
    const headings = [...document.querySelectorAll('main h2[id], main h3[id]')].filter((h) => !h.closest('header'));
    const linked = new Set(links.flatMap(targets));
    const unlisted = headings.filter((h) => !linked.has(h.id)).map((h) => h.id);
    const stamp = document.querySelector('.mnistfc-stamp');
    const images = [...document.querySelectorAll('.jp-OutputArea img')];
    return {
      text: texts.join(' '),
      math: document.querySelectorAll('.katex').length,
      mathAttr: document.documentElement.getAttribute('data-math-rendered'),
      mathErrors: [...document.querySelectorAll('.katex-error')].map((e) => e.getAttribute('title') || e.textContent).slice(0, 5),
      tocLinks: links.length,
      questions: links.filter((a) => /question/i.test(a.textContent)).length,
      broken,
      unlisted,
      stamp: stamp ? stamp.innerText : '',
      codeCells: document.querySelectorAll('.jp-CodeCell').length,
      visibleCode: [...document.querySelectorAll('.jp-CodeCell .jp-InputArea')].filter((e) => e.checkVisibility()).length,
      folds: document.querySelectorAll('details.mnistfc-code').length,
      images: images.length,
      brokenImages: images.filter((i) => !i.complete || i.naturalWidth === 0).length,
      height: document.documentElement.scrollHeight,
    };
  });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  const size = fs.statSync(html).size;
  log(`${path.basename(html)}: ${(size / 1e6).toFixed(2)} MB, loaded and rendered in ${seconds} s; ` +
    `${r.math} formulas, ${r.tocLinks} contents links (${r.questions} questions), ${r.images} images, ` +
    `${r.codeCells} code cells (${r.folds} folded, ${r.visibleCode} shown), page ${r.height} px tall`);
  if (blocked.length) problems.push(`the page tried to fetch ${blocked.length} URL(s): ${blocked.slice(0, 5).join(', ')}`);
  if (pageErrors.length) problems.push(`page errors: ${pageErrors.slice(0, 3).join(' | ')}`);
  if (r.math < minMath) problems.push(`only ${r.math} rendered formulas (want at least ${minMath})`);
  if (r.mathErrors.length) problems.push(`KaTeX errors: ${r.mathErrors.join(' | ')}`);
  for (const re of RAW_LATEX) {
    const m = r.text.match(re);
    if (m) {
      const at = Math.max(0, m.index - 60);
      problems.push(`raw LaTeX in the visible text (${re}): …${r.text.slice(at, m.index + m[0].length + 60).replace(/\s+/g, ' ')}…`);
    }
  }
  if (r.tocLinks === 0) problems.push('no table of contents (nav.mnistfc-toc with links)');
  if (r.broken.length) problems.push(`contents links to missing headings: ${r.broken.slice(0, 5).join(', ')}`);
  if (r.unlisted.length) problems.push(`headings missing from the contents: ${r.unlisted.slice(0, 5).join(', ')}`);
  if (/question/i.test(r.text) && r.questions === 0) problems.push('the contents list no question');
  for (const [what, re] of [['date', /\d{4}-\d\d-\d\d \d\d:\d\d UTC/], ['wall time', /wall time \d/],
    ['Go version', /Go \d+\.\d+/], ['GoMLX version', /GoMLX v\d/], ['GoNB version', /GoNB v\d/],
    ['backend', /backend \S+/], ['CPU or GPU', /CPU .+|GPU .+/], ['profile', /(fast|full) profile/],
    ['epochs', /\d+ epoch/], ['seed', /seed \d+/]]) {
    if (!re.test(r.stamp)) problems.push(`run stamp without ${what}: ${JSON.stringify(r.stamp.slice(0, 300))}`);
  }
  if (r.visibleCode > 0 && process.env.REPORT_CODE !== 'show') problems.push(`${r.visibleCode} code cell(s) shown; code should be folded or hidden`);
  if (r.brokenImages) problems.push(`${r.brokenImages} image(s) did not load`);
  if (size > 5e6) problems.push(`${(size / 1e6).toFixed(1)} MB, over 5 MB`);
  problems.push(...await checkFigures(page));
  if (shot) {
    fs.mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    // The first displayed formula, scrolled to the top: KaTeX's rendering up close.
    const math = shot.replace(/\.png$/, '-math.png');
    await page.evaluate(() => {
      const el = document.querySelector('.katex-display') || document.querySelector('.katex');
      const cell = el && el.closest('.jp-Cell');
      (cell || el)?.scrollIntoView({ block: 'start' });
    });
    await page.screenshot({ path: math });
    log(`screenshots: ${shot}, ${math}`);
  }
  await page.close();
  return problems;
}

// Runs one notebook through JupyterLab's UI in Chromium and checks the result.
// Started by scripts/e2e-notebooks.sh, which starts JupyterLab and sets:
//   E2E_URL, E2E_TOKEN    the JupyterLab server
//   E2E_NOTEBOOK          notebook path relative to the server's root
//   E2E_SCREENSHOT        where to save the full-page screenshot (PNG)
//   E2E_MIN_IMAGES        figures (images, or interactive curves drawn by plotly.js) the outputs must show at least (default 1)
//   E2E_MIN_FIGURES       interactive curves drawn by plotly.js the outputs must show at least (default 0)
//   E2E_TIMEOUT_S         seconds all cells may take together (default 900)
//   CHROMIUM              browser executable (default /usr/bin/chromium)
// Exit status 0 when every code cell ran, no error shows and enough images do.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = process.env;
const notebook = env.E2E_NOTEBOOK;
const minImages = Number(env.E2E_MIN_IMAGES ?? 1);
const minFigures = Number(env.E2E_MIN_FIGURES ?? 0);
const timeoutMs = Number(env.E2E_TIMEOUT_S ?? 900) * 1000;
const screenshot = env.E2E_SCREENSHOT;
const url = `${env.E2E_URL}/lab/tree/${notebook.split('/').map(encodeURIComponent).join('/')}?reset&token=${env.E2E_TOKEN}`;
// Same idea as scripts/check-notebooks.py: stderr text that means something failed.
const FAILURE_RE = /\b(panic|errors?|fatal|failed|traceback|exit status \d+)\b|command not found|no such file/i;

const started = Date.now();
const secs = () => ((Date.now() - started) / 1000).toFixed(1);
const log = (msg) => console.log(`e2e [${secs()} s] ${msg}`);

const launchArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnistfc-chromium-'));
let context;
const failures = [];

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.CHROMIUM || '/usr/bin/chromium',
    headless: true, // Playwright passes --headless; listed in launchArgs too for plain reading.
    args: launchArgs,
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => log(`page error: ${err.message}`));

  log(`opening ${notebook}`);
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  const panel = page.locator('.jp-NotebookPanel').first();
  await panel.waitFor({ state: 'visible', timeout: 120_000 });
  await panel.locator('.jp-Notebook .jp-CodeCell').first().waitFor({ state: 'visible', timeout: 60_000 });
  log('notebook open; waiting for the kernel');
  await waitForKernel(page, 120_000);
  const nCode = await panel.locator('.jp-Notebook .jp-CodeCell').count();
  log(`kernel connected; ${nCode} code cells`);

  // Run > Run All Cells, through the menu like a person would.
  await page.locator('.lm-MenuBar-itemLabel', { hasText: /^Run$/ }).click();
  await page.locator('.lm-Menu-item:visible', { hasText: /^Run All Cells/ }).first().click();
  log('Run > Run All Cells clicked');

  // Done when no cell is pending ([*]) and the kernel is idle, twice in a row.
  let lastReport = 0;
  let quietPolls = 0;
  let state;
  for (;;) {
    state = await cellStates(page);
    const busy = state.prompts.some((p) => p === '*') || state.kernel !== 'idle';
    quietPolls = busy ? 0 : quietPolls + 1;
    if (quietPolls >= 2) break;
    if (Date.now() - started > timeoutMs) {
      failures.push(`timed out after ${timeoutMs / 1000} s (E2E_TIMEOUT_S); cell prompts: ${state.prompts.join(' ')}, kernel ${state.kernel}`);
      break;
    }
    if (Date.now() - lastReport > 15_000) {
      const done = state.prompts.filter((p) => /^\d+$/.test(p)).length;
      log(`${done}/${state.prompts.length} code cells done, kernel ${state.kernel}`);
      lastReport = Date.now();
    }
    await page.waitForTimeout(1000);
  }
  state.prompts.forEach((p, i) => {
    if (!/^\d+$/.test(p) && state.sources[i].trim() !== '') {
      failures.push(`code cell ${i + 1} has no execution count (prompt [${p}]): not run, or stopped after an earlier error`);
    }
  });
  log(`cells finished: prompts ${state.prompts.map((p) => `[${p}]`).join(' ')}`);

  // Outputs: images shown, and no error or failure on stderr.
  // A figure is an image, or the interactive curves that plotly.js drew in
  // place of their image (JupyterLab runs the outputs' scripts).
  const images = await panel.locator('.jp-OutputArea-output img').count();
  const drawn = await panel.locator('.jp-OutputArea-output .mnistfc-figure.js-plotly-plot').count();
  log(`${images} image(s) and ${drawn} interactive figure(s) drawn by plotly.js in the outputs (want at least ${minImages} in all, ${minFigures} interactive)`);
  if (images + drawn < minImages) failures.push(`${images + drawn} figure(s) in the outputs, expected at least ${minImages}`);
  if (drawn < minFigures) failures.push(`${drawn} interactive figure(s) drawn, expected at least ${minFigures}`);
  // Errors, two ways: what the page shows on stderr (GoNB's compile errors and
  // panics render there too), and the outputs of type "error" in the notebook
  // model behind the page (they look just like stderr in the DOM).
  const shown = await page.evaluate(() =>
    [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map((cell) =>
      [...cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map((out) => out.innerText ?? '').join('\n')));
  const errors = await page.evaluate((nb) => {
    const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === nb);
    const found = [];
    let index = 0;
    for (const cell of panel.content.model.cells) {
      if (cell.type === 'code') {
        index++;
        for (const out of cell.outputs.toJSON()) {
          if (out.output_type === 'error') found.push({ cell: index, text: `${out.ename}: ${out.evalue}` });
        }
      }
    }
    return found;
  }, notebook);
  const oneLine = (t) => t.trim().replace(/\s+/g, ' ').slice(0, 300);
  for (const e of errors) failures.push(`code cell ${e.cell}: error output: ${oneLine(e.text)}`);
  shown.forEach((text, i) => {
    const bad = text.split('\n').filter((line) => FAILURE_RE.test(line));
    if (bad.length) failures.push(`code cell ${i + 1}: failure shown on stderr: ${oneLine(bad.join(' | '))}`);
  });

  // Full-page screenshot: JupyterLab scrolls inside the notebook panel, so
  // grow the window until the whole notebook fits, then take the page.
  if (screenshot) {
    const extra = await page.evaluate(() => {
      const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer') ??
        document.querySelector('.jp-NotebookPanel .jp-Notebook');
      return scroller ? scroller.scrollHeight - scroller.clientHeight : 0;
    });
    await page.setViewportSize({ width: 1280, height: Math.min(900 + Math.max(0, extra) + 40, 12000) });
    await page.evaluate(() => {
      const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
      if (scroller) scroller.scrollTop = 0;
    });
    await page.waitForTimeout(1000);
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    log(`screenshot: ${screenshot}`);
  }
} catch (err) {
  failures.push(`browser test broke: ${err.message.split('\n')[0]}`);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

if (failures.length) {
  for (const f of failures) console.log(`FAIL: ${notebook}: ${f}`);
  console.log(`e2e: ${notebook}: FAILED (${failures.length} problem(s)) in ${secs()} s`);
  process.exit(1);
}
console.log(`e2e: ${notebook}: passed in ${secs()} s`);

// Waits until the notebook's kernel is connected and has answered kernel_info.
// (GoNB reports status "unknown" until the first execution, so "idle" is no
// sign of readiness; the server runs with expose_app_in_browser for this.)
async function waitForKernel(page, ms) {
  await page.waitForFunction((nb) => {
    const panel = [...(window.jupyterapp?.shell?.widgets('main') ?? [])].find((w) => w.context?.path === nb);
    return panel?.sessionContext?.isReady === true && panel.sessionContext.session?.kernel != null;
  }, notebook, { timeout: ms, polling: 250 });
  await page.evaluate(async (nb) => {
    const panel = [...window.jupyterapp.shell.widgets('main')].find((w) => w.context?.path === nb);
    await panel.sessionContext.session.kernel.info; // Resolves on the kernel_info_reply.
  }, notebook);
}

// Prompt of each code cell ("" never run, "*" running or queued, "3" done),
// its source, and the kernel status.
async function cellStates(page) {
  return page.evaluate((nb) => {
    const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];
    const prompts = cells.map((c) => {
      const t = c.querySelector('.jp-InputArea-prompt')?.textContent ?? '';
      const m = t.match(/\[(.*)\]/);
      return m ? m[1].trim() : '';
    });
    const sources = cells.map((c) => c.querySelector('.cm-content')?.textContent ?? '');
    const panel = [...(window.jupyterapp?.shell?.widgets('main') ?? [])].find((w) => w.context?.path === nb);
    const kernel = panel?.sessionContext?.session?.kernel;
    return { prompts, sources, kernel: kernel ? `${kernel.status}` : 'none' };
  }, notebook);
}

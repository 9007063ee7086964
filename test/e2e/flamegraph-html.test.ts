// --out DIR writes flamegraph.html: opened offline in headless Chromium (Debian's
// package, driven over a pipe by puppeteer-core, a maintained DevTools client
// that downloads no browser, rather than hand-written protocol code), a search for the leak's
// function highlights its frame with the report's exact bytes, the tooltip
// gives bytes, allocations and file:line, and a click zooms in. No request
// may leave the page.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { requireBpf } from '../helpers/bpf.js';
import { startCli } from '../helpers/cli.js';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { collect, exited } from '../helpers/process.js';
import { readReport, stacksMentioning } from '../helpers/report.js';
import { scratchDir } from '../helpers/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
const LEAK = 'site_malloc_large';

/** As requireBpf: a developer's run without Chromium skips, CI fails. */
function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  const reason = `${CHROMIUM} is missing (Debian's chromium package: make deps installs it)`;
  if (process.env.CI === 'true') throw new Error(`browser test cannot run in CI: ${reason}`);
  t.skip(reason);
  return false;
}

function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** The page with every request other than its own file refused and recorded. */
async function openOffline(browser: Browser, url: string, strays: string[], errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  await page.setOfflineMode(true);
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    if (request.url() === url) return void request.continue();
    strays.push(request.url());
    return void request.abort();
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(url, { waitUntil: 'load' });
  return page;
}

test('flamegraph.html: search, tooltip and zoom show the leak with its bytes, offline', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t) || !requireChromium(t)) return;
  const e = loadExpectation('allocators');
  const scratch = scratchDir(t);
  const out = path.join(scratch, 'out');
  // Run from elsewhere than the checkout: the library is found from leakhound's own files.
  const child = startCli(['trace', '--out', out, '--', fixtureBinary(e)], { cwd: scratch });
  const stderr = collect(child.stderr);
  child.stdin?.end();
  const run = await exited(child, 20_000);
  assert.equal(run.code, 0, `stderr: ${stderr()}`);

  const report = readReport(path.join(out, 'report.json'));
  const [leak, ...others] = stacksMentioning(report, LEAK);
  assert.ok(leak !== undefined && others.length === 0, `one stack through ${LEAK}`);
  assert.equal(leak.bytes, siteBytes(e.sites.find((site) => site.symbol === LEAK)!));

  // Chromium refuses to run its sandbox as root, which the BPF side needs.
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, pipe: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const url = pathToFileURL(path.join(out, 'flamegraph.html')).href;
  const strays: string[] = [];
  const errors: string[] = [];
  const page = await openOffline(browser, url, strays, errors);
  await page.waitForSelector('#chart svg g.frame');

  await page.type('#term', LEAK);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('details')!.textContent!.startsWith('matched'));
  const total = grouped(report.totals.outstandingBytes);
  const share = ((100 * leak.bytes) / report.totals.outstandingBytes).toFixed(2);
  assert.equal(await page.$eval('#details', (element) => element.textContent), `matched 1 frame: ${grouped(leak.bytes)} bytes of ${total} (${share}%)`);

  // d3-flame-graph fills the frames a search matched with its highlight colour.
  const highlighted = await page.$$eval('#chart g.frame', (frames) =>
    frames.filter((frame) => frame.querySelector('rect')!.getAttribute('fill') === '#E600E6').map((frame) => frame.getAttribute('name')),
  );
  assert.deepEqual(highlighted, [LEAK]);

  const frame = (await page.$(`#chart g.frame[name="${LEAK}"] rect`))!;
  await frame.hover();
  const tip = await page.$eval('.d3-flame-graph-tip', (element) => element.textContent!);
  const site = leak.frames[0]!;
  const lines = tip.split('\n');
  assert.equal(lines[0], LEAK);
  assert.match(lines[1]!, new RegExp(`^${grouped(leak.bytes)} bytes \\(\\d+\\.\\d KiB\\), ${share}%$`));
  assert.equal(lines[2], `${grouped(leak.allocations)} allocation${leak.allocations === 1 ? '' : 's'}`);
  assert.equal(lines[3], `${site.file}:${site.line} (${site.module})`);

  // A click zooms the frame to the chart's whole width.
  const chartWidth = await page.$eval('#chart svg', (svg) => Number(svg.getAttribute('width')));
  await frame.click();
  await page.waitForFunction(
    (name, width) => Math.abs(Number(document.querySelector(`#chart g.frame[name="${name}"] rect`)!.getAttribute('width')) - width) < 0.5,
    {},
    LEAK,
    chartWidth,
  );

  assert.deepEqual(strays, [], 'no request left the page');
  assert.deepEqual(errors, [], 'no error in the page');
});

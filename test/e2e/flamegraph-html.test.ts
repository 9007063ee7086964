// --out DIR writes flamegraph.html. Opened offline in headless Chromium
// (Debian's package, driven over a pipe by puppeteer-core, a maintained
// DevTools client that downloads no browser, rather than protocol code of our
// own): a search for the leak's function highlights its frame with the
// report's exact bytes, the tooltip gives bytes, allocations and file:line,
// and a click zooms in; in kernel mode the root weighs every stack. No
// request may leave the page.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { humanBytes } from '../../src/render/format.js';
import type { Report as FullReport } from '../../src/report/types.js';
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

interface OfflinePage {
  page: Page;
  /** Requests for anything but the page's own file, refused. */
  strays: string[];
  /** Uncaught exceptions and console errors (a Content-Security-Policy refusal among them). */
  errors: string[];
}

/** `file` in a fresh headless Chromium, offline, with the chart drawn. */
async function browse(t: TestContext, file: string): Promise<OfflinePage> {
  // Chromium refuses to run its sandbox as root, which the BPF side needs.
  const browser: Browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, pipe: true, args: ['--no-sandbox'] });
  t.after(() => browser.close());
  const url = pathToFileURL(file).href;
  const page = await browser.newPage();
  const strays: string[] = [];
  const errors: string[] = [];
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
  await page.waitForSelector('#chart svg g.frame');
  await settled(page);
  return { page, strays, errors };
}

/** Until d3 has no transition left on the chart: frames grow from zero width
 * while one runs, and a zero-width frame cannot be hovered (a loaded machine
 * stretches the 300 ms). d3 keeps a node's transitions in `__transition`. */
async function settled(page: Page): Promise<void> {
  await page.waitForFunction(() =>
    Array.from(document.querySelectorAll('#chart g.frame, #chart g.frame rect')).every((node) => !('__transition' in node)),
  );
}

/** The tooltip's lines over the widest frame named `name` (a kernel name such
 * as an entry point recurs deeper in other stacks, in frames too narrow to draw). */
async function tooltipOver(page: Page, name: string): Promise<string[]> {
  const rects = await page.$$(`#chart g.frame[name="${name}"] rect`);
  const widths = await Promise.all(rects.map((rect) => rect.evaluate((element) => Number(element.getAttribute('width')))));
  assert.ok(rects.length > 0, `no frame named ${name}`);
  await rects[widths.indexOf(Math.max(...widths))].hover();
  const text = await page.$eval('.d3-flame-graph-tip', (element) => element.textContent!);
  // Off the chart again, so the tooltip goes and covers nothing.
  await page.mouse.move(0, 0);
  return text.split('\n');
}

function noTraffic(offline: OfflinePage): void {
  assert.deepEqual(offline.strays, [], 'no request left the page');
  assert.deepEqual(offline.errors, [], 'no error in the page');
}

/** Runs the CLI from `cwd` to its end, and checks it exited 0. */
async function runFrom(cwd: string, args: string[]): Promise<void> {
  const child = startCli(args, { cwd });
  const stderr = collect(child.stderr);
  child.stdin?.end();
  const run = await exited(child, 30_000);
  assert.equal(run.code, 0, `stderr: ${stderr()}`);
}

test('flamegraph.html: search, tooltip and zoom show the leak with its bytes, offline', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t) || !requireChromium(t)) return;
  const e = loadExpectation('allocators');
  const scratch = scratchDir(t);
  const out = path.join(scratch, 'out');
  // Run from elsewhere than the checkout: the library is found from leakhound's own files.
  await runFrom(scratch, ['trace', '--out', out, '--', fixtureBinary(e)]);

  const report = readReport(path.join(out, 'report.json'));
  const [leak, ...others] = stacksMentioning(report, LEAK);
  assert.ok(leak !== undefined && others.length === 0, `one stack through ${LEAK}`);
  assert.equal(leak.bytes, siteBytes(e.sites.find((site) => site.symbol === LEAK)!));

  const offline = await browse(t, path.join(out, 'flamegraph.html'));
  const { page } = offline;

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

  const lines = await tooltipOver(page, LEAK);
  const site = leak.frames[0]!;
  assert.equal(lines[0], LEAK);
  assert.match(lines[1]!, new RegExp(`^${grouped(leak.bytes)} bytes \\(\\d+\\.\\d KiB\\), ${share}%$`));
  assert.equal(lines[2], `${grouped(leak.allocations)} allocation${leak.allocations === 1 ? '' : 's'}`);
  assert.equal(lines[3], `${site.file}:${site.line} (${site.module})`);

  // A click zooms the frame to the chart's whole width.
  const chartWidth = await page.$eval('#chart svg', (svg) => Number(svg.getAttribute('width')));
  await page.click(`#chart g.frame[name="${LEAK}"] rect`);
  await page.waitForFunction(
    (name, width) => Math.abs(Number(document.querySelector(`#chart g.frame[name="${name}"] rect`)!.getAttribute('width')) - width) < 0.5,
    {},
    LEAK,
    chartWidth,
  );

  noTraffic(offline);
});

test('flamegraph.html in kernel mode: the root weighs every stack, kernel frames say their module', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t) || !requireChromium(t)) return;
  const scratch = scratchDir(t);
  const out = path.join(scratch, 'out');
  await runFrom(scratch, ['kernel', '--duration', '1', '--out', out]);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as FullReport;
  assert.equal(report.mode, 'kernel');
  const bytes = report.stacks.reduce((sum, stack) => sum + stack.bytes, 0);
  const allocations = report.stacks.reduce((sum, stack) => sum + stack.allocations, 0);
  assert.ok(bytes > 0, 'the system allocated something in a second');

  const offline = await browse(t, path.join(out, 'flamegraph.html'));
  const root = await tooltipOver(offline.page, 'all');
  assert.deepEqual(root.slice(0, 3), ['all', `${grouped(bytes)} bytes (${humanBytes(bytes)}), 100.00%`, `${grouped(allocations)} allocation${allocations === 1 ? '' : 's'}`]);
  // The outermost frame of the widest whole stack stands right above the root (the first of its name, breadth first).
  const outermost = report.stacks.find((stack) => !stack.truncated && stack.frames.at(-1)?.symbol)!.frames.at(-1)!;
  const lines = await tooltipOver(offline.page, outermost.symbol!);
  assert.ok(lines.includes(`+0x${outermost.offset.toString(16)} (${outermost.module})`), lines.join(' | '));
  noTraffic(offline);
});

// The resource sections' outputs (issue 20): --out DIR adds fds.folded and
// fds.svg (descriptors), mappings.folded and mappings.svg (bytes of the
// mappings that may leak: anonymous and file ones), through the fixtures'
// sites and adding up to the report's figures; --no-fds and --no-mappings
// leave their section and its files out, and the rest of the report as it
// was.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { runCli } from '../helpers/cli.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { readReport, siteFigures, type Report } from '../helpers/report.js';
import { readFolded, withFds, withMappings, type ResourceReport } from '../helpers/resources.js';
import { scratchDir } from '../helpers/tmp.js';
import { parseXml } from '../helpers/xml-wellformed.js';

const FDS = path.join(fixtureBinaries, 'fds');
const MAPPINGS = path.join(fixtureBinaries, 'mappings');
const FD_SITES = ['site_open', 'site_tcp_accept', 'site_pipe', 'site_memfd', 'site_recvmsg'];
/** Anonymous and file mappings: those that may leak, which the graph shows (the allocator's, thread stacks and the loader's are shown apart). */
const MAPPING_SITES = ['site_mmap_small', 'site_mmap_large', 'site_mmap_file', 'site_mremap_grow', 'site_partial_unmap'];

/** `leakhound trace --out DIR/out [options] -- command` (DIR made here): the directory and its report. */
async function traceOut(options: string[], command: string[], dir: string): Promise<{ out: string; report: Report }> {
  mkdirSync(dir);
  const out = path.join(dir, 'out');
  const run = await runCli(['trace', '--out', out, ...options, '--', ...command], '', 60_000);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  return { out, report: readReport(path.join(out, 'report.json')) };
}

/** The folded file goes through each site and adds up to `total`; the SVG is well-formed and names each site. */
function assertGraphs(out: string, name: string, sites: string[], total: number): void {
  const folded = readFolded(path.join(out, `${name}.folded`));
  for (const site of sites) assert.ok(folded.some((line) => line.frames.includes(site)), `${name}.folded goes through ${site}`);
  assert.equal(folded.reduce((n, line) => n + line.count, 0), total, `${name}.folded adds up to the report's figure`);
  const svg = readFileSync(path.join(out, `${name}.svg`), 'utf8');
  assert.equal(parseXml(svg).name, 'svg');
  for (const site of sites) assert.ok(svg.includes(site), `${name}.svg names ${site}`);
}

test('resources out: --out writes fds.folded and fds.svg (descriptors), mappings.folded and mappings.svg (bytes that may leak)', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const fds = await traceOut([], [FDS, dir], path.join(dir, 'fds'));
  assertGraphs(fds.out, 'fds', FD_SITES, withFds(fds.report).outstanding);

  const mappings = await traceOut([], [MAPPINGS], path.join(dir, 'mappings'));
  const mayLeak = withMappings(mappings.report).stacks.filter((s) => s.kind === 'anonymous' || s.kind === 'file');
  assertGraphs(mappings.out, 'mappings', MAPPING_SITES, mayLeak.reduce((n, s) => n + s.bytes, 0));
});

test('resources out: --no-fds leaves the descriptors out, and --no-mappings the mappings', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const noFds = await traceOut(['--no-fds'], [FDS, dir], path.join(dir, 'no-fds'));
  assert.equal((noFds.report as ResourceReport).fds ?? null, null, 'no fds section');
  assert.ok(!existsSync(path.join(noFds.out, 'fds.folded')) && !existsSync(path.join(noFds.out, 'fds.svg')), 'no fds files');
  withMappings(noFds.report);

  const noMappings = await traceOut(['--no-mappings'], [MAPPINGS], path.join(dir, 'no-mappings'));
  assert.equal((noMappings.report as ResourceReport).mappings ?? null, null, 'no mappings section');
  assert.ok(!existsSync(path.join(noMappings.out, 'mappings.folded')) && !existsSync(path.join(noMappings.out, 'mappings.svg')), 'no mappings files');
  withFds(noMappings.report);
  // The heap is traced as ever: the large block is held at its site.
  assert.deepEqual(siteFigures(noMappings.report, 'site_large_malloc'), { bytes: 256 * 1024, allocations: 1 });
});

// Code built with -fcf-protection (all of glibc on Ubuntu, Fedora and RHEL;
// every operator new in Debian's libstdc++) begins each function with
// endbr64, which the kernel single-steps (issue 18). Probes go past it, and
// the figures stay exact: the C++ fixture with every form of operator new,
// and the allocators fixture on an interposed allocator built with CET.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertReportMatches } from '../helpers/check-report.js';
import { fixtureBinary, loadExpectation } from '../helpers/expectations.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { traceCommand } from '../helpers/trace.js';

const CET_ALLOCATOR = path.join(fixtureBinaries, 'libcetmalloc.so');

/** The --verbose line that says where a function's probes went. */
function probeLine(stderr: string, symbol: string): string {
  const line = stderr.split('\n').find((l) => l.startsWith(`leakhound: ${symbol}: probe at `));
  assert.ok(line, `no probe line for ${symbol} in:\n${stderr}`);
  return line;
}

/** Probed at an emulated instruction right after the endbr64 at the entry. */
function assertPastEndbr64(stderr: string, symbols: string[]): void {
  for (const symbol of symbols) assert.match(probeLine(stderr, symbol), /probe at .+ at entry\+\d+ \(after endbr64[;)]/, symbol);
}

/**
 * Runs `body` with the CET allocator preloaded into every process the CLI
 * starts: the command, and leakhound's own node, which the allocator serves
 * as glibc would (it forwards to glibc's entry points).
 */
async function preloaded<T>(body: () => Promise<T>): Promise<T> {
  process.env.LD_PRELOAD = CET_ALLOCATOR;
  try {
    return await body();
  } finally {
    delete process.env.LD_PRELOAD;
  }
}

test('cet: every operator new past its endbr64 but the nothrow wrappers, and new-forms exact', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('new-forms');
  const { run, report } = await traceCommand(t, [fixtureBinary(e)], ['--verbose']);
  assert.equal(run.code, e.exitCode, run.stderr);
  assertReportMatches(report, e);
  assertPastEndbr64(run.stderr, ['_Znwm', '_Znam', '_ZnwmSt11align_val_t', '_ZnamSt11align_val_t']);
  // They move the stack pointer before anything emulated, and stay probed
  // so that the code that said `new` heads the stack (make_spare_* above).
  for (const symbol of ['_ZnwmRKSt9nothrow_t', '_ZnamSt11align_val_tRKSt9nothrow_t']) {
    assert.match(probeLine(run.stderr, symbol), /probe at entry \(endbr64 is single-stepped: .* changes rsp\)/, symbol);
  }
});

test('cet: the preloaded CET allocator is probed past endbr64, and the allocators fixture stays exact', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('allocators');
  const { run, report } = await preloaded(() => traceCommand(t, [fixtureBinary(e)], ['--verbose']));
  assert.equal(run.code, e.exitCode, run.stderr);
  assert.match(run.stderr, /attached to PID \d+ \(\d+ probes on \S+\/libcetmalloc\.so\)/);
  assertReportMatches(report, e);
  assertPastEndbr64(run.stderr, ['malloc', 'free', 'calloc', 'realloc', 'posix_memalign', 'aligned_alloc', 'memalign', 'valloc', 'pvalloc']);
  // Its multiply overwrites rdx, the count the entry program reads.
  assert.match(probeLine(run.stderr, 'reallocarray'), /probe at entry \(endbr64 is single-stepped: mul rdx at entry\+\d+ changes rdx\)/);
});

test('cet: C++ on the preloaded CET allocator: operator new and the malloc inside it counted once', { timeout: 90_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const e = loadExpectation('new-forms');
  const { run, report } = await preloaded(() => traceCommand(t, [fixtureBinary(e)]));
  assert.equal(run.code, e.exitCode, run.stderr);
  assertReportMatches(report, e);
});

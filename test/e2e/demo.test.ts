// The demo (built -O2 like a real server) runs to its end under leakhound and
// its three leaks show up with their whole call path. Its figures are not
// pinned here: the fixtures do that; this checks stacks through optimized code.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { assertStacksSane } from '../helpers/check-report.js';
import { demoSources } from '../helpers/paths.js';
import { stacksAt } from '../helpers/report.js';
import { isSymbol } from '../helpers/symbols.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';

const leaks = [
  ['cache_put', 'render_page', 'handle_get', 'dispatch', 'serve', 'main'],
  ['read_body', 'handle_upload', 'dispatch', 'serve', 'main'],
  ['issue_token', 'handle_login', 'dispatch', 'serve', 'main'],
];

test('demo: the leaky server leaks at its three sites, with full stacks', { timeout: 40_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const out = scratchDir(t);
  execFileSync('make', ['-s', '-C', demoSources, `OUT=${out}`], { stdio: 'inherit' });
  const { run, report } = await traceCommand(t, [path.join(out, 'leaky')]);
  assert.equal(run.code, 0, `stderr: ${run.stderr}`);
  assert.match(run.stdout, /^leaky: served \d+ pages, \d+ uploads, \d+ logins$/m);
  for (const chain of leaks) {
    const stacks = stacksAt(report, chain[0]!);
    assert.ok(stacks.length > 0, `a stack at ${chain[0]}`);
    for (const stack of stacks) {
      const names = stack.frames.slice(0, chain.length).map((f) => f.symbol);
      assert.ok(
        chain.every((name, i) => isSymbol(names[i], name)),
        `stack at ${chain[0]}: ${JSON.stringify(names)}`,
      );
    }
  }
  assert.deepEqual(stacksAt(report, 'render_page'), [], "render_page's scratch buffer is freed");
  assert.equal(report.totals.lostEvents, 0);
  assertStacksSane(report);
});

// The shipped alert rules, checked by Prometheus's own promtool against the
// series in examples/prometheus/leakhound.rules.test.yml; and a weakened
// copy of the rules, which that test file must catch.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import { PROMTOOL, requirePrometheusTool } from '../helpers/prometheus.js';
import { repoRoot } from '../helpers/paths.js';
import { scratchDir } from '../helpers/tmp.js';

const examples = path.join(repoRoot, 'examples/prometheus');

function promtool(dir: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ['test', 'rules', 'leakhound.rules.test.yml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('promtool test rules passes on the shipped rules', (t) => {
  if (!requirePrometheusTool(t, PROMTOOL)) return;
  const run = promtool(examples);
  assert.equal(run.status, 0, run.output);
  assert.match(run.output, /SUCCESS/);
});

test('the rule tests catch a stack rule that would fire on a flat cache', (t) => {
  if (!requirePrometheusTool(t, PROMTOOL)) return;
  const dir = scratchDir(t);
  copyFileSync(path.join(examples, 'leakhound.rules.test.yml'), path.join(dir, 'leakhound.rules.test.yml'));
  const rules = readFileSync(path.join(examples, 'leakhound.rules.yml'), 'utf8');
  const weakened = rules.replace('deriv(leakhound_stack_outstanding_bytes{stack!="[other stacks]"}[10m]) > 0', 'deriv(leakhound_stack_outstanding_bytes{stack!="[other stacks]"}[10m]) >= 0');
  assert.notEqual(weakened, rules);
  writeFileSync(path.join(dir, 'leakhound.rules.yml'), weakened);
  const run = promtool(dir);
  assert.equal(run.status, 1, run.output);
  assert.match(run.output, /cache_insert 4971cb40/);
});

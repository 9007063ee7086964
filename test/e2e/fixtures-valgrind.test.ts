// Cross-checks the fixtures' expectation files against valgrind's memcheck:
// per site, bytes and blocks held at exit; freed sites in no record; the
// "in use at exit" total. Needs no BPF; skipped where valgrind is missing.
// pvalloc.c is left out: valgrind 3.19 aborts on pvalloc (see README.md).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { fixtureBinary, loadExpectation, siteBytes } from '../helpers/expectations.js';
import { lineMatching } from '../helpers/process.js';
import { isSymbol } from '../helpers/symbols.js';
import { scratchDir } from '../helpers/tmp.js';
import { memcheck, valgrindMissing } from '../helpers/valgrind.js';

/** Takes the attach fixture through its phases, as the --pid tests do. */
async function releaseAttachFixture(child: ChildProcess): Promise<void> {
  await lineMatching(child.stdout!, /^ready \d+$/, 30_000);
  const done = lineMatching(child.stdout!, /^done$/, 30_000);
  child.kill('SIGUSR1');
  await done;
}

for (const name of ['allocators', 'threads', 'widgets', 'attach', 'new-forms']) {
  test(`valgrind: ${name}.expect.json agrees with memcheck`, { timeout: 90_000 }, async (t) => {
    const missing = valgrindMissing();
    if (missing) return t.skip(missing);
    const e = loadExpectation(name);
    const drive = name === 'attach' ? releaseAttachFixture : undefined;
    const result = await memcheck([fixtureBinary(e), ...e.args], scratchDir(t), drive);
    assert.equal(result.exitCode, e.exitCode);

    // Valgrind sees from the start: it also holds what was made before an attach.
    const before = e.beforeAttach ?? [];
    for (const site of [...e.sites, ...before]) {
      const records = result.records.filter((r) => isSymbol(r.frames[0], site.symbol));
      const figures = records.reduce((sum, r) => ({ bytes: sum.bytes + r.bytes, blocks: sum.blocks + r.blocks }), {
        bytes: 0,
        blocks: 0,
      });
      assert.deepEqual(figures, { bytes: siteBytes(site), blocks: site.blocks }, `memcheck at ${site.symbol}`);
    }
    for (const symbol of e.absent.filter((s) => !before.some((b) => b.symbol === s))) {
      const records = result.records.filter((r) => r.frames.some((f) => isSymbol(f, symbol)));
      assert.deepEqual(records, [], `memcheck has nothing held from ${symbol}`);
    }
    assert.deepEqual(result.inUseAtExit, {
      bytes: e.inUseAtExit.bytes + before.reduce((sum, s) => sum + siteBytes(s), 0),
      blocks: e.inUseAtExit.blocks + before.reduce((sum, s) => sum + s.blocks, 0),
    });
  });
}

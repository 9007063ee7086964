// The fallback file: private to its owner, never an existing name, in the
// first directory that takes it.
import assert from 'node:assert/strict';
import { lstatSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { saveFallback } from '../../src/output/fallback.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'leakhound-fallback-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

test('the report is saved with mode 0600 under a name with pid and time', async () => {
  const path = await saveFallback('{"schema":1}\n', 'json', [join(scratch, 'absent'), scratch]);
  assert.equal(join(scratch, basename(path)), path, 'the first directory that exists');
  assert.match(basename(path), new RegExp(`^leakhound-report-${process.pid}-\\d{8}T\\d{6}Z\\.json$`));
  assert.equal(readFileSync(path, 'utf8'), '{"schema":1}\n');
  assert.equal(lstatSync(path).mode & 0o777, 0o600);
});

test('with no directory to take it, the last error is thrown and nothing is left', async () => {
  await assert.rejects(saveFallback('text', 'txt', [join(scratch, 'none'), join(scratch, 'neither')]), { code: 'ENOENT' });
  assert.deepEqual((await readdir(scratch)).filter((name) => name.endsWith('.txt')), []);
});

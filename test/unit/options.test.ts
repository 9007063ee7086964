import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseNumber, readCommonOptions } from '../../src/cli/options.js';
import { LeakhoundError } from '../../src/errors.js';

const usage = (pattern: RegExp) => (error: unknown) => error instanceof LeakhoundError && error.code === 'USAGE' && pattern.test(error.message);

test('numbers: whole, positive, bounded', () => {
  assert.equal(parseNumber('top', '5', { integer: true, positive: true }), 5);
  assert.equal(parseNumber('duration', '0.5', { positive: true }), 0.5);
  assert.equal(parseNumber('x', undefined), null);
  assert.throws(() => parseNumber('top', '-1', { integer: true, positive: true }), usage(/--top "-1" is not a positive whole number/));
  assert.throws(() => parseNumber('duration', 'abc', { positive: true }), usage(/--duration "abc"/));
  assert.throws(() => parseNumber('top', '0', { integer: true, positive: true }), usage(/positive/));
  assert.throws(() => parseNumber('min-size', '1.5', { integer: true }), usage(/whole/));
  assert.throws(() => parseNumber('min-size', '1e400', { integer: true }), usage(/min-size/));
});

test('numbers: an exponent is a number, and every bound is named', () => {
  assert.equal(parseNumber('duration', '1e9', { positive: true }), 1e9);
  assert.equal(parseNumber('duration', '2.5E+3', { positive: true }), 2500);
  assert.equal(parseNumber('sample-every', '4294967295', { integer: true, positive: true, max: 2 ** 32 - 1 }), 2 ** 32 - 1);
  assert.throws(() => parseNumber('sample-every', '4294967296', { integer: true, positive: true, max: 2 ** 32 - 1 }), (error: unknown) => {
    const e = error as LeakhoundError;
    return e.code === 'USAGE' && e.message === '--sample-every 4294967296 is out of range' && e.hint === 'use 1 to 4,294,967,295';
  });
  assert.throws(() => parseNumber('older-than', '1e16'), usage(/--older-than 1e16 is out of range/));
  assert.throws(() => parseNumber('duration', '1e-3', { positive: true }), usage(/is not a positive number/));
  assert.throws(() => readCommonOptions({ 'max-stacks': String(2 ** 27 + 1) }), usage(/--max-stacks 134217729 is out of range/));
  assert.equal(readCommonOptions({ 'max-stacks': String(2 ** 27) }).maxStacks, 2 ** 27);
});

test('common options convert seconds and check ranges', () => {
  const options = readCommonOptions({ duration: '2', interval: '0.5', 'min-size': '8', 'max-size': '64', 'older-than': '100', top: '3' });
  assert.equal(options.durationMs, 2000);
  assert.equal(options.intervalMs, 500);
  assert.equal(options.top, 3);
  assert.equal(options.minSize, 8);
  assert.equal(options.maxSize, 64);
  assert.equal(options.olderThanMs, 100);
  assert.throws(() => readCommonOptions({ 'min-size': '10', 'max-size': '5' }), usage(/larger than --max-size/));
  assert.throws(() => readCommonOptions({ json: '' }), usage(/--json/));
});

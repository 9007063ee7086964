// A `leakhound.report/v1` document read back from disk (for diff and convert).
// Checked as far as those commands rely on it: the stacks and their frames.
// Anything else is refused in one line, as a usage error, before any output.
import { readFile } from 'node:fs/promises';

import { LeakhoundError } from '../errors.js';
import { systemMessage } from '../output/errno.js';
import { REPORT_SCHEMA, type Report } from './types.js';

const HINT = 'give a report.json that leakhound trace or leakhound kernel wrote (--json FILE or --out DIR)';

function refuse(path: string, what: string): never {
  throw new LeakhoundError('USAGE', `${path} is not a leakhound report: ${what}`, HINT);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const nullableString = (value: unknown) => value === null || typeof value === 'string';

function isAllocated(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && isCount(value.bytes) && isCount(value.allocations);
}

function isFrame(frame: unknown): boolean {
  return (
    isRecord(frame) &&
    typeof frame.address === 'string' &&
    /^0x[0-9a-f]+$/i.test(frame.address) &&
    nullableString(frame.symbol) &&
    nullableString(frame.module) &&
    nullableString(frame.file) &&
    (frame.line === null || isCount(frame.line)) &&
    isCount(frame.offset) &&
    (frame.buildId === undefined || (typeof frame.buildId === 'string' && /^[0-9a-f]+$/.test(frame.buildId)))
  );
}

/** Where a list of stacks named `name` breaks the contract, or null. */
function stacksBreach(stacks: unknown[], name: string): string | null {
  for (const [i, stack] of stacks.entries()) {
    const where = `${name}[${i}]`;
    if (!isAllocated(stack)) return `${where} has no bytes and allocations`;
    const { truncated, partial, frames, allocated } = stack as Record<string, unknown>;
    if (typeof truncated !== 'boolean' || typeof partial !== 'boolean' || !Array.isArray(frames)) return `${where} has no frames`;
    if (allocated !== undefined && !isAllocated(allocated)) return `${where}.allocated has no bytes and allocations`;
    const bad = frames.findIndex((frame) => !isFrame(frame));
    if (bad >= 0) return `${where}.frames[${bad}] is not a frame`;
  }
  return null;
}

/** Where the document breaks the contract, or null. */
function contractBreach(doc: Record<string, unknown>): string | null {
  if (doc.mode !== 'user' && doc.mode !== 'kernel') return `mode ${JSON.stringify(doc.mode)} is neither user nor kernel`;
  if (!isRecord(doc.totals) || !isCount(doc.totals.outstandingBytes) || !isCount(doc.totals.outstandingAllocations)) return 'totals are missing';
  if (!isRecord(doc.target) || typeof doc.durationMs !== 'number') return 'target or durationMs is missing';
  if (!Array.isArray(doc.stacks)) return 'stacks is not a list';
  if (doc.churnStacks !== undefined && !Array.isArray(doc.churnStacks)) return 'churnStacks is not a list';
  if (doc.churnOmitted !== undefined && !(isAllocated(doc.churnOmitted) && isCount(doc.churnOmitted.stacks))) return 'churnOmitted has no stacks, bytes and allocations';
  return stacksBreach(doc.stacks, 'stacks') ?? stacksBreach(doc.churnStacks ?? [], 'churnStacks');
}

/** Parses and checks one report; `path` names it in any error. */
export function parseReport(text: string, path: string): Report {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    refuse(path, `not JSON (${(error as Error).message})`);
  }
  if (!isRecord(doc)) refuse(path, 'not a JSON object');
  if (doc.schema !== REPORT_SCHEMA) refuse(path, `schema ${JSON.stringify(doc.schema ?? null)}, not ${REPORT_SCHEMA}`);
  const breach = contractBreach(doc);
  if (breach !== null) refuse(path, breach);
  return doc as unknown as Report;
}

export async function readReport(path: string): Promise<Report> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new LeakhoundError('USAGE', `cannot read ${path}: ${systemMessage(error)}`, HINT);
  }
  return parseReport(text, path);
}

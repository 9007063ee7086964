// The text report's sections on descriptors, mappings and invalid frees,
// each present when it was traced.
import { LEAK_MAPPING_KINDS, type FdReport, type Frame, type InvalidFreeReport, type MappingReport, type MappingStackReport, type Report } from '../report/types.js';
import { countOf, groupDigits, humanBytes } from './format.js';
import { stackFrameLines } from './frame-text.js';
import { moreStacks, rankedBlocks } from './ranked.js';

function bytesText(bytes: number): string {
  return `${countOf(bytes, 'byte')} (${humanBytes(bytes)})`;
}

function fdLines(fds: FdReport, mode: Report['mode'], top: number): string[] {
  return [
    '',
    `descriptors: ${countOf(fds.outstanding, 'descriptor')} made while tracing still open (${groupDigits(fds.opened)} opened, ${groupDigits(fds.closed)} closed)`,
    ...rankedBlocks(
      fds.stacks,
      top,
      (stack, rank) => [
        `#${rank}  ${countOf(stack.count, 'descriptor')}: ${Object.entries(stack.kinds).map(([kind, n]) => `${n} ${kind}`).join(', ')}`,
        `    e.g. ${stack.examples.join(', ')}`,
        ...stackFrameLines(stack, mode),
      ],
      (hidden) => moreStacks(hidden, (stack) => stack.count, 'descriptor'),
    ),
  ];
}

function mappingBlocks(stacks: MappingStackReport[], mode: Report['mode'], top: number): string[] {
  return rankedBlocks(
    stacks,
    top,
    (stack, rank) => [`#${rank}  ${bytesText(stack.bytes)} in ${countOf(stack.count, `${stack.kind} mapping`)}`, ...stackFrameLines(stack, mode)],
    (hidden) => moreStacks(hidden, (stack) => stack.bytes, 'byte'),
  );
}

/** Mappings that may be leaks first; those that are not, apart. */
function mappingLines(mappings: MappingReport, mode: Report['mode'], top: number): string[] {
  const leaks = mappings.stacks.filter((stack) => LEAK_MAPPING_KINDS.has(stack.kind));
  const apart = mappings.stacks.filter((stack) => !LEAK_MAPPING_KINDS.has(stack.kind));
  const lines = ['', `mappings: ${bytesText(mappings.outstandingBytes)} made while tracing still mapped, in ${countOf(mappings.outstanding, 'mapping')}`];
  lines.push(...mappingBlocks(leaks, mode, top));
  if (apart.length > 0) {
    lines.push('', "shown apart, not leaks: the allocator's own (its blocks count as heap above), thread stacks, the loader's");
    lines.push(...mappingBlocks(apart, mode, top));
  }
  return lines;
}

function invalidFreeBlock(free: InvalidFreeReport, rank: number, mode: Report['mode']): string[] {
  // A free's stack carries no walk flags in the report: its frames are all there is.
  const frameLines = (frames: Frame[]) => stackFrameLines({ frames, truncated: false, partial: false }, mode);
  const what = free.kind === 'double-free' ? `double free of ${free.address}` : `free of ${free.address}, a pointer the allocator never returned`;
  const lines = [`#${rank}  ${what}`, ...frameLines(free.frames)];
  if (free.previousFree !== null) lines.push('  freed first at:', ...frameLines(free.previousFree.frames));
  return lines;
}

function invalidFreeLines(frees: InvalidFreeReport[], omitted: number, mode: Report['mode'], top: number): string[] {
  const lines = ['', `invalid frees: ${frees.length + omitted === 0 ? 'none' : groupDigits(frees.length + omitted)}`];
  lines.push(
    ...rankedBlocks(
      frees,
      top,
      (free, rank) => invalidFreeBlock(free, rank, mode),
      (hidden) => `(${countOf(hidden.length + omitted, 'more invalid free')} not shown)`,
    ),
  );
  if (omitted > 0 && frees.length <= top) lines.push('', `(${countOf(omitted, 'more invalid free')} not kept)`);
  return lines;
}

export function resourceTextLines(report: Report, top: number): string[] {
  return [
    ...(report.fds ? fdLines(report.fds, report.mode, top) : []),
    ...(report.mappings ? mappingLines(report.mappings, report.mode, top) : []),
    ...(report.invalidFrees ? invalidFreeLines(report.invalidFrees, report.invalidFreesOmitted ?? 0, report.mode, top) : []),
  ];
}

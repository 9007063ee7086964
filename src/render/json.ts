// The `leakhound.report/v1` JSON document. Objects are rebuilt field by field
// so the key order is the schema's, whatever order the report was built in,
// and nothing outside the schema leaks into the file.

import {
  REPORT_SCHEMA,
  type FdReport,
  type Frame,
  type InvalidFreeReport,
  type MappingReport,
  type ProcessReport,
  type Report,
  type StackReport,
} from '../report/types.js';
import { historyJson, processMemoryJson, suspectJson } from './growth-json.js';
import { oomJson } from './oom-section.js';
import { classesJson, reachabilityJson } from './reachability-json.js';

function frameJson(frame: Frame): Frame {
  const json: Frame = {
    address: frame.address,
    symbol: frame.symbol,
    module: frame.module,
    file: frame.file,
    line: frame.line,
    offset: frame.offset,
  };
  if (frame.inlined) json.inlined = true;
  if (frame.buildId !== undefined) json.buildId = frame.buildId;
  return json;
}

/** The frames and what is known of their walk, which end every kind of stack. */
function walkJson(stack: Pick<StackReport, 'frames' | 'truncated' | 'partial'>): Pick<StackReport, 'frames' | 'truncated' | 'partial'> {
  return { frames: stack.frames.map(frameJson), truncated: stack.truncated, partial: stack.partial };
}

function stackJson(stack: StackReport): StackReport {
  const json: StackReport = { bytes: stack.bytes, allocations: stack.allocations, ...walkJson(stack) };
  if (stack.cache !== undefined) json.cache = stack.cache;
  if (stack.pids !== undefined) json.pids = [...stack.pids];
  if (stack.reachability !== undefined) json.reachability = classesJson(stack.reachability);
  if (stack.history !== undefined) json.history = historyJson(stack.history);
  if (stack.allocated !== undefined) json.allocated = { bytes: stack.allocated.bytes, allocations: stack.allocated.allocations };
  return json;
}

function processJson(process: ProcessReport): ProcessReport {
  return {
    pid: process.pid,
    command: process.command,
    exitCode: process.exitCode,
    outstandingBytes: process.outstandingBytes,
    outstandingAllocations: process.outstandingAllocations,
  };
}

function fdsJson(fds: FdReport): FdReport {
  return {
    outstanding: fds.outstanding,
    opened: fds.opened,
    closed: fds.closed,
    stacks: fds.stacks.map((stack) => ({ count: stack.count, kinds: { ...stack.kinds }, examples: [...stack.examples], ...walkJson(stack) })),
  };
}

function mappingsJson(mappings: MappingReport): MappingReport {
  return {
    outstandingBytes: mappings.outstandingBytes,
    outstanding: mappings.outstanding,
    stacks: mappings.stacks.map((stack) => ({ bytes: stack.bytes, count: stack.count, kind: stack.kind, ...walkJson(stack) })),
  };
}

function invalidFreeJson(free: InvalidFreeReport): InvalidFreeReport {
  return {
    kind: free.kind,
    address: free.address,
    frames: free.frames.map(frameJson),
    previousFree: free.previousFree === null ? null : { frames: free.previousFree.frames.map(frameJson) },
  };
}

export function renderJson(report: Report): string {
  const { target, totals } = report;
  const json: Report = {
    schema: REPORT_SCHEMA,
    mode: report.mode,
    target: { pid: target.pid, command: target.command, exitCode: target.exitCode, cpuMs: target.cpuMs },
    ...(report.oom ? { oom: oomJson(report.oom) } : {}),
    durationMs: report.durationMs,
    totals: {
      outstandingBytes: totals.outstandingBytes,
      outstandingAllocations: totals.outstandingAllocations,
      allocations: totals.allocations,
      ...(totals.allocatedBytes === undefined ? {} : { allocatedBytes: totals.allocatedBytes }),
      frees: totals.frees,
      lostEvents: totals.lostEvents,
      failedStacks: totals.failedStacks,
      tableFull: totals.tableFull,
      truncatedStacks: totals.truncatedStacks,
      cutStacks: totals.cutStacks,
      partialStacks: totals.partialStacks,
    },
    ...(report.capabilities ? { capabilities: report.capabilities } : {}),
    ...(report.processes ? { processes: report.processes.map(processJson) } : {}),
    ...(report.suspects ? { suspects: report.suspects.map(suspectJson) } : {}),
    ...(report.process ? { process: processMemoryJson(report.process) } : {}),
    stacks: report.stacks.map(stackJson),
    ...(report.churnStacks ? { churnStacks: report.churnStacks.map(stackJson) } : {}),
    ...(report.churnOmitted ? { churnOmitted: { stacks: report.churnOmitted.stacks, bytes: report.churnOmitted.bytes, allocations: report.churnOmitted.allocations } } : {}),
    ...(report.fds ? { fds: fdsJson(report.fds) } : {}),
    ...(report.mappings ? { mappings: mappingsJson(report.mappings) } : {}),
    ...(report.invalidFrees ? { invalidFrees: report.invalidFrees.map(invalidFreeJson) } : {}),
    ...(report.invalidFreesOmitted === undefined ? {} : { invalidFreesOmitted: report.invalidFreesOmitted }),
    ...(report.reachability ? { reachability: reachabilityJson(report.reachability) } : {}),
    ...(report.suppressions ? { suppressions: report.suppressions.map((s) => ({ pattern: s.pattern, file: s.file, line: s.line, stacks: s.stacks, bytes: s.bytes, allocations: s.allocations })) } : {}),
  };
  if (totals.sampleEvery !== undefined) json.totals.sampleEvery = totals.sampleEvery;
  return `${JSON.stringify(json, null, 2)}\n`;
}

// The tools every benchmark compares, each as a way to wrap a command line.
// `out` is a path prefix unique to one run, for whatever the tool writes.
import path from 'node:path';

import { benchSources, cliPath, runnerPath, shown } from './paths.js';
import { shellJoin } from './proc.js';

export type ToolId = 'bare' | 'floor' | 'leakhound' | 'leakhoundFollow' | 'leakhoundCopy' | 'leakhoundNoFreeStacks' | 'entryFloor' | 'bpftraceMemleak' | 'heaptrack' | 'heaptrackRaw' | 'valgrind';

export interface Tool {
  id: ToolId;
  label: string;
  wrap(command: string[], out: string): string[];
}

const bpftrace = (script: string) => (command: string[]) => ['bpftrace', path.join(benchSources, 'bpftrace', script), '-c', shellJoin(command)];

export const TOOLS: Record<ToolId, Tool> = {
  bare: { id: 'bare', label: 'bare', wrap: (command) => command },
  floor: {
    id: 'floor',
    label: 'floor (leakhound sites, empty programs)',
    wrap: (command, out) => [process.execPath, runnerPath, '--floor', '--json', `${out}.json`, '--', ...command],
  },
  leakhound: {
    id: 'leakhound',
    label: 'leakhound (full stack every allocation)',
    wrap: (command, out) => [process.execPath, cliPath, 'trace', '--json', `${out}.json`, '--', ...command],
  },
  leakhoundFollow: {
    id: 'leakhoundFollow',
    label: 'leakhound --follow-children',
    wrap: (command, out) => [process.execPath, cliPath, 'trace', '--follow-children', '--json', `${out}.json`, '--', ...command],
  },
  leakhoundCopy: {
    id: 'leakhoundCopy',
    label: 'leakhound, copy walk (bpf_probe_read_user)',
    wrap: (command, out) => ['env', 'LEAKHOUND_STACK_WALK=copy', process.execPath, cliPath, 'trace', '--json', `${out}.json`, '--', ...command],
  },
  leakhoundNoFreeStacks: {
    id: 'leakhoundNoFreeStacks',
    label: 'leakhound --no-free-stacks',
    wrap: (command, out) => [process.execPath, cliPath, 'trace', '--no-free-stacks', '--json', `${out}.json`, '--', ...command],
  },
  entryFloor: { id: 'entryFloor', label: 'entry-probed floor (bpftrace, empty)', wrap: bpftrace('entry-floor.bt') },
  bpftraceMemleak: { id: 'bpftraceMemleak', label: 'bpftrace memleak-style (ustack)', wrap: bpftrace('memleak.bt') },
  heaptrack: { id: 'heaptrack', label: 'heaptrack', wrap: (command, out) => ['heaptrack', '-o', `${out}.heaptrack`, ...command] },
  heaptrackRaw: {
    id: 'heaptrackRaw',
    label: 'heaptrack --raw (recording only)',
    // heaptrack 1.4's interpreter grows without end on some inputs (cc1plus
    // on a large C++ unit: 19 GB, then bad_alloc); recording alone still
    // measures what heaptrack costs the program itself.
    wrap: (command, out) => ['heaptrack', '--raw', '-o', `${out}.heaptrack`, ...command],
  },
  valgrind: {
    id: 'valgrind',
    label: 'valgrind memcheck',
    // Neither libc's nor libstdc++'s exit-time frees run: blocks a program
    // never frees stay in use, as they do without valgrind (and for leakhound).
    wrap: (command, out) => ['valgrind', '--leak-check=full', '--run-libc-freeres=no', '--run-cxx-freeres=no', `--log-file=${out}.valgrind`, ...command],
  },
};

/** A command line as RESULTS.md shows it: `node` for this Node, paths inside the repository relative to it. */
export function shownArgv(argv: string[]): string {
  return shellJoin(argv.map((arg) => (arg === process.execPath ? 'node' : shown(arg))));
}

/** The wrapped command as RESULTS.md shows it, with a placeholder for `out`. */
export function shownCommand(tool: Tool, command: string[]): string {
  return shownArgv(tool.wrap(command, '$OUT'));
}

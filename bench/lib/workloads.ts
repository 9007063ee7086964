// The real programs of the "real programs" benchmark, all from Debian
// packages, with their inputs generated into the scratch directory. Sizes are
// chosen so that valgrind, the slowest tool, finishes each in well under a
// minute on this machine.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import type { Bench } from './bench.js';
import { benchSources } from './paths.js';
import { runOk } from './proc.js';

export interface Workload {
  name: string;
  /** What it stands for: interpreter, database engine, ... */
  kind: string;
  command: string[];
}

export async function prepareWorkloads(bench: Bench): Promise<Workload[]> {
  const cc1 = (await runOk(['gcc', '-print-prog-name=cc1'], 10_000)).stdout.trim();
  const source = path.join(bench.scratch, 'compile-me.c');
  const preprocessed = path.join(bench.scratch, 'compile-me.i');
  writeFileSync(source, compilerInput(8));
  // cc1 itself, not the gcc driver: the driver forks cc1, and a traced
  // process's children are not traced (nor run under valgrind by default).
  await runOk(['gcc', '-E', source, '-o', preprocessed], 60_000);
  return [
    { name: 'python3', kind: 'interpreter', command: ['/usr/bin/python3', path.join(benchSources, 'programs/alloc-heavy.py'), '25'] },
    { name: 'sqlite3', kind: 'database engine', command: ['/usr/bin/sqlite3', ':memory:', `.read ${path.join(benchSources, 'programs/workload.sql')}`] },
    { name: 'cc1', kind: 'compiler', command: [cc1, '-quiet', '-O2', '-fpreprocessed', preprocessed, '-o', path.join(bench.scratch, 'compile-me.s')] },
    { name: 'perl threads', kind: 'multi-threaded', command: ['/usr/bin/perl', path.join(benchSources, 'programs/threads.pl'), '40000'] },
  ];
}

/** xz compressing generated text on two threads (`-T2`, blocks of 1 MiB so
 * both get work): each thread builds its own encoder, and xz exits without
 * freeing them, so its outstanding bytes are mostly the threads'. */
export function prepareXz(bench: Bench): Workload {
  const input = path.join(bench.scratch, 'compress-me.txt');
  writeFileSync(input, wordSoup(6 << 20));
  return { name: 'xz -T2', kind: 'multi-threaded', command: ['/usr/bin/xz', '-T2', '--block-size=1MiB', '-6', '-k', '-f', input] };
}

/** `size` bytes of words from a small vocabulary in a fixed pseudo-random order: compressible, but not trivially. */
function wordSoup(size: number): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'leak', 'heap', 'stack', 'frame', 'unwind', 'thread'];
  const out: string[] = [];
  let state = 1;
  for (let length = 0; length < size; ) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    const word = `${words[state % words.length]}${(state >> 20) % 1000}`;
    out.push(word);
    length += word.length + 1;
  }
  return out.join(' ');
}

/** C source with `count` families of list-building functions: enough
 * structure (loops, switches, structs, libc calls) for -O2 to work on. */
function compilerInput(count: number): string {
  const lines = ['#include <math.h>', '#include <stdio.h>', '#include <stdlib.h>', '#include <string.h>', ''];
  for (let i = 0; i < count; i++) {
    const width = 4 + (i % 5);
    lines.push(
      `struct rec${i} { int id; double v[${width}]; char name[${16 + (i % 32)}]; struct rec${i} *next; };`,
      `static double walk${i}(struct rec${i} *r, int n) {`,
      '  double s = 0;',
      '  for (int k = 0; r && k < n; k++, r = r->next) {',
      '    switch ((r->id + k) % 5) {',
      `      case 0: s += sqrt(fabs(r->v[0])) * ${i + 1}; break;`,
      '      case 1: s -= r->v[1] / (k + 1.0); break;',
      '      case 2: s += strlen(r->name) * 0.5; break;',
      `      case 3: for (int j = 0; j < ${width}; j++) s += r->v[j] * j; break;`,
      '      default: s *= 0.99;',
      '    }',
      '  }',
      '  return s;',
      '}',
      `double make${i}(int n) {`,
      `  struct rec${i} *head = NULL;`,
      '  for (int k = 0; k < n; k++) {',
      `    struct rec${i} *r = malloc(sizeof *r);`,
      '    if (!r) return 0;',
      `    r->id = k; r->next = head; snprintf(r->name, sizeof r->name, "r%d_%d", ${i}, k);`,
      `    for (int j = 0; j < ${width}; j++) r->v[j] = k * j + ${i};`,
      '    head = r;',
      '  }',
      `  double s = walk${i}(head, n);`,
      `  while (head) { struct rec${i} *next = head->next; free(head); head = next; }`,
      '  return s;',
      '}',
      '',
    );
  }
  return lines.join('\n');
}


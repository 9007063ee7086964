// `make bench`: every benchmark of issue 10 in one run, written to
// bench/RESULTS.md below its hand-written summary.
//
//   node dist/bench/run.js [--quick] [--only loop,cet,bpftime,real,cxx,stacks,attach,end,ingest,loss,memory,free-stacks] [--keep-scratch]
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { makeBench } from './lib/bench.js';
import type { Section } from './lib/markdown.js';
import { describeMachine, loadAverage } from './lib/machine.js';
import { makeScratch, resultsPath } from './lib/paths.js';
import { attachSection } from './sections/attach.js';
import { bpfTimeSection } from './sections/bpf-time.js';
import { cetLoopsSection } from './sections/cet-loops.js';
import { cxxCompileSection } from './sections/cxx-compile.js';
import { freeStacksSection } from './sections/free-stacks.js';
import { ingestSection } from './sections/ingest.js';
import { lossSection } from './sections/loss.js';
import { mallocLoopSection } from './sections/malloc-loop.js';
import { memorySection } from './sections/memory.js';
import { realProgramsSection } from './sections/real-programs.js';
import { stackCompletenessSection } from './sections/stack-completeness.js';
import { traceEndSection } from './sections/trace-end.js';

const SECTIONS = {
  loop: mallocLoopSection,
  cet: cetLoopsSection,
  bpftime: bpfTimeSection,
  real: realProgramsSection,
  cxx: cxxCompileSection,
  stacks: stackCompletenessSection,
  attach: attachSection,
  end: traceEndSection,
  ingest: ingestSection,
  loss: lossSection,
  memory: memorySection,
  'free-stacks': freeStacksSection,
};
type SectionName = keyof typeof SECTIONS;

/** The hand-written summary ends here; everything after is regenerated. */
const MARKER = '<!-- Everything below is written by `make bench` (bench/run.ts): edit above this line only. -->';

function handWritten(): string {
  const previous = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '';
  const at = previous.indexOf(MARKER);
  return at >= 0 ? previous.slice(0, at) : '# Benchmark results (issue 10)\n\n(Summary to be written after reading the figures below.)\n\n';
}

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'keep-scratch': { type: 'boolean', default: false },
  },
});
const names = (values.only ? values.only.split(',') : Object.keys(SECTIONS)) as SectionName[];
const unknown = names.filter((name) => !(name in SECTIONS));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown section ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}\n`);
  process.exit(2);
}

// Described before the run: the commit and the load it started with.
const machine = await describeMachine();
const scratch = makeScratch();
const bench = makeBench(scratch, values.quick);
const started = performance.now();
const sections: Section[] = [];
let failed = false;
try {
  for (const name of names) {
    bench.progress(`section ${name}`);
    try {
      sections.push(await SECTIONS[name](bench));
    } catch (error) {
      // One broken section still leaves the others' figures on record.
      failed = true;
      bench.progress(`section ${name} FAILED: ${(error as Error).message}`);
      sections.push({ title: name, lines: ['**This section failed:**', '', '```', (error as Error).stack ?? String(error), '```', ''] });
    }
  }
} finally {
  if (!values['keep-scratch']) rmSync(scratch, { recursive: true, force: true });
}

const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const body = [
  MARKER,
  '',
  '## The run',
  '',
  ...machine,
  `- load average at the end: ${loadAverage()}`,
  `- sections: ${names.join(', ')}${values.quick ? ' (--quick: too few repetitions to trust)' : ''}; whole run ${minutes} min`,
  '',
  ...sections.flatMap((section) => [`## ${section.title}`, '', ...section.lines]),
];
writeFileSync(resultsPath, `${handWritten()}${body.join('\n')}\n`);
bench.progress(`wrote ${resultsPath} (${minutes} min)`);
process.exitCode = failed ? 1 : 0;

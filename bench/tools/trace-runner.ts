// Benchmarks only: `leakhound trace` with the settings the CLI does not
// offer. --floor attaches the very same probes with programs that return at
// once (the uprobe floor); --ring-bytes shrinks the ring buffer so that a
// fast target overruns it and loss accounting can be seen. --no-free-stacks
// is the CLI's own, here to price what free stacks cost.
//
//   node dist/bench/tools/trace-runner.js [--floor] [--no-free-stacks] [--ring-bytes N] --json FILE (--pid PID | -- COMMAND...)
//
// Writes the JSON report to FILE and the text report to stdout, as the CLI does.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { say } from '../../src/cli/say.js';
import { renderJson } from '../../src/render/json.js';
import { DEFAULT_CHURN_STACKS } from '../../src/report/build.js';
import { renderText } from '../../src/render/text.js';
import { DEFAULT_STACK_DEPTH, DEFAULT_UNWIND_ROWS, traceUser } from '../../src/trace/user-trace.js';
import { StopSignal } from '../../src/trace/stop-signal.js';

const { values, positionals } = parseArgs({
  options: {
    floor: { type: 'boolean', default: false },
    'no-free-stacks': { type: 'boolean', default: false },
    'ring-bytes': { type: 'string', default: String(32 << 20) },
    pid: { type: 'string' },
    json: { type: 'string' },
  },
  allowPositionals: true,
});
if (!values.json || (values.pid === undefined) === (positionals.length === 0)) {
  say('usage: trace-runner [--floor] [--no-free-stacks] [--ring-bytes N] --json FILE (--pid PID | -- COMMAND...)');
  process.exit(2);
}

const result = await traceUser({
  pid: values.pid === undefined ? null : Number(values.pid),
  command: positionals.length > 0 ? positionals : null,
  durationMs: null,
  intervalMs: null,
  minSize: 0,
  maxSize: Number.MAX_SAFE_INTEGER,
  olderThanMs: 0,
  churnStacks: DEFAULT_CHURN_STACKS,
  allocator: null,
  stackDepth: DEFAULT_STACK_DEPTH,
  maxStacks: 1 << 15,
  unwindRows: DEFAULT_UNWIND_ROWS,
  ringBytes: Number(values['ring-bytes']),
  verbose: false,
  floorOnly: values.floor,
  fds: true,
  mappings: true,
  freeStacks: !values['no-free-stacks'],
  say,
  stop: new StopSignal(),
});
writeFileSync(values.json, renderJson(result.report));
process.stdout.write(renderText(result.report, { top: 3 }));
process.exitCode = result.commandExit ? (await result.commandExit).code : 0;

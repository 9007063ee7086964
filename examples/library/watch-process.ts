// leakhound as a library: trace a running process until SIGINT, print its
// top stacks at each interval, then write its report in every form.
//   node dist/examples/library/watch-process.js PID OUTDIR   (as root)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { LeakhoundError, renderFlamegraph, renderFlamegraphHtml, renderFolded, renderJson, renderPprof, renderSpeedscope, renderText, startTrace, type LiveSnapshot } from 'leakhound';

const [pid, out] = process.argv.slice(2);

function printSnapshot(snapshot: LiveSnapshot): void {
  // Stacks are named only while the trace runs: here, in the callback.
  const top = snapshot.topStacks(3).map((stack) => ({ site: stack.frames[0]?.symbol ?? null, bytes: stack.bytes, allocations: stack.allocations }));
  console.log(JSON.stringify({ elapsedMs: Math.round(snapshot.elapsedMs), outstandingBytes: snapshot.outstandingBytes, lostEvents: snapshot.lostEvents, top }));
}

const trace = startTrace({ pid: Number(pid), intervalMs: 200, onInterval: printSnapshot, onMessage: (line) => console.error(`leakhound: ${line}`) });
process.once('SIGINT', () => trace.stop());

try {
  const { report, reason } = await trace.result;
  console.error(`stopped: ${reason}`);
  writeFileSync(join(out, 'report.json'), renderJson(report));
  writeFileSync(join(out, 'report.txt'), renderText(report, { top: 5 }));
  writeFileSync(join(out, 'leaks.folded'), renderFolded(report));
  writeFileSync(join(out, 'flamegraph.svg'), renderFlamegraph(report, { title: 'Unreleased memory' }));
  writeFileSync(join(out, 'flamegraph.html'), renderFlamegraphHtml(report, { title: 'Unreleased memory' }));
  writeFileSync(join(out, 'profile.pb.gz'), renderPprof(report));
  writeFileSync(join(out, 'speedscope.json'), renderSpeedscope(report, `pid ${pid}`));
} catch (error) {
  if (!(error instanceof LeakhoundError)) throw error;
  console.error(`${error.code}: ${error.message} (${error.hint ?? ''})`);
  process.exitCode = 2;
}

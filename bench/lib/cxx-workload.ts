// The heavy real C++ program of issue 18: Debian's C++ compiler proper,
// cc1plus, compiling bench/programs/heavy-tu.cc at -O2. The source is
// preprocessed once into the scratch directory, so that each measured run is
// cc1plus alone: the g++ driver would fork it (and a traced process's
// children are not traced), and the preprocessor's work is not what we time.
import path from 'node:path';

import type { Bench } from './bench.js';
import { benchSources } from './paths.js';
import { runOk } from './proc.js';
import type { Workload } from './workloads.js';

export const heavySource = path.join(benchSources, 'programs/heavy-tu.cc');

/** The whole compile as a user types it: the g++ driver, which forks cc1plus
 * and then as (trace it with its children followed). */
export function driverCompile(bench: Bench): Workload {
  return { name: 'g++ -c', kind: 'C++ compiler (driver, cc1plus, as)', command: ['/usr/bin/g++', '-c', heavySource, '-o', path.join(bench.scratch, 'heavy-tu.o')] };
}

/** Runs `g++ -E` on the source; the command is cc1plus as `g++ -O2 -S` runs it (`g++ -###`), less -dumpbase and the default tuning flags. */
export async function prepareCxxCompile(bench: Bench): Promise<{ preprocess: string[]; workload: Workload }> {
  const cc1plus = (await runOk(['g++', '-print-prog-name=cc1plus'], 10_000)).stdout.trim();
  if (!path.isAbsolute(cc1plus)) throw new Error(`g++ does not know its cc1plus (${cc1plus}): install g++`);
  const preprocessed = path.join(bench.scratch, 'heavy-tu.ii');
  const preprocess = ['g++', '-E', heavySource, '-o', preprocessed];
  await runOk(preprocess, 120_000);
  return {
    preprocess,
    workload: {
      name: 'cc1plus -O2',
      kind: 'C++ compiler',
      command: [cc1plus, '-quiet', '-O2', '-fpreprocessed', preprocessed, '-o', path.join(bench.scratch, 'heavy-tu.s')],
    },
  };
}

// What every benchmark section gets: a scratch directory, unique output
// names in it, progress lines on stderr, and the run's size.
import path from 'node:path';

export interface Bench {
  scratch: string;
  /** A fresh path prefix in the scratch directory. */
  out(name: string): string;
  progress(line: string): void;
  /** Fewer repetitions and shorter runs: checks the suite works, measures little. */
  quick: boolean;
}

export function makeBench(scratch: string, quick: boolean): Bench {
  const started = performance.now();
  let serial = 0;
  return {
    scratch,
    out: (name) => path.join(scratch, `${name}-${++serial}`),
    progress: (line) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(4);
      process.stderr.write(`[bench ${seconds}s] ${line}\n`);
    },
    quick,
  };
}

// What libbpf's output says about a failed load: which program the kernel
// refused and the verifier's last words, or which kfunc/ksym it could not
// find. Pure text work: the log is the `log` of a native LeakhoundError.
import { LeakhoundError } from '../errors.js';

export interface LibbpfFailure {
  /** `failed to load object 'user_alloc'`: the object libbpf was loading. */
  object: string | null;
  /** The program the kernel refused. */
  program: string | null;
  /** libbpf's reason for it: strerror of the bpf() call ("Permission denied"). */
  reason: string | null;
  /** The verifier's last meaningful lines (at most 3), oldest first; the last one is its verdict. */
  verifier: string[];
  /** Unresolved externs, as libbpf words them. */
  externs: string[];
}

const PREFIX = /^libbpf: /;
const LOAD_FAILED = /^prog '([^']+)': BPF program load failed: (.*)$/;
const BEGIN_LOG = /^prog '([^']+)': -- BEGIN PROG LOAD LOG --$/;
const END_LOG = '-- END PROG LOAD LOG --';
const OBJECT_FAILED = /^failed to load object '([^']+)'/;
const EXTERN = /^(extern \([^)]*\) '[^']+': .*)$/;
/** Statistics the verifier prints after its verdict. */
const STATISTICS = /^(processed \d+ insns|verification time \d+|stack depth [\d+ ]+$)/;

/** What libbpf says after any failure, naming nothing. */
const BOILERPLATE = /^(failed to load object '|failed to load BPF skeleton '|prog '[^']+': failed to load: -?\d+$)/;

const VERIFIER_LINES = 3;

export function parseLibbpfLog(log: string): LibbpfFailure {
  const failure: LibbpfFailure = { object: null, program: null, reason: null, verifier: [], externs: [] };
  let inLog: string[] | null = null;
  let logProgram: string | null = null;
  for (const raw of log.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (inLog) {
      // END may follow the last verifier line without a line break of its own.
      const end = line.indexOf(END_LOG);
      if (end < 0) {
        inLog.push(line);
        continue;
      }
      if (end > 0) inLog.push(line.slice(0, end));
      if (logProgram === failure.program || failure.program === null) {
        failure.program = logProgram;
        failure.verifier = lastMeaningful(inLog);
      }
      inLog = null;
      continue;
    }
    const text = line.replace(PREFIX, '');
    let match: RegExpExecArray | null;
    if ((match = LOAD_FAILED.exec(text))) {
      failure.program = match[1]!;
      failure.reason = match[2]!.trim() || null;
      failure.verifier = [];
    } else if ((match = BEGIN_LOG.exec(text))) {
      inLog = [];
      logProgram = match[1]!;
    } else if ((match = OBJECT_FAILED.exec(text))) {
      failure.object = match[1]!;
    } else if ((match = EXTERN.exec(text))) {
      failure.externs.push(match[1]!);
    }
  }
  // A log cut short (bounded by the addon) still says something.
  if (inLog && (logProgram === failure.program || failure.program === null)) {
    failure.program = logProgram;
    failure.verifier = lastMeaningful(inLog);
  }
  return failure;
}

function lastMeaningful(lines: string[]): string[] {
  return lines
    .map((line) => line.trim())
    .filter((line) => line !== '' && !STATISTICS.test(line))
    .slice(-VERIFIER_LINES);
}

/** The one line the CLI prints for a native failure that carries libbpf's
 * log: the refused program and the verifier's verdict when there is one. */
export function describeNativeFailure(message: string, log: string | undefined, verbose: boolean): string {
  if (!log || log.trim() === '') return message;
  const failure = parseLibbpfLog(log);
  if (failure.program !== null) {
    const why = failure.verifier.at(-1) ?? failure.reason ?? message;
    return `cannot load BPF program '${failure.program}': ${why}${verbose ? '' : ' (run with --verbose for the verifier\'s whole log)'}`;
  }
  const more = verbose ? '' : ' (run with --verbose for libbpf\'s whole output)';
  if (failure.externs.length > 0) {
    const object = failure.object === null ? 'the BPF programs' : `BPF object '${failure.object}'`;
    return `cannot load ${object}: ${failure.externs[0]}${more}`;
  }
  const lines = log
    .split('\n')
    .map((line) => line.replace(PREFIX, '').trim())
    .filter((line) => line !== '');
  // libbpf ends with the same two lines whatever failed: the line before them says what.
  const last = lines.filter((line) => !BOILERPLATE.test(line)).at(-1) ?? lines.at(-1);
  return last ? `${message} (${last})${more}` : message;
}

/** The program the kernel refused in a failed load, with the verifier's
 * verdict: null when the error names none (not a load failure). */
export function refusedProgram(error: unknown): { program: string; verdict: string } | null {
  const log = error instanceof LeakhoundError ? error.log : undefined;
  const failure = log ? parseLibbpfLog(log) : null;
  if (!failure?.program) return null;
  return { program: failure.program, verdict: failure.verifier.at(-1) ?? failure.reason ?? 'no reason given' };
}

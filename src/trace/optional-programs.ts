// Programs a tracer can do without: a kernel that lacks their tracepoint or
// refuses them costs the report what they would have added, never the
// trace. Each one left out is named, with the verifier's reason, and the
// report says what is missing because of it.
import type { NativeTracer } from '../native/binding.js';
import { refusedProgram } from '../native/libbpf-log.js';

/** Programs that only make sense together, and what the report lacks without them. */
export interface OptionalGroup {
  programs: readonly string[];
  lacking: string;
}

export interface OptionalLoad {
  tracer: NativeTracer;
  /** Programs not loaded. */
  skipped: string[];
  /** One line per group left out: what is missing and why. */
  missing: string[];
}

/**
 * Loads with `load(skip)`, first leaving out the groups whose programs
 * `absent` names (the kernel lacks their hook); when the kernel refuses a
 * program of an optional group, that group is left out and the load tried
 * again. A refused program outside every group fails the load.
 */
export function loadWithOptional(
  load: (skip: string[]) => NativeTracer,
  groups: readonly OptionalGroup[],
  absent: (program: string) => string | null,
): OptionalLoad {
  const skipped: string[] = [];
  const missing: string[] = [];
  const leaveOut = (group: OptionalGroup, why: string) => {
    skipped.push(...group.programs);
    missing.push(`${group.lacking}: ${why}`);
  };
  for (const group of groups) {
    const why = group.programs.map(absent).find((reason) => reason !== null);
    if (why) leaveOut(group, why);
  }
  for (;;) {
    try {
      return { tracer: load(skipped), skipped, missing };
    } catch (error) {
      const refused = refusedProgram(error);
      const group = refused && groups.find((g) => g.programs.includes(refused.program) && !skipped.includes(refused.program));
      if (!refused || !group) throw error;
      leaveOut(group, `the kernel refused program '${refused.program}' (${refused.verdict})`);
    }
  }
}

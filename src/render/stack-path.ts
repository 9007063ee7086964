// How a stack reads as a path from the root, shared by the folded and flame
// graph renderers so the two always merge the same stacks the same way.

import type { Frame, Report, StackReport } from '../report/types.js';

export type PathFrameKind = 'user' | 'inlined' | 'kernel' | 'marker';

/** What a path is drawn from: any stack of the report, whatever it counts. */
export type PathStack = Pick<StackReport, 'frames' | 'truncated' | 'partial'>;

/** A stack and what it weighs in a graph: width (bytes, descriptors) and how many things it holds. */
export interface WeightedStack {
  stack: PathStack;
  weight: number;
  count: number;
  /** What the weight changed by since an earlier report (a diff's graph only). */
  change?: number;
}

export interface PathFrame {
  name: string;
  /** `marker` is a name we made up (`[truncated]`, `[unknown]`), not a code location;
   * `inlined` a function inlined into the frame below it. */
  kind: PathFrameKind;
}

/** Only the file name: full paths make frames too wide to read in a flame graph. */
function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Symbol; else `module_basename+0xoff`; else the bare address. */
export function frameName(frame: Frame): string {
  if (frame.symbol) return frame.symbol;
  if (frame.module) return `${basename(frame.module)}+0x${frame.offset.toString(16)}`;
  return frame.address;
}

/**
 * Root first. A truncated stack hangs under a `[truncated]` root, since its
 * outermost frame is not the real root and must not merge with stacks that
 * truly start there; so does a partial stack under `[partial]`. A stack with
 * no frames is `[unknown]`, as in FlameGraph.
 */
export function stackPath(stack: PathStack, mode: Report['mode']): PathFrame[] {
  const kind: PathFrameKind = mode === 'kernel' ? 'kernel' : 'user';
  const path = stack.frames.map((frame): PathFrame => ({ name: frameName(frame), kind: frame.inlined ? 'inlined' : kind })).reverse();
  if (path.length === 0) path.push({ name: '[unknown]', kind: 'marker' });
  if (stack.partial) path.unshift({ name: '[partial]', kind: 'marker' });
  if (stack.truncated) path.unshift({ name: '[truncated]', kind: 'marker' });
  return path;
}

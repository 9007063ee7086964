// BPF stack ids -> symbolized frames and the partial judgement, the same for
// every section of the report. Many stacks are resolved in one call, so each
// object is opened once.
import type { Report, Frame } from './types.js';
import { userStack } from './partial.js';

export interface StackSource {
  mode: Report['mode'];
  /** A stack's return addresses, innermost first. */
  readStack: (stackId: number) => number[];
  /** Symbolizes many stacks at once, so each object is opened once; `pids`:
   * per stack, the process whose maps name its frames (StackTotal.firstPid). */
  resolveStacks: (stacks: number[][], pids: number[]) => Frame[][];
  /** Whether a stack's frames may be missing callers (user mode); `walkCut`:
   * a walk of it stopped short of the outermost frame. */
  isPartial?: (frames: Frame[], walkCut: boolean) => boolean;
}

export interface StackRequest {
  /** 0: no stack was captured. */
  stackId: number;
  /** The process whose maps name its frames. */
  pid: number;
  /** The walk said it stopped short. */
  cut: boolean;
  /** A free's stack begins at the probe inside free() itself: its caller is the first frame wanted. */
  fromCaller?: boolean;
}

export interface ResolvedStack {
  frames: Frame[];
  /** Stopped short, by the walk's word or because an address was no user address. */
  cut: boolean;
  partial: boolean;
}

export function resolveStackRequests(source: StackSource, requests: StackRequest[]): ResolvedStack[] {
  const stacks = requests.map((request) => {
    const read = request.stackId === 0 ? [] : source.readStack(request.stackId);
    const ips = request.fromCaller ? read.slice(1) : read;
    return source.mode === 'user' ? userStack(ips) : { ips, cut: false };
  });
  const frames = source.resolveStacks(
    stacks.map((stack) => stack.ips),
    requests.map((request) => request.pid),
  );
  return frames.map((stackFrames, i) => {
    const cut = requests[i].cut || stacks[i].cut;
    return { frames: stackFrames, cut, partial: source.isPartial?.(stackFrames, cut) ?? false };
  });
}

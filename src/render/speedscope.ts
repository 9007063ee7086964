// The report in speedscope's file format
// (https://www.speedscope.app/file-format-schema.json): two sampled profiles
// over shared frames, outstanding bytes and outstanding allocations, each
// stack root first, with the markers the flame graph draws.
import type { Frame, Report } from '../report/types.js';
import { heapStacks } from './graphs.js';
import { stackPath, type PathFrame } from './stack-path.js';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}

export interface SpeedscopeProfile {
  type: 'sampled';
  name: string;
  unit: 'bytes' | 'none';
  startValue: number;
  endValue: number;
  /** Indices into shared.frames, root first. */
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

function speedscopeFrame(step: PathFrame, frame: Frame | undefined): SpeedscopeFrame {
  const out: SpeedscopeFrame = { name: step.kind === 'inlined' ? `${step.name} [inlined]` : step.name };
  if (frame?.file) out.file = frame.file;
  if (frame?.line) out.line = frame.line;
  return out;
}

export function renderSpeedscope(report: Report, name: string): string {
  const frames: SpeedscopeFrame[] = [];
  const indexOf = new Map<string, number>();
  const index = (frame: SpeedscopeFrame): number => {
    const key = `${frame.name}\0${frame.file ?? ''}\0${frame.line ?? ''}`;
    let i = indexOf.get(key);
    if (i === undefined) {
      i = frames.push(frame) - 1;
      indexOf.set(key, i);
    }
    return i;
  };
  const stacks = heapStacks(report).filter(({ weight, count }) => weight > 0 || count > 0);
  const samples = stacks.map(({ stack }) => {
    const path = stackPath(stack, report.mode);
    // The path ends with the frames, reversed; anything before them is a marker.
    const rootFirst = [...stack.frames].reverse();
    const markers = path.length - rootFirst.length;
    return path.map((step, i) => index(speedscopeFrame(step, i < markers ? undefined : rootFirst[i - markers])));
  });
  const profile = (title: string, unit: SpeedscopeProfile['unit'], weights: number[]): SpeedscopeProfile => ({
    type: 'sampled',
    name: title,
    unit,
    startValue: 0,
    endValue: weights.reduce((sum, weight) => sum + weight, 0),
    samples,
    weights,
  });
  const file: SpeedscopeFile = {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles: [
      profile(`${name}: outstanding bytes`, 'bytes', stacks.map(({ weight }) => weight)),
      profile(`${name}: outstanding allocations`, 'none', stacks.map(({ count }) => count)),
    ],
    name,
    activeProfileIndex: 0,
    exporter: 'leakhound',
  };
  return `${JSON.stringify(file)}\n`;
}

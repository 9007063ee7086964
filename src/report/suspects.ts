// Leak suspects: stacks whose outstanding bytes grew steadily over the
// intervals. A cache fills and then holds; a buffer in flight comes and goes;
// a leak keeps growing, close to a straight line, to the end.
import type { StackHistoryReport, StackReport, SuspectReport } from './types.js';

/** Fewer points say nothing about a trend. */
export const MIN_POINTS = 4;
/** A straight line must explain this much of the variation. */
export const MIN_R_SQUARED = 0.8;

export interface LineFit {
  /** Bytes per second. */
  slope: number;
  /** 0-1; 0 when the bytes never change. */
  rSquared: number;
}

/** Least squares of bytes on seconds. */
export function fitLine(history: StackHistoryReport): LineFit {
  const n = history.atMs.length;
  const xs = history.atMs.map((ms) => ms / 1000);
  const meanX = xs.reduce((sum, x) => sum + x, 0) / n;
  const meanY = history.bytes.reduce((sum, y) => sum + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - meanX;
    const dy = history.bytes[i] - meanY;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return { slope: 0, rSquared: 0 };
  return { slope: sxy / sxx, rSquared: (sxy * sxy) / (sxx * syy) };
}

/** The share of steps from one point to the next over which the bytes grew. */
export function grewShare(bytes: readonly number[]): number {
  let grew = 0;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] > bytes[i - 1]) grew++;
  return bytes.length < 2 ? 0 : grew / (bytes.length - 1);
}

/** Still growing in the later half: a cache that filled early has stopped. */
function grewInBothHalves(bytes: readonly number[]): boolean {
  const middle = Math.floor((bytes.length - 1) / 2);
  return bytes[middle] > bytes[0] && bytes[bytes.length - 1] > bytes[middle];
}

/** The suspect's verdict, or null when its history shows no sustained growth. */
export function judge(stack: number, history: StackHistoryReport): SuspectReport | null {
  const { bytes, atMs } = history;
  if (bytes.length < MIN_POINTS) return null;
  const fit = fitLine(history);
  if (fit.slope <= 0 || fit.rSquared < MIN_R_SQUARED || !grewInBothHalves(bytes)) return null;
  const share = grewShare(bytes);
  const steps = bytes.length - 1;
  const seconds = ((atMs[atMs.length - 1] - atMs[0]) / 1000).toFixed(1);
  const reason =
    `grew ${bytes[bytes.length - 1] - bytes[0]} bytes over ${seconds} s, ` +
    `in ${Math.round(share * steps)} of ${steps} intervals and in both halves of the trace, ` +
    `close to a straight line (R² ${fit.rSquared.toFixed(2)})`;
  return { stack, reason, growthBytesPerSecond: Math.round(fit.slope), rSquared: round2(fit.rSquared), grewShare: round2(share) };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** Every stack with a history judged; the suspects, fastest growing first. */
export function rankSuspects(stacks: readonly Pick<StackReport, 'history'>[]): SuspectReport[] {
  const suspects: SuspectReport[] = [];
  stacks.forEach((stack, index) => {
    const suspect = stack.history ? judge(index, stack.history) : null;
    if (suspect) suspects.push(suspect);
  });
  return suspects.sort((a, b) => b.growthBytesPerSecond - a.growthBytesPerSecond || a.stack - b.stack);
}

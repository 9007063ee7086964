// A stack as the text report shows it: one frame per line, then what is
// known to be missing from it.
import type { Frame, Report } from '../report/types.js';
import type { PathStack } from './stack-path.js';

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `[nf_conntrack]`; names that already carry brackets keep theirs. */
function bracketed(module: string): string {
  return module.startsWith('[') ? module : `[${module}]`;
}

function kernelFrameText(frame: Frame): string {
  const location = frame.symbol ? `${frame.symbol}+${hex(frame.offset)}` : frame.address;
  return frame.module && frame.module !== '[kernel]' ? `${location} ${bracketed(frame.module)}` : location;
}

/** An inlined frame's offset is into another function, so it shows none. */
function userFrameText(frame: Frame): string {
  const inlined = frame.inlined ? ' [inlined]' : '';
  if (frame.symbol && frame.file) {
    return `${frame.symbol} (${frame.file}${frame.line === null ? '' : `:${frame.line}`})${inlined}`;
  }
  if (frame.symbol && frame.inlined) return `${frame.symbol}${frame.module ? ` (${frame.module})` : ''}${inlined}`;
  if (frame.symbol) return `${frame.symbol}+${hex(frame.offset)}${frame.module ? ` (${frame.module})` : ''}`;
  if (frame.module) return `${frame.module}+${hex(frame.offset)}`;
  return frame.address;
}

/** The stack's lines, each indented by `indent`. */
export function stackFrameLines(stack: PathStack, mode: Report['mode'], indent = '    '): string[] {
  const frameText = mode === 'kernel' ? kernelFrameText : userFrameText;
  const lines = stack.frames.map(frameText);
  if (stack.frames.length === 0) lines.push('[no stack]');
  if (stack.truncated) lines.push('[truncated]');
  if (stack.partial) lines.push('[partial: through code without frame pointers, callers may be missing]');
  return lines.map((line) => `${indent}${line}`);
}

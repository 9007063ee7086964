// A stack's name in a Prometheus label: short enough to read on a graph,
// stable across restarts of the target (symbols, never addresses, which
// ASLR moves), and distinct for stacks that share their leaf function.
import { createHash } from 'node:crypto';

import { frameName } from '../render/stack-path.js';
import type { Frame, Report } from '../report/types.js';

/** Long C++ names are cut here: a label is read on a graph's legend. */
const LEAF_CHARS = 60;
/** Hex digits of the hash: 32 bits tell apart the few stacks on a graph. */
const HASH_DIGITS = 8;

export const NO_STACK_LABEL = '[no stack]';

/** A kernel stack starts inside the allocator, where its tracepoint fires
 * (`__alloc_frozen_pages_noprof`, `kmem_cache_alloc_noprof`...): the label
 * names the first frame past such names, the code that asked for memory. */
const KERNEL_ALLOCATOR = /alloc|folio|kmalloc|kmem_cache|slab|pages|percpu/;

/** `leaf_function 1a2b3c4d`: the innermost frame's name (in the kernel, the
 * first past the allocator's) and a hash of every frame's name. */
export function stackLabel(frames: Frame[], mode: Report['mode'] = 'user'): string {
  if (frames.length === 0) return NO_STACK_LABEL;
  const names = frames.map(frameName);
  const name = frameName(callerFrame(frames, mode) as Frame);
  const leaf = name.length > LEAF_CHARS ? `${name.slice(0, LEAF_CHARS - 1)}…` : name;
  const hash = createHash('sha1').update(names.join(';')).digest('hex').slice(0, HASH_DIGITS);
  return `${leaf} ${hash}`;
}

/** The frame that names a stack: the innermost, or in the kernel the first past the allocator's. */
export function callerFrame(frames: Frame[], mode: Report['mode']): Frame | undefined {
  return mode === 'kernel' ? (frames.find((frame) => !KERNEL_ALLOCATOR.test(frameName(frame))) ?? frames[0]) : frames[0];
}

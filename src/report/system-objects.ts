// Frames in the C library and the dynamic loader, which map and free memory
// for their own bookkeeping.
import type { Frame } from './types.js';

/** ld-linux-x86-64.so.2, ld.so; before glibc 2.34 the loader's file is ld-2.NN.so. */
const LOADER = /^(ld-linux|ld\.so|ld-\d)/;
/** libc.so.6; before glibc 2.34 libc-2.NN.so. */
const LIBC = /^libc(\.so|-\d)/;

function moduleBase(frame: Frame | undefined): string {
  const module = frame?.module ?? '';
  return module.slice(module.lastIndexOf('/') + 1);
}

export function inLoader(frame: Frame | undefined): boolean {
  return LOADER.test(moduleBase(frame));
}

export function inLibcOrLoader(frame: Frame | undefined): boolean {
  const base = moduleBase(frame);
  return LIBC.test(base) || LOADER.test(base);
}

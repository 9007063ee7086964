// The GNU build-ids of the running kernel and its modules, for kernel
// frames: the kernel exports its own ELF notes in /sys/kernel/notes and each
// module's in /sys/module/NAME/notes/.note.gnu.build-id (root only), so no
// vmlinux is needed.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

import type { Frame } from '../report/types.js';

const NT_GNU_BUILD_ID = 3;

/** Notes are 4-byte aligned in these files. */
function aligned(n: number): number {
  return (n + 3) & ~3;
}

/** The build-id (lowercase hex) among ELF notes as the kernel lays them out, in its own byte order; null when none is there. */
export function buildIdFromNotes(notes: Uint8Array): string | null {
  const buffer = Buffer.from(notes.buffer, notes.byteOffset, notes.byteLength);
  const word = (at: number) => (endianness() === 'LE' ? buffer.readUInt32LE(at) : buffer.readUInt32BE(at));
  for (let at = 0; at + 12 <= buffer.length; ) {
    const nameSize = word(at);
    const descSize = word(at + 4);
    const type = word(at + 8);
    const name = at + 12;
    const desc = name + aligned(nameSize);
    if (desc + descSize > buffer.length) return null;
    if (type === NT_GNU_BUILD_ID && buffer.toString('latin1', name, name + nameSize) === 'GNU\0') return buffer.toString('hex', desc, desc + descSize);
    at = desc + aligned(descSize);
  }
  return null;
}

/** `[kernel]` -> /sys/kernel/notes; `[nf_conntrack]` -> that module's notes. */
function notesPath(module: string): string | null {
  if (module === '[kernel]') return '/sys/kernel/notes';
  const name = /^\[([\w-]+)\]$/.exec(module)?.[1];
  return name === undefined ? null : `/sys/module/${name}/notes/.note.gnu.build-id`;
}

function readBuildId(module: string): string | null {
  const path = notesPath(module);
  if (path === null) return null;
  try {
    return buildIdFromNotes(readFileSync(path));
  } catch {
    // A module unloaded since, or notes this kernel does not export.
    return null;
  }
}

/** The frames with the build-id of the kernel or module each lies in, read once per module. */
export function withKernelBuildIds(stacks: Frame[][], read: (module: string) => string | null = readBuildId): Frame[][] {
  const known = new Map<string, string | null>();
  const of = (module: string): string | null => {
    if (!known.has(module)) known.set(module, read(module));
    return known.get(module) ?? null;
  };
  return stacks.map((frames) =>
    frames.map((frame) => {
      const buildId = frame.module === null ? null : of(frame.module);
      return buildId === null ? frame : { ...frame, buildId };
    }),
  );
}

// Reads another process's memory through /proc/PID/mem, opened read-only:
// never a write. Positional reads in bounded chunks; a range that is gone
// (unmapped since the maps were read) reads as nothing, and the scan goes on.
import { closeSync, openSync, readSync } from 'node:fs';

/** One read's size: big enough to cost few system calls, small enough to keep. */
export const CHUNK_BYTES = 1 << 20;

export class ProcessMemory {
  readonly #fd: number;
  readonly #buffer = Buffer.allocUnsafe(CHUNK_BYTES);

  constructor(pid: number) {
    this.#fd = openSync(`/proc/${pid}/mem`, 'r');
  }

  /**
   * Calls `visit` with each chunk of [start, end) that could be read, as
   * u32 words, with the address it begins at; returns the bytes read.
   * The words are valid only during the call.
   */
  forEachChunk(start: number, end: number, visit: (words: Uint32Array, base: number) => void): number {
    let bytes = 0;
    for (let at = start; at < end; at += CHUNK_BYTES) {
      const length = Math.min(CHUNK_BYTES, end - at);
      let got: number;
      try {
        got = readSync(this.#fd, this.#buffer, 0, length, at);
      } catch {
        continue; // a page gone or never backed: the rest may still be there
      }
      const whole = got & ~7;
      if (whole === 0) continue;
      visit(new Uint32Array(this.#buffer.buffer, this.#buffer.byteOffset, whole / 4), at);
      bytes += whole;
    }
    return bytes;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

// A mapped file's GNU build-id, for the frames in it: profile stores
// (Pyroscope, Parca) and debuginfod find debug files by it.
import { addon } from '../native/binding.js';

/** Lowercase hex, or null for a file without one or one that cannot be read (it went away, it is not ELF). */
export function readBuildId(file: string): string | null {
  try {
    return addon().elfInfo(file).buildId;
  } catch {
    return null;
  }
}

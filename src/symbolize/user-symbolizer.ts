// Return addresses of a user process -> frames: the module map places each
// address in a file, the addon's Symbolizer names it, one call per file.
import { addon } from '../native/binding.js';
import type { NativeSymbolizer, SourceLocation } from '../native/elf-types.js';
import type { Frame } from '../report/types.js';
import type { ModuleMap } from './module-map.js';

interface Placed {
  address: number;
  /** Of the call instruction's last byte: address - 1. */
  fileOffset: number;
}

const NOTHING: SourceLocation = { symbol: null, symbolOffset: 0, file: null, line: null, inlined: [] };

function hex(address: number): string {
  return `0x${address.toString(16)}`;
}

function unplaced(address: number): Frame[] {
  return [{ address: hex(address), symbol: null, module: null, file: null, line: null, offset: 0 }];
}

/**
 * The frames of one return address: the functions inlined there, innermost
 * first, then the function the code lies in. Offsets count to `address`
 * itself, so that symbol + offset is the address as traced; an inlined
 * frame has the offset into the function it was inlined into.
 */
function framesOf(placed: Placed, module: string, where: SourceLocation, buildId: string | null = null): Frame[] {
  const address = hex(placed.address);
  const offset = (where.symbol === null ? placed.fileOffset : where.symbolOffset) + 1;
  const frames = [
    ...where.inlined.map((call): Frame => ({ address, symbol: call.symbol, module, file: call.file, line: call.line, offset, inlined: true })),
    { address, symbol: where.symbol, module, file: where.file, line: where.line, offset },
  ];
  return buildId === null ? frames : frames.map((frame) => ({ ...frame, buildId }));
}

export class UserSymbolizer {
  readonly #modules: ModuleMap;
  readonly #native: NativeSymbolizer;
  readonly #buildIdOf: (file: string) => string | null;
  readonly #buildIds = new Map<string, string | null>();

  /** `buildIdOf`: a file's build-id, for the frames (none unless given). */
  constructor(modules: ModuleMap, native: NativeSymbolizer = new (addon().Symbolizer)(), buildIdOf: (file: string) => string | null = () => null) {
    this.#modules = modules;
    this.#native = native;
    this.#buildIdOf = buildIdOf;
  }

  /** Frames for many stacks at once, so that each file is read once. */
  resolveStacks(stacks: number[][]): Frame[][] {
    const frames = this.resolve(stacks.flat());
    return stacks.map((stack) => stack.flatMap((address) => frames.get(address) ?? unplaced(address)));
  }

  /** The frames of each distinct address: one, or more where functions were inlined. */
  resolve(addresses: number[]): Map<number, Frame[]> {
    const frames = new Map<number, Frame[]>();
    // By the file as read, not by name: two files mapped under one name
    // (one replaced on disk since) are two objects.
    const byFile = new Map<string, { module: string; placed: Placed[] }>();
    for (const address of new Set(addresses)) {
      // A return address follows its call, which may have been the last
      // instruction of a function (a call to something that never returns).
      const location = address > 0 ? this.#modules.locate(address - 1) : null;
      if (!location) {
        frames.set(address, unplaced(address));
        continue;
      }
      const placed = { address, fileOffset: location.fileOffset };
      if (location.file === null) {
        frames.set(address, framesOf(placed, location.path, NOTHING));
        continue;
      }
      const group = byFile.get(location.file) ?? { module: location.path, placed: [] };
      group.placed.push(placed);
      byFile.set(location.file, group);
    }
    for (const [file, { module, placed }] of byFile) {
      const found = this.#native.symbolize(file, placed.map((entry) => entry.fileOffset));
      if (!this.#buildIds.has(file)) this.#buildIds.set(file, this.#buildIdOf(file));
      const buildId = this.#buildIds.get(file) ?? null;
      placed.forEach((entry, i) => frames.set(entry.address, framesOf(entry, module, found[i] ?? NOTHING, buildId)));
    }
    return frames;
  }

  close(): void {
    this.#native.close();
  }
}

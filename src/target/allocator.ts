// Which object's allocator a process really uses, and where to probe it.
import { LeakhoundError } from '../errors.js';
import { AllocFn } from '../native/layout.js';

/** What the addon's ELF reader gives for one defined function. */
export interface FunctionSymbol {
  name: string;
  address: number;
  fileOffset: number;
  size: number;
}

export type SymbolLookup = (path: string, names: string[]) => FunctionSymbol[];

/** What choosing probes needs from the outside world. */
export interface ProbeEnvironment {
  lookup: SymbolLookup;
  /** The path leakhound opens for an object named in the target's maps; null when it cannot be read. */
  open: (path: string) => string | null;
  /** The name in the target's maps of the object a user named, null when the target does not map it. */
  mapped: (path: string) => string | null;
  /** Where the probes on this function go (a file offset): somewhere every
   * call passes once, with the argument registers `reads` and the stack
   * pointer still as the call left them. Entry and return probe alike. */
  place: (path: string, symbol: FunctionSymbol, reads: string[]) => number;
}

export interface ProbePoint {
  /** The BPF program to attach. */
  program: 'alloc_enter' | 'alloc_exit' | 'free_enter';
  /** Tells the program which function it is in (enum lh_alloc_fn). */
  cookie: number;
  /** The symbol the offset came from (for messages). */
  symbol: string;
  /** The object to probe, as leakhound opens it (the copy the target mapped). */
  path: string;
  fileOffset: number;
  isReturn: boolean;
}

/** A probed function: the cookie that tells the entry program which one it
 * is, and the argument registers that program reads for that cookie
 * (alloc_enter in bpf/user-alloc.bpf.c). */
interface Probed {
  cookie: number;
  reads: string[];
}

/** The C library's allocation functions. */
const ALLOCATION_FUNCTIONS: Record<string, Probed> = {
  malloc: { cookie: AllocFn.malloc, reads: ['rdi'] },
  calloc: { cookie: AllocFn.calloc, reads: ['rdi', 'rsi'] },
  realloc: { cookie: AllocFn.realloc, reads: ['rdi', 'rsi'] },
  reallocarray: { cookie: AllocFn.reallocarray, reads: ['rdi', 'rsi', 'rdx'] },
  posix_memalign: { cookie: AllocFn.posixMemalign, reads: ['rdi', 'rdx'] },
  aligned_alloc: { cookie: AllocFn.memalign, reads: ['rsi'] },
  memalign: { cookie: AllocFn.memalign, reads: ['rsi'] },
  valloc: { cookie: AllocFn.valloc, reads: ['rdi'] },
  pvalloc: { cookie: AllocFn.pvalloc, reads: ['rdi'] },
};

/** Every operator new (plain, array, nothrow, aligned): size comes first in
 * each. The ones that only forward to another (nothrow to plain, array to
 * plain) stay probed even where they have no emulated site: the outermost
 * call is the one whose caller heads the stack, and that is the C++ code
 * that said `new`, not libstdc++'s wrapper. */
const OPERATOR_NEW: Record<string, Probed> = Object.fromEntries(
  [
    '_Znwm',
    '_Znam',
    '_ZnwmRKSt9nothrow_t',
    '_ZnamRKSt9nothrow_t',
    '_ZnwmSt11align_val_t',
    '_ZnamSt11align_val_t',
    '_ZnwmSt11align_val_tRKSt9nothrow_t',
    '_ZnamSt11align_val_tRKSt9nothrow_t',
  ].map((name) => [name, { cookie: AllocFn.operatorNew, reads: ['rdi'] }]),
);

export interface AllocatorChoice {
  /** The object whose malloc the target calls, as named in its maps. */
  allocator: string;
  /** The object providing operator new, when one is mapped. */
  cxxRuntime: string | null;
  probes: ProbePoint[];
}

/**
 * Picks the allocator the dynamic linker binds: the executable's own malloc
 * if it has one, else a library's. glibc's malloc is interposable, so any
 * other library exporting malloc (jemalloc, tcmalloc, preloaded) wins over it.
 */
export function chooseAllocator(
  executable: string | null,
  libraries: string[],
  env: ProbeEnvironment,
  forced: string | null,
): AllocatorChoice {
  const { lookup } = env;
  // An object leakhound cannot read (env.open gives null) defines nothing.
  const readable = (names: string[]) => names.flatMap((name) => {
    const file = env.open(name);
    return file === null ? [] : [{ name, file }];
  });
  const defining = (names: string[], symbol: string) => readable(names).find((object) => lookup(object.file, [symbol]).length > 0);
  const own = executable ? [executable] : [];
  const allocator = defining(forced ? [mappedOrRefused(forced, env)] : [...own, ...rankInterposersFirst(libraries)], 'malloc');
  if (!allocator) {
    throw forced
      ? new LeakhoundError('NO_MALLOC', `${forced} does not define malloc`, 'name the object that holds the allocator with --allocator, or leave it out')
      : new LeakhoundError('NO_MALLOC', 'no object mapped by the target defines malloc', 'name the object that holds the allocator with --allocator PATH');
  }
  const cxxRuntime = defining([...own, ...libraries], '_Znwm');

  const probes = [
    ...probesFor(allocator.file, env, ALLOCATION_FUNCTIONS),
    ...(cxxRuntime ? probesFor(cxxRuntime.file, env, OPERATOR_NEW) : []),
  ];
  const free = lookup(allocator.file, ['free'])[0];
  if (!free) throw new LeakhoundError('NO_MALLOC', `${allocator.name} defines malloc but not free`, 'name the object that holds the allocator with --allocator PATH');
  const freeSite = env.place(allocator.file, free, ['rdi']);
  probes.push({ program: 'free_enter', cookie: 0, symbol: 'free', path: allocator.file, fileOffset: freeSite, isReturn: false });
  return { allocator: allocator.name, cxxRuntime: cxxRuntime?.name ?? null, probes: attachOrder(probes) };
}

/** Probes on an object the target does not map would attach and see nothing. */
function mappedOrRefused(forced: string, env: ProbeEnvironment): string {
  const mapped = env.mapped(forced);
  if (mapped === null) {
    throw new LeakhoundError('USAGE', `the target does not map ${forced}`, "give --allocator an object listed in the target's /proc/PID/maps, or leave it out");
  }
  return mapped;
}

/** glibc's C library, by its file name. */
export const isGlibc = (path: string): boolean => /(^|\/)libc(-[\d.]+)?\.so(\.\d+)*$/.test(path);

function rankInterposersFirst(libraries: string[]): string[] {
  return [...libraries.filter((path) => !isGlibc(path)), ...libraries.filter(isGlibc)];
}

/** Entry and return probes for each function, both at its one site;
 * aliases (memalign and aligned_alloc share an address) are probed once,
 * or calls would nest. */
function probesFor(path: string, env: ProbeEnvironment, functions: Record<string, Probed>): ProbePoint[] {
  const seen = new Set<number>();
  const probes: ProbePoint[] = [];
  for (const symbol of env.lookup(path, Object.keys(functions))) {
    if (seen.has(symbol.fileOffset)) continue;
    seen.add(symbol.fileOffset);
    const { cookie, reads } = functions[symbol.name];
    const fileOffset = env.place(path, symbol, reads);
    probes.push({ program: 'alloc_enter', cookie, symbol: symbol.name, path, fileOffset, isReturn: false });
    probes.push({ program: 'alloc_exit', cookie, symbol: symbol.name, path, fileOffset, isReturn: true });
  }
  return probes;
}

/** Probes come off in the reverse order. Return probes go on before entry
 * probes: a call whose entry was seen must have its return seen too, or its
 * thread's nesting count stays up. free goes on first and comes off last:
 * a free missed while allocations are still recorded would show as a leak. */
function attachOrder(probes: ProbePoint[]): ProbePoint[] {
  const entries = probes.filter((p) => !p.isReturn);
  return [...entries.filter((p) => p.program === 'free_enter'), ...probes.filter((p) => p.isReturn), ...entries.filter((p) => p.program !== 'free_enter')];
}

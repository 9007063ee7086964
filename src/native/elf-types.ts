// The ELF/DWARF reader's part of the addon (native/elf-reader.cc).

/** A defined GLOBAL or WEAK function (STT_FUNC or STT_GNU_IFUNC). */
export interface ElfSymbol {
  /** As asked for: without any `@VERSION` suffix. */
  name: string;
  /** ELF virtual address (st_value). */
  address: number;
  /** Where `address` lies in the file, by the PT_LOAD headers: what uprobes take. */
  fileOffset: number;
  size: number;
}

export interface ElfInfo {
  /** ET_EXEC, ET_DYN (PIE executables too: see `interpreter`), or anything else. */
  type: 'exec' | 'dyn' | 'other';
  /** PT_INTERP, the dynamic linker a program asks for. */
  interpreter: string | null;
  hasSymtab: boolean;
  /** DWARF (.debug_info) in the file itself; separate debug files are not looked for. */
  hasDebugInfo: boolean;
  /** GNU build-id, lowercase hex. */
  buildId: string | null;
}

/** A function inlined at a file offset, from the DWARF: a frame of its own. */
export interface InlinedSource {
  /** Plain function name, C++ demangled without parameters; null when the DWARF names none. */
  symbol: string | null;
  /** The innermost one's line at the offset; every other's, where it called the next one in. */
  file: string | null;
  line: number | null;
}

/** What one file offset is. All null (and no inlined calls) when the file or the offset is unknown. */
export interface SourceLocation {
  /** Plain function name, C++ demangled without parameters. */
  symbol: string | null;
  /** Offset of the looked-up byte from the symbol's start (0 without a symbol). */
  symbolOffset: number;
  /** Source file as the DWARF names it; inside inlined code, where the outermost inlined call was made. */
  file: string | null;
  line: number | null;
  /** The functions inlined into `symbol` at this offset, innermost first. */
  inlined: InlinedSource[];
}

/** Keeps each file it has read open until close(); a replaced file is reread. */
export interface NativeSymbolizer {
  /** One location per offset, in order; never throws for an unreadable file. */
  symbolize(path: string, fileOffsets: number[]): SourceLocation[];
  close(): void;
}

export interface ElfReaderAddon {
  /** At most one per name, .dynsym preferred; names not defined are left out.
   * Throws code ELF_INVALID for a missing, unreadable or malformed file. */
  elfSymbols(path: string, names: string[]): ElfSymbol[];
  /** Up to `max` functions with a size, spread over .symtab (.dynsym when
   * there is none), names left empty. Without .symtab, where .dynsym lists
   * fewer than `max` and .eh_frame_hdr's table more (a stripped object), over
   * that table, each function running to the next one's start (at most 64 KiB).
   * Throws code ELF_INVALID as elfSymbols does. */
  elfFunctionSample(path: string, max: number): ElfSymbol[];
  /** Throws code ELF_INVALID as elfSymbols does. */
  elfInfo(path: string): ElfInfo;
  Symbolizer: new () => NativeSymbolizer;
}

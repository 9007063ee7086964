// The unwind tables the BPF walk reads (bpf/unwind-tables.bpf.h): one per
// object the target maps, by device and inode, built from the object's
// .eh_frame by the addon and copied into two shared arrays. Objects mapped
// at attach get theirs before the probes fire; objects mapped later (dlopen,
// a followed exec) when the walk first meets them and asks.
import { addon, type NativeTracer } from '../native/binding.js';
import { enumNames, structs } from '../native/contract.generated.js';
import type { TableRequests } from '../ingest/decode.js';
import type { FileMapping } from '../symbolize/mapped-objects.js';
import { readMaps, type Mapping } from '../symbolize/proc-maps.js';

const ObjectKind = enumNames.lh_object_kind;
const ROW_BYTES = structs.lh_unwind_row.size;
const PAGE_BYTES = structs.lh_unwind_page.size;
const PAGE_FIRST = structs.lh_unwind_page.fields.first.offset;
const PAGE_COUNT = structs.lh_unwind_page.fields.count.offset;

/** What the two arrays hold at most (set before load). */
export interface UnwindCapacity {
  rows: number;
  pages: number;
}

/** What the trace's tables came to, for --verbose and the report. */
export interface UnwindStats {
  objects: number;
  rows: number;
  pages: number;
  buildMs: number;
  /** Objects whose code is walked by frame pointer (they keep them). */
  framePointers: number;
  /** Objects left without a table, and why: their frames end stacks as partial. */
  without: { path: string; why: string }[];
}

export interface UnwindTablesOptions {
  capacity: UnwindCapacity;
  /** A path that reaches the mapped file itself (MappedObjects.keep). */
  keep: (pid: number, mapping: FileMapping) => string | null;
  /** Whether the object at a kept path keeps frame pointers; null when unknown. */
  keepsFramePointers: (file: string) => boolean | null;
  /** A line per object (--verbose). */
  say: (line: string) => void;
}

/** The kernel's device number (major << 20 | minor) of a maps line's `fe:01`. */
export function kernelDevice(device: string): number {
  const [major, minor] = device.split(':').map((part) => parseInt(part, 16));
  return major * 2 ** 20 + minor;
}

function objectKey(device: number, inode: number): Buffer {
  const key = Buffer.alloc(structs.lh_object_key.size);
  key.writeBigUInt64LE(BigInt(device), structs.lh_object_key.fields.dev.offset);
  key.writeBigUInt64LE(BigInt(inode), structs.lh_object_key.fields.ino.offset);
  return key;
}

function mappingKey(pid: number, mapping: Mapping): Buffer {
  const { fields } = structs.lh_mapping_key;
  const key = Buffer.alloc(structs.lh_mapping_key.size);
  key.writeUInt32LE(pid, fields.tgid.offset);
  key.writeBigUInt64LE(BigInt(mapping.start), fields.start.offset);
  key.writeBigUInt64LE(BigInt(mapping.end), fields.end.offset);
  return key;
}

function objectValue(kind: number, firstPage = 0, pages = 0): Buffer {
  const value = Buffer.alloc(structs.lh_unwind_object.size);
  const fields = structs.lh_unwind_object.fields;
  value.writeUInt32LE(kind, fields.kind.offset);
  value.writeUInt32LE(firstPage, fields.first_page.offset);
  value.writeUInt32LE(pages, fields.pages.offset);
  return value;
}

const isCode = (mapping: Mapping): mapping is FileMapping => mapping.perms.includes('x') && mapping.path !== null && mapping.inode !== 0;

export class UnwindTables implements TableRequests {
  readonly stats: UnwindStats = { objects: 0, rows: 0, pages: 0, buildMs: 0, framePointers: 0, without: [] };
  readonly #tracer: NativeTracer;
  readonly #options: UnwindTablesOptions;
  /** What each object was given (its unwind_objects value), by `device:inode`. */
  readonly #known = new Map<string, Buffer>();
  /** What each process's mapping was filed as, by `pid:start-end`. */
  readonly #mappings = new Map<string, Buffer>();

  constructor(tracer: NativeTracer, options: UnwindTablesOptions) {
    this.#tracer = tracer;
    this.#options = options;
  }

  /** Tables for every object `maps` (process `pid`'s) has code from, filed
   * by inode and by the process's mapping (unwind-tables.bpf.h says why). */
  provide(pid: number, maps: Mapping[]): void {
    for (const mapping of maps) {
      if (!isCode(mapping)) continue;
      this.#provide(pid, mapping);
      const value = this.#known.get(`${kernelDevice(mapping.device)}:${mapping.inode}`);
      const at = `${pid}:${mapping.start}-${mapping.end}`;
      if (!value || this.#mappings.get(at) === value) continue;
      this.#mappings.set(at, value);
      try {
        this.#tracer.update('unwind_mappings', mappingKey(pid, mapping), value);
      } catch {
        // Full: the walk asks for this object by inode instead.
      }
    }
  }

  needTable(tgid: number, addr: number, device: number, inode: number): void {
    if (this.#known.has(`${device}:${inode}`)) return;
    let mapping: Mapping | undefined;
    try {
      mapping = readMaps(tgid).find((m) => addr >= m.start && addr < m.end);
    } catch {
      mapping = undefined;
    }
    if (!mapping || !isCode(mapping)) {
      this.#settle(device, inode, `PID ${tgid}'s object with inode ${inode}`, ObjectKind.none, 'unmapped before its table could be built');
      return;
    }
    this.#provide(tgid, mapping);
    // The kernel may know the file by another inode than the maps show: an
    // overlayfs file (a container's) is mapped through its backing file on
    // 6.6+, and /proc/PID/maps names the overlay's. The same table serves both.
    const value = this.#known.get(`${kernelDevice(mapping.device)}:${mapping.inode}`);
    if (value && !this.#known.has(`${device}:${inode}`)) {
      this.#known.set(`${device}:${inode}`, value);
      this.#tracer.update('unwind_objects', objectKey(device, inode), value);
    }
  }

  #provide(pid: number, mapping: FileMapping): void {
    const device = kernelDevice(mapping.device);
    if (this.#known.has(`${device}:${mapping.inode}`)) return;
    const file = this.#options.keep(pid, mapping);
    if (file === null) return this.#settle(device, mapping.inode, mapping.path, ObjectKind.none, 'cannot be opened');
    if (this.#options.keepsFramePointers(file) === true) {
      this.stats.framePointers++;
      this.#options.say(`unwind table of ${mapping.path}: none needed, its code keeps frame pointers`);
      return this.#settle(device, mapping.inode, mapping.path, ObjectKind.framePointers);
    }
    const started = performance.now();
    let table: { rows: Buffer; pages: Buffer };
    try {
      table = addon().unwindTable(file);
    } catch (error) {
      return this.#settle(device, mapping.inode, mapping.path, ObjectKind.none, (error as Error).message);
    }
    this.stats.buildMs += performance.now() - started;
    const rows = table.rows.length / ROW_BYTES;
    const pages = table.pages.length / PAGE_BYTES;
    const { capacity } = this.#options;
    if (rows === 0) return this.#settle(device, mapping.inode, mapping.path, ObjectKind.none, 'no .eh_frame');
    if (this.stats.rows + rows > capacity.rows || this.stats.pages + pages > capacity.pages) {
      return this.#settle(device, mapping.inode, mapping.path, ObjectKind.none, `no room: its ${rows} rows do not fit the ${capacity.rows} of --unwind-rows`);
    }
    this.#tracer.writeArray('unwind_rows', this.stats.rows, table.rows);
    this.#tracer.writeArray('unwind_pages', this.stats.pages, rebased(table.pages, this.stats.rows));
    // Published last: no walk reads the rows before they are all there.
    this.#settle(device, mapping.inode, mapping.path, ObjectKind.table, null, this.stats.pages, pages);
    this.#options.say(`unwind table of ${mapping.path}: ${rows} rows in ${Math.round(performance.now() - started)} ms`);
    this.stats.objects++;
    this.stats.rows += rows;
    this.stats.pages += pages;
  }

  #settle(device: number, inode: number, path: string, kind: number, why: string | null = null, firstPage = 0, pages = 0): void {
    const value = objectValue(kind, firstPage, pages);
    this.#known.set(`${device}:${inode}`, value);
    if (why !== null) {
      this.stats.without.push({ path, why });
      this.#options.say(`unwind table of ${path}: none (${why}); stacks through its code are cut`);
    }
    this.#tracer.update('unwind_objects', objectKey(device, inode), value);
  }
}

/** The page index with its row numbers moved to where the rows now start. */
function rebased(pages: Buffer, firstRow: number): Buffer {
  const out = Buffer.from(pages);
  for (let at = 0; at < out.length; at += PAGE_BYTES) {
    if (out.readUInt32LE(at + PAGE_COUNT) !== 0) out.writeUInt32LE(out.readUInt32LE(at + PAGE_FIRST) + firstRow, at + PAGE_FIRST);
  }
  return out;
}

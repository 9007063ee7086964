// BPF stack ids -> dense indexes, with what is known of each stack: the
// tables keep a small index per entry instead of the id, and the report
// reads each stack once.
import { EventFlag } from '../native/layout.js';
import { NumberMap } from './number-map.js';

export class StackIndex {
  /** BPF stack id -> dense index. */
  private readonly indexes = new NumberMap();
  readonly ids: number[] = [];
  /** The process whose event first brought each stack: its maps name the frames. */
  readonly firstPids: number[] = [];
  readonly truncated: boolean[] = [];
  /** A walk of the stack stopped short of the outermost frame. */
  readonly cut: boolean[] = [];
  /** Everything each stack allocated while traced, freed or not (pprof's
   * alloc_* figures): bytes then count, side by side, so an allocation
   * touches one cache line of it, not one in each of two arrays. */
  private allocatedRows = new Float64Array(2 * 1024);

  get size(): number {
    return this.ids.length;
  }

  /** One allocation of `size` bytes under the stack at `index`. */
  allocated(index: number, size: number): void {
    const rows = this.allocatedRows;
    rows[2 * index] += size;
    rows[2 * index + 1] += 1;
  }

  allocatedBytes(index: number): number {
    return this.allocatedRows[2 * index];
  }

  allocatedCount(index: number): number {
    return this.allocatedRows[2 * index + 1];
  }

  private growAllocated(): void {
    const rows = new Float64Array(2 * this.allocatedRows.length);
    rows.set(this.allocatedRows);
    this.allocatedRows = rows;
  }

  /** The index of `stackId`, made at its first sight; `flags` are the event's stack flags. */
  indexOf(stackId: number, tgid: number, flags: number): number {
    let index = this.indexes.get(stackId);
    if (index < 0) {
      index = this.ids.length;
      this.indexes.set(stackId, index);
      this.ids.push(stackId);
      this.firstPids.push(tgid);
      this.truncated.push(false);
      this.cut.push(false);
      if (2 * this.ids.length > this.allocatedRows.length) this.growAllocated();
    }
    if (flags & EventFlag.stackTruncated) this.truncated[index] = true;
    if (flags & EventFlag.stackCut) this.cut[index] = true;
    return index;
  }
}

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

  get size(): number {
    return this.ids.length;
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
    }
    if (flags & EventFlag.stackTruncated) this.truncated[index] = true;
    if (flags & EventFlag.stackCut) this.cut[index] = true;
    return index;
  }
}

// What each flame graph and folded file draws: the heap's outstanding bytes,
// the descriptors still open, the mappings still mapped; with the words that
// say what the width counts.
import { LEAK_MAPPING_KINDS, type Report } from '../report/types.js';
import { describeOutstanding } from './describe.js';
import { countOf, humanBytes } from './format.js';
import type { WeightedStack } from './stack-path.js';

export interface Graph {
  stacks: WeightedStack[];
  /** Nouns for countOf: what the width counts, and what `count` counts (null: the same). */
  units: { weight: string; count: string | null };
  /** What the graph holds in all, for the subtitle. */
  summary: string;
  /** Said in place of a graph with nothing to draw. */
  empty: string;
}

/** A graph of the --out directory beside the heap's: `${name}.folded` and `${name}.svg`. */
export interface NamedGraph {
  name: string;
  title: string;
  graph: Graph;
}

export function heapStacks(report: Report): WeightedStack[] {
  return report.stacks.map((stack) => ({ stack, weight: stack.bytes, count: stack.allocations }));
}

export function heapGraph(report: Report): Graph {
  return {
    stacks: heapStacks(report),
    units: { weight: 'byte', count: 'allocation' },
    summary: describeOutstanding(report.totals),
    empty: 'no outstanding memory to draw',
  };
}

/** The descriptors' and mappings' graphs, when they were traced. Only the
 * mappings that may be leaks are drawn: the allocator's are heap memory
 * (drawn in the heap's graph), thread stacks and the loader's are no leaks. */
export function resourceGraphs(report: Report): NamedGraph[] {
  const graphs: NamedGraph[] = [];
  if (report.fds) {
    graphs.push({
      name: 'fds',
      title: 'Descriptors still open',
      graph: {
        stacks: report.fds.stacks.map((stack) => ({ stack, weight: stack.count, count: stack.count })),
        units: { weight: 'descriptor', count: null },
        summary: `${countOf(report.fds.outstanding, 'descriptor')} open`,
        empty: 'no open descriptors to draw',
      },
    });
  }
  if (report.mappings) {
    const leaks = report.mappings.stacks.filter((stack) => LEAK_MAPPING_KINDS.has(stack.kind));
    const bytes = leaks.reduce((sum, stack) => sum + stack.bytes, 0);
    const count = leaks.reduce((sum, stack) => sum + stack.count, 0);
    graphs.push({
      name: 'mappings',
      title: 'Anonymous and file mappings still mapped',
      graph: {
        stacks: leaks.map((stack) => ({ stack, weight: stack.bytes, count: stack.count })),
        units: { weight: 'byte', count: 'mapping' },
        summary: `${countOf(bytes, 'byte')} (${humanBytes(bytes)}) in ${countOf(count, 'mapping')}`,
        empty: 'no anonymous or file mappings to draw',
      },
    });
  }
  return graphs;
}

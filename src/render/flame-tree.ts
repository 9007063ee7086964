// Stacks merged into one tree rooted at "all": the shape a flame graph draws.

import type { Report } from '../report/types.js';
import { stackPath, type PathFrameKind, type WeightedStack } from './stack-path.js';

export interface FlameNode {
  name: string;
  kind: PathFrameKind | 'root';
  /** The width: bytes, or descriptors. */
  weight: number;
  /** Things held below: allocations, mappings, descriptors. */
  count: number;
  /** The stacks' `change` summed (0 where they have none). */
  change: number;
  /** Sorted by name, like flamegraph.pl, so the same data always draws the same picture. */
  children: FlameNode[];
}

interface GrowingNode {
  name: string;
  kind: FlameNode['kind'];
  weight: number;
  count: number;
  change: number;
  children: Map<string, GrowingNode>;
}

function grow(name: string, kind: FlameNode['kind']): GrowingNode {
  return { name, kind, weight: 0, count: 0, change: 0, children: new Map() };
}

function byName(a: FlameNode, b: FlameNode): number {
  // Code-unit order, not localeCompare: identical on every machine.
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

function freeze(node: GrowingNode): FlameNode {
  const children = [...node.children.values()].map(freeze).sort(byName);
  return { name: node.name, kind: node.kind, weight: node.weight, count: node.count, change: node.change, children };
}

export function buildFlameTree(stacks: WeightedStack[], mode: Report['mode']): FlameNode {
  const root = grow('all', 'root');
  for (const { stack, weight, count, change = 0 } of stacks) {
    let node = root;
    node.weight += weight;
    node.count += count;
    node.change += change;
    for (const frame of stackPath(stack, mode)) {
      // Keyed by kind too: a made-up `[unknown]` must not merge with a symbol of that name.
      const key = `${frame.kind}:${frame.name}`;
      let child = node.children.get(key);
      if (child === undefined) {
        child = grow(frame.name, frame.kind);
        node.children.set(key, child);
      }
      child.weight += weight;
      child.count += count;
      child.change += change;
      node = child;
    }
  }
  return freeze(root);
}

// The descriptors and mappings sections: what the trace saw made and still
// open or mapped, by the stack of the call that made it.
import type { FdTable } from '../aggregate/fd-table.js';
import type { MappingTable } from '../aggregate/mapping-table.js';
import type { ResourceLedger } from '../aggregate/resource-ledger.js';
import { enumNames } from '../native/contract.generated.js';
import { fdExample, fdKind } from './fd-kinds.js';
import { resolveStackRequests, type ResolvedStack, type StackSource } from './stacks.js';
import { inLoader } from './system-objects.js';
import type { FdReport, FdStackReport, MappingKind, MappingReport, MappingStackReport, Report } from './types.js';

export interface ResourceInput extends StackSource {
  resources?: ResourceLedger;
}

/** Distinct examples shown per stack. */
const EXAMPLES = 5;

const { lh_map_kind: MapKind } = enumNames;
const MAPPING_KINDS: Record<number, MappingKind> = {
  [MapKind.anonymous]: 'anonymous',
  [MapKind.file]: 'file',
  [MapKind.allocator]: 'allocator',
  [MapKind.threadStack]: 'thread-stack',
};

interface FdGroup {
  stack: number;
  count: number;
  kinds: Map<string, number>;
  examples: Set<string>;
}

interface MappingGroup {
  stack: number;
  /** enum lh_map_kind. */
  kind: number;
  bytes: number;
  count: number;
}

/** Open descriptors made at or before `bornBefore`, by stack. */
function fdGroups(fds: FdTable, bornBefore: number): FdGroup[] {
  const groups = new Map<number, FdGroup>();
  fds.forEach((_tgid, _fd, { stack, ticks, details }) => {
    if (ticks > bornBefore) return;
    let group = groups.get(stack);
    if (group === undefined) {
      group = { stack, count: 0, kinds: new Map(), examples: new Set() };
      groups.set(stack, group);
    }
    const kind = fdKind(details);
    group.count++;
    group.kinds.set(kind, (group.kinds.get(kind) ?? 0) + 1);
    if (group.examples.size < EXAMPLES) group.examples.add(fdExample(details, kind));
  });
  return [...groups.values()].sort((a, b) => b.count - a.count || a.stack - b.stack);
}

/** Mapped ranges made at or before `bornBefore`, by stack and kind. */
function mappingGroups(mappings: MappingTable, bornBefore: number): MappingGroup[] {
  const groups = new Map<string, MappingGroup>();
  mappings.forEach((_tgid, { start, end, stack, ticks, kind }) => {
    if (ticks > bornBefore) return;
    const key = `${stack}:${kind}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { stack, kind, bytes: 0, count: 0 };
      groups.set(key, group);
    }
    group.bytes += end - start;
    group.count++;
  });
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes || b.count - a.count || a.stack - b.stack);
}

/** Kinds by count, most first, then by name. */
function kindCounts(kinds: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...kinds].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0)));
}

/** What the loader mapped for itself is shown apart, whatever it mapped. */
function mappingKind(kind: number, stack: ResolvedStack): MappingKind {
  const named = MAPPING_KINDS[kind] ?? 'anonymous';
  return (named === 'anonymous' || named === 'file') && inLoader(stack.frames[0]) ? 'loader' : named;
}

/** Every stack the groups name, each resolved once. */
function resolveGroups(input: ResourceInput, resources: ResourceLedger, groups: { stack: number }[]): Map<number, ResolvedStack> {
  const { ids, firstPids, cut } = resources.stacks;
  const indexes = [...new Set(groups.map((group) => group.stack))];
  const resolved = resolveStackRequests(
    input,
    indexes.map((i) => ({ stackId: ids[i], pid: firstPids[i], cut: cut[i] })),
  );
  return new Map(indexes.map((index, i) => [index, resolved[i]]));
}

export function resourceSections(input: ResourceInput, bornBefore: number): Pick<Report, 'fds' | 'mappings'> {
  const { resources } = input;
  if (resources === undefined) return {};
  const fdStacks = fdGroups(resources.fds, bornBefore);
  const mappingStacks = mappingGroups(resources.mappings, bornBefore);
  const resolved = resolveGroups(input, resources, [...fdStacks, ...mappingStacks]);
  const truncated = (stack: number) => resources.stacks.truncated[stack];
  const fds: FdReport = {
    outstanding: fdStacks.reduce((sum, group) => sum + group.count, 0),
    opened: resources.fds.opened,
    closed: resources.fds.closed,
    stacks: fdStacks.map((group): FdStackReport => {
      const { frames, partial } = resolved.get(group.stack)!;
      return { count: group.count, kinds: kindCounts(group.kinds), examples: [...group.examples], frames, truncated: truncated(group.stack), partial };
    }),
  };
  const mappings: MappingReport = {
    outstandingBytes: mappingStacks.reduce((sum, group) => sum + group.bytes, 0),
    outstanding: mappingStacks.reduce((sum, group) => sum + group.count, 0),
    stacks: mappingStacks.map((group): MappingStackReport => {
      const stack = resolved.get(group.stack)!;
      return { bytes: group.bytes, count: group.count, kind: mappingKind(group.kind, stack), frames: stack.frames, truncated: truncated(group.stack), partial: stack.partial };
    }),
  };
  return { ...(resources.traced.fds ? { fds } : {}), ...(resources.traced.mappings ? { mappings } : {}) };
}

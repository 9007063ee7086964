// The report as a gzipped pprof profile (profile.proto), which go tool
// pprof, Grafana Pyroscope and Parca read. Encoded with pprof-format, not by
// hand. Sample types as Go's heap profiles have them: alloc_objects and
// alloc_space (everything a stack allocated while traced, its churn stacks
// included) where the report counted them, then inuse_objects and
// inuse_space (the default), so the totals are the report's.
import { gzipSync } from 'node:zlib';
import { Function as ProfileFunction, Line, Location, Mapping, Profile, Sample, StringTable, ValueType, type LabelInput } from 'pprof-format';

import type { Frame, Report, StackReport } from '../report/types.js';
import { describeCounters, describeRun } from './describe.js';
import { frameName } from './stack-path.js';

/** The ids and tables the profile refers to, each entry made once. */
class Tables {
  readonly strings = new StringTable();
  readonly mappings = new Map<string, Mapping>();
  readonly functions = new Map<string, ProfileFunction>();
  readonly locations = new Map<string, Location>();

  mapping(frame: Frame): number {
    const { module, buildId = '' } = frame;
    if (module === null) return 0;
    // By build-id too: one path may name two builds (a file replaced while traced, another pid's).
    const key = `${module}\0${buildId}`;
    let mapping = this.mappings.get(key);
    if (mapping === undefined) {
      // The report keeps no load addresses, so the range is left empty; the
      // frames come symbolized, so pprof is told not to look for the file.
      mapping = new Mapping({
        id: this.mappings.size + 1,
        filename: this.strings.dedup(module),
        buildId: this.strings.dedup(buildId),
        hasFunctions: true,
        hasFilenames: true,
        hasLineNumbers: true,
        hasInlineFrames: true,
      });
      this.mappings.set(key, mapping);
    }
    return Number(mapping.id);
  }

  function(name: string, file: string | null): number {
    const key = `${name}\0${file ?? ''}`;
    let fn = this.functions.get(key);
    if (fn === undefined) {
      const id = this.strings.dedup(name);
      fn = new ProfileFunction({ id: this.functions.size + 1, name: id, systemName: id, filename: this.strings.dedup(file ?? '') });
      this.functions.set(key, fn);
    }
    return Number(fn.id);
  }

  /** One address, with the functions inlined there first and the one it lies in last, as profile.proto orders a Location's lines. */
  location(frames: Frame[]): number {
    const last = frames[frames.length - 1]!;
    const key = [last.module, last.buildId, last.address, ...frames.map((frame) => `${frameName(frame)}@${frame.file}:${frame.line}`)].join('\0');
    let location = this.locations.get(key);
    if (location === undefined) {
      location = new Location({
        id: this.locations.size + 1,
        mappingId: this.mapping(last),
        address: BigInt(last.address),
        line: frames.map((frame) => new Line({ functionId: this.function(frameName(frame), frame.file), line: frame.line ?? 0 })),
      });
      this.locations.set(key, location);
    }
    return Number(location.id);
  }

  /** A name leakhound made up (`[truncated]`), as the flame graph draws it. */
  marker(name: string): number {
    let location = this.locations.get(name);
    if (location === undefined) {
      location = new Location({ id: this.locations.size + 1, line: [new Line({ functionId: this.function(name, null) })] });
      this.locations.set(name, location);
    }
    return Number(location.id);
  }
}

/** Leaf first, as pprof wants: each address's frames make one location. */
function locationIds(stack: StackReport, tables: Tables): number[] {
  const ids: number[] = [];
  let run: Frame[] = [];
  for (const frame of stack.frames) {
    run.push(frame);
    if (!frame.inlined) {
      ids.push(tables.location(run));
      run = [];
    }
  }
  if (run.length > 0) ids.push(tables.location(run));
  if (ids.length === 0) ids.push(tables.marker('[unknown]'));
  if (stack.partial) ids.push(tables.marker('[partial]'));
  if (stack.truncated) ids.push(tables.marker('[truncated]'));
  return ids;
}

function labels(stack: StackReport, tables: Tables): LabelInput[] {
  const pids = (stack.pids ?? []).map((pid): LabelInput => ({ key: tables.strings.dedup('pid'), num: pid }));
  return stack.cache === undefined ? pids : [...pids, { key: tables.strings.dedup('cache'), str: tables.strings.dedup(stack.cache) }];
}

/** Each sample's values, in the order of its sample types. */
interface SampleValues {
  types: [type: string, unit: string][];
  of(stack: StackReport): number[];
}

function sampleValues(report: Report): SampleValues {
  const inuse: SampleValues['types'] = [
    ['inuse_objects', 'count'],
    ['inuse_space', 'bytes'],
  ];
  // Reports written before leakhound counted allocations per stack have no alloc_* to give.
  if (report.totals.allocatedBytes === undefined) return { types: inuse, of: (stack) => [stack.allocations, stack.bytes] };
  return {
    types: [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ...inuse],
    of: (stack) => [stack.allocated?.allocations ?? 0, stack.allocated?.bytes ?? 0, stack.allocations, stack.bytes],
  };
}

/** The profile, gzipped as profile.pb.gz files are. */
export function renderPprof(report: Report): Uint8Array {
  const tables = new Tables();
  const { strings } = tables;
  const valueType = (type: string, unit: string) => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) });
  const values = sampleValues(report);
  const sample = (stack: StackReport, locationId: number[]) => new Sample({ locationId, value: values.of(stack), label: labels(stack, tables) });
  const stacks = [...report.stacks, ...(report.churnStacks ?? [])];
  const samples = stacks.map((stack) => sample(stack, locationIds(stack, tables)));
  const omitted = report.churnOmitted;
  if (omitted !== undefined) {
    // The churn stacks the report only summed: one sample, so alloc_* still add up.
    const rest: StackReport = { bytes: 0, allocations: 0, frames: [], truncated: false, partial: false, allocated: omitted };
    samples.push(sample(rest, [tables.marker(`[${omitted.stacks} more churn stacks]`)]));
  }
  const profile = new Profile({
    sampleType: values.types.map(([type, unit]) => valueType(type, unit)),
    sample: samples,
    mapping: [...tables.mappings.values()],
    location: [...tables.locations.values()],
    function: [...tables.functions.values()],
    stringTable: strings,
    durationNanos: BigInt(Math.round(report.durationMs * 1e6)),
    periodType: valueType('space', 'bytes'),
    // With --sample-every the figures are already scaled; the period says by how much.
    period: report.totals.sampleEvery ?? 1,
    comment: [strings.dedup(`leakhound: ${describeRun(report)}`), strings.dedup(describeCounters(report.totals))],
    defaultSampleType: strings.dedup('inuse_space'),
  });
  return gzipSync(profile.encode());
}

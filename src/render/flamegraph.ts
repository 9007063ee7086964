// A self-contained SVG flame graph of what is still held: width is outstanding bytes (or open descriptors), root at the bottom.
// Drawn here because the npm `flamegraph` package (unmaintained since 2018) takes only perf-script text, ignores a title and wrote malformed XML in a trial.

import type { Report } from '../report/types.js';
import { anyLoss, describeCounters, describeRun } from './describe.js';
import { buildFlameTree, type FlameNode } from './flame-tree.js';
import { zoomScript } from './flamegraph-zoom.js';
import { countOf } from './format.js';
import { heapGraph, type Graph } from './graphs.js';

export interface FlamegraphOptions {
  title: string;
  /** Defaults to what was traced, for how long, and what the graph holds. */
  subtitle?: string;
  /** A frame's colour, in place of the palette by name (a diff's graph colours by change). */
  fill?: (node: FlameNode) => string;
  /** Said after a frame's figures in its tooltip. */
  note?: (node: FlameNode) => string;
}

const WIDTH = 1200;
const PAD = 10;
const FRAME_HEIGHT = 16;
const FONT_SIZE = 12;
/** Monospace advance, so labels can be cut to fit without measuring text. */
const CHAR_WIDTH = FONT_SIZE * 0.6;
/** A label's baseline below its frame's top edge. */
const BASELINE = FRAME_HEIGHT - 4;
/** Pixels; narrower frames (and so all their children) are left out, as flamegraph.pl does. */
const MIN_FRAME_WIDTH = 0.1;

const STYLE = `text { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: ${FONT_SIZE}px; fill: #000; }
.title { font-size: 17px; text-anchor: middle; }
.subtitle { fill: #444; text-anchor: middle; }
.warning { fill: #b00000; text-anchor: middle; }
.frame { cursor: pointer; }
.frame:hover rect { stroke: #000; stroke-width: 0.5; }`;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Names come from the traced program. Besides the five markup characters,
 * XML forbids most control characters and lone surrogates even as character
 * references, so those become U+FFFD rather than break the document.
 */
function xml(text: string): string {
  return text
    .replace(/[^\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, '\ufffd')
    .replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function px(n: number): string {
  return n.toFixed(2);
}

/** FNV-1a: the same function gets the same colour in every graph. */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** FlameGraph's memory palette idea: greens for user code, blues for the kernel, grey for made-up frames;
 * its aqua for inlined functions. */
function fill(node: FlameNode): string {
  if (node.kind === 'root') return 'rgb(190,200,190)';
  if (node.kind === 'marker') return 'rgb(185,185,185)';
  const hash = nameHash(node.name);
  const a = (hash & 0xff) / 255;
  const b = ((hash >>> 8) & 0xff) / 255;
  const c = ((hash >>> 16) & 0xff) / 255;
  const [red, green, blue] =
    node.kind === 'kernel'
      ? [70 + 70 * a, 140 + 60 * b, 200 + 50 * c]
      : node.kind === 'inlined'
        ? [50 + 60 * a, 165 + 60 * b, 165 + 60 * c]
        : [80 + 80 * a, 180 + 50 * b, 70 + 90 * c];
  return `rgb(${Math.round(red)},${Math.round(green)},${Math.round(blue)})`;
}

/** As much of the name as fits, cut by code point so no surrogate pair is split; the zoom script cuts the same way. */
function label(name: string, width: number): string {
  const room = Math.floor((width - 6) / CHAR_WIDTH);
  if (room < 3) return '';
  const chars = Array.from(name);
  return chars.length <= room ? name : `${chars.slice(0, room - 2).join('')}..`;
}

interface PlacedFrame {
  node: FlameNode;
  x: number;
  width: number;
  /** 0 for the root. */
  depth: number;
}

function place(root: FlameNode): PlacedFrame[] {
  const scale = (WIDTH - 2 * PAD) / root.weight;
  const placed: PlacedFrame[] = [];
  const visit = (node: FlameNode, x: number, depth: number): void => {
    const width = node.weight * scale;
    if (width < MIN_FRAME_WIDTH) return;
    placed.push({ node, x, width, depth });
    let childX = x;
    for (const child of node.children) {
      visit(child, childX, depth + 1);
      childX += child.weight * scale;
    }
  };
  visit(root, PAD, 0);
  return placed;
}

function frameSvg(frame: PlacedFrame, y: number, total: number, units: Graph['units'], options: FlamegraphOptions): string {
  const { node, x, width } = frame;
  const percent = ((node.weight / total) * 100).toFixed(2);
  // Anything after the name follows the dash: the zoom script reads the name up to it.
  const count = units.count === null ? '' : `, ${countOf(node.count, units.count)}`;
  const inlined = node.kind === 'inlined' ? ', inlined' : '';
  const note = options.note === undefined ? '' : `, ${options.note(node)}`;
  const tooltip = `${node.name} — ${countOf(node.weight, units.weight)} (${percent}%)${count}${inlined}${note}`;
  const text = label(node.name, width);
  return (
    `<g class="frame"><title>${xml(tooltip)}</title>` +
    `<rect x="${px(x)}" y="${px(y)}" width="${px(width)}" height="${FRAME_HEIGHT - 1}" rx="2" fill="${(options.fill ?? fill)(node)}"/>` +
    (text === '' ? '' : `<text x="${px(x + 3)}" y="${px(y + BASELINE)}">${xml(text)}</text>`) +
    '</g>'
  );
}

/** The report's heap, or `graph` of it. */
export function renderFlamegraph(report: Report, options: FlamegraphOptions, graph: Graph = heapGraph(report)): string {
  const subtitle = options.subtitle ?? `${describeRun(report)}; ${graph.summary}`;
  // Data loss is shown whatever subtitle the caller chose: the picture is incomplete without it.
  const header = [
    `<text class="title" x="${WIDTH / 2}" y="24">${xml(options.title)}</text>`,
    `<text class="subtitle" x="${WIDTH / 2}" y="44">${xml(subtitle)}</text>`,
  ];
  if (anyLoss(report.totals)) {
    header.push(`<text class="warning" x="${WIDTH / 2}" y="62">${xml(`WARNING: ${describeCounters(report.totals)}`)}</text>`);
  }
  const top = header.length * 18 + 20;

  const root = buildFlameTree(graph.stacks, report.mode);
  const body: string[] = [];
  let height: number;
  if (root.weight > 0) {
    const placed = place(root);
    const maxDepth = placed.reduce((max, frame) => Math.max(max, frame.depth), 0);
    for (const frame of placed) body.push(frameSvg(frame, top + (maxDepth - frame.depth) * FRAME_HEIGHT, root.weight, graph.units, options));
    height = top + (maxDepth + 1) * FRAME_HEIGHT + PAD;
  } else {
    body.push(`<text class="subtitle" x="${WIDTH / 2}" y="${top + FRAME_HEIGHT}">${xml(graph.empty)}</text>`);
    height = top + 2 * FRAME_HEIGHT;
  }

  return [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">`,
    `<title>${xml(options.title)}</title>`,
    `<style type="text/css">\n${STYLE}\n</style>`,
    '<rect width="100%" height="100%" fill="#f8f8f4"/>',
    ...header,
    ...body,
    `<script type="text/ecmascript"><![CDATA[\n${zoomScript({ left: PAD, width: WIDTH - 2 * PAD, charWidth: CHAR_WIDTH, baseline: BASELINE })}\n]]></script>`,
    '</svg>',
    '',
  ].join('\n');
}

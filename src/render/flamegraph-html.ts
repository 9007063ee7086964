// flamegraph.html: an interactive flame graph (click to zoom, search, tooltips)
// in one file that works offline. d3-flame-graph draws it; the page carries
// that library, the tree of the report's stacks as JSON, and a short script.

import type { Report } from '../report/types.js';
import { anyLoss, describeCounters, describeRun } from './describe.js';
import { buildFlameTree, type FlameNode } from './flame-tree.js';
import type { FlamegraphOptions } from './flamegraph.js';
import { PAGE_SCRIPT, type PageData, type PageNode } from './flamegraph-html-page.js';
import { flamegraphLibrary } from './flamegraph-library.js';
import { countOf, humanBytes } from './format.js';
import { heapGraph, type Graph } from './graphs.js';
import { stackPath, type WeightedStack } from './stack-path.js';

/** Places named in a tooltip; the rest are counted. */
const MAX_PLACES = 5;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** JSON inside a <script> element: with <, > and & as escapes, no name can close the element or open a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A node's key in the tree: the same path buildFlameTree merges on (kind and name of each frame from the root). */
function stepKey(parent: string, kind: string, name: string): string {
  return `${parent}\0${kind}:${name}`;
}

/** Where the code of each node lies: `file:line (module)`, distinct, for every frame merged into it. */
function placesByPath(stacks: WeightedStack[], mode: Report['mode']): Map<string, Set<string>> {
  const places = new Map<string, Set<string>>();
  for (const { stack } of stacks) {
    const path = stackPath(stack, mode);
    // The path is the frames reversed, after any markers it put first.
    const firstFrame = path.length - stack.frames.length;
    let key = '';
    path.forEach((step, i) => {
      key = stepKey(key, step.kind, step.name);
      if (i < firstFrame) return;
      const frame = stack.frames[path.length - 1 - i]!;
      const where = frame.file === null ? `+0x${frame.offset.toString(16)}` : `${frame.file}:${frame.line ?? '?'}`;
      const place = frame.module === null ? where : `${where} (${frame.module})`;
      const set = places.get(key) ?? new Set<string>();
      set.add(place);
      places.set(key, set);
    });
  }
  return places;
}

interface NodeTexts {
  total: number;
  units: Graph['units'];
  places: Map<string, Set<string>>;
}

function pageNode(node: FlameNode, key: string, texts: NodeTexts): PageNode {
  const percent = ((node.weight / texts.total) * 100).toFixed(2);
  const weight = countOf(node.weight, texts.units.weight) + (texts.units.weight === 'byte' ? ` (${humanBytes(node.weight)})` : '');
  const count = texts.units.count === null ? null : countOf(node.count, texts.units.count);
  const inlined = node.kind === 'inlined' ? 'inlined' : null;
  const places = [...(texts.places.get(key) ?? [])];
  const shown = places.slice(0, MAX_PLACES);
  if (places.length > MAX_PLACES) shown.push(`and ${countOf(places.length - MAX_PLACES, 'other place')}`);
  const figures = [`${weight}, ${percent}%`, count, inlined].filter((part): part is string => part !== null);
  const libtype = node.kind === 'kernel' || node.kind === 'inlined' ? node.kind : undefined;
  return {
    name: node.name,
    value: node.weight,
    ...(libtype === undefined ? {} : { libtype }),
    label: `${node.name} — ${figures.join(', ')}`,
    tip: [node.name, ...figures, ...shown].join('\n'),
    children: node.children.map((child) => pageNode(child, stepKey(key, child.kind, child.name), texts)),
  };
}

/** The tree as the page script reads it; null when nothing is held. */
export function flamegraphPageData(report: Report, graph: Graph): PageData | null {
  const root = buildFlameTree(graph.stacks, report.mode);
  if (root.weight <= 0) return null;
  const texts: NodeTexts = { total: root.weight, units: graph.units, places: placesByPath(graph.stacks, report.mode) };
  // The root has no key: paths start below it.
  return { unit: graph.units.weight, root: pageNode(root, '', texts) };
}

const STYLE = `body { font-family: "DejaVu Sans", Verdana, sans-serif; margin: 16px; background: #f8f8f4; }
h1 { font-size: 18px; margin: 0 0 4px; }
.subtitle { color: #444; margin: 0 0 4px; }
.warning { color: #b00000; margin: 0 0 4px; }
form { margin: 8px 0; }
#details { min-height: 1.4em; font-family: "DejaVu Sans Mono", monospace; font-size: 13px; }
.d3-flame-graph-tip { white-space: pre-line; font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
footer { color: #777; font-size: 11px; margin-top: 8px; }`;

/** The report's heap, or `graph` of it, as one HTML page. */
export function renderFlamegraphHtml(report: Report, options: FlamegraphOptions, graph: Graph = heapGraph(report)): string {
  const subtitle = options.subtitle ?? `${describeRun(report)}; ${graph.summary}`;
  const data = flamegraphPageData(report, graph);
  const library = flamegraphLibrary();
  const head = [
    `<h1>${html(options.title)}</h1>`,
    `<p class="subtitle">${html(subtitle)}</p>`,
    // Data loss is shown whatever subtitle the caller chose: the picture is incomplete without it.
    ...(anyLoss(report.totals) ? [`<p class="warning">${html(`WARNING: ${describeCounters(report.totals)}`)}</p>`] : []),
  ];
  const body =
    data === null
      ? [`<p class="subtitle">${html(graph.empty)}</p>`]
      : [
          '<form id="search"><input id="term" type="search" placeholder="function name" aria-label="search"> <button type="submit">Search</button> <button type="button" id="reset">Reset zoom</button></form>',
          '<div id="details"></div>',
          '<div id="chart"></div>',
          `<script type="application/json" id="flame-data">${scriptJson(data)}</script>`,
          ...library.map((script) => `<script>/* ${script.credit} */\n${script.code}\n</script>`),
          `<script>\n${PAGE_SCRIPT}\n</script>`,
        ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: the page is whole in itself, and a name in the data can never make it load anything.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">`,
    `<title>${html(options.title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    ...head,
    ...body,
    `<footer>Drawn with ${library.map((script) => html(script.credit)).join(' and ')}. Click a frame to zoom in.</footer>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

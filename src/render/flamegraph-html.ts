// flamegraph.html: an interactive flame graph (click to zoom, search, tooltips)
// in one file that works offline. d3-flame-graph draws it; the page carries
// that library, the tree of the report's stacks as JSON, and a short script.

import type { Frame, Report } from '../report/types.js';
import { anyLoss, describeCounters, describeRun } from './describe.js';
import { buildFlameTree, type FlameNode } from './flame-tree.js';
import type { FlamegraphOptions } from './flamegraph.js';
import { PAGE_SCRIPT, type PageData, type PageNode } from './flamegraph-html-page.js';
import { flamegraphLibrary } from './flamegraph-library.js';
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

/** A child's key among its siblings, as buildFlameTree merges them: a marker never merges with a symbol of its name. */
function childKey(kind: string, name: string): string {
  return `${kind}:${name}`;
}

/** `file:line (module)`, or the offset where no line is known. */
function placeOf(frame: Frame): string {
  const where = frame.file === null ? `+0x${frame.offset.toString(16)}` : `${frame.file}:${frame.line ?? '?'}`;
  return frame.module === null ? where : `${where} (${frame.module})`;
}

/** Where the code of each node lies, for every frame merged into it: each stack walked down the tree again. */
function placesByNode(root: FlameNode, stacks: WeightedStack[], mode: Report['mode']): Map<FlameNode, Set<string>> {
  const childrenOf = new Map<FlameNode, Map<string, FlameNode>>();
  const places = new Map<FlameNode, Set<string>>();
  for (const { stack } of stacks) {
    const path = stackPath(stack, mode);
    // The path is the frames reversed, after any markers it put first.
    const firstFrame = path.length - stack.frames.length;
    let node = root;
    path.forEach((step, i) => {
      let children = childrenOf.get(node);
      if (children === undefined) {
        children = new Map(node.children.map((child) => [childKey(child.kind, child.name), child]));
        childrenOf.set(node, children);
      }
      node = children.get(childKey(step.kind, step.name))!;
      if (i < firstFrame) return;
      const set = places.get(node) ?? new Set<string>();
      set.add(placeOf(stack.frames[path.length - 1 - i]!));
      places.set(node, set);
    });
  }
  return places;
}

/** The tree as the page reads it: figures only, the words are the page's (made on hover, so a large tree stays small). */
function pageNode(node: FlameNode, places: Map<FlameNode, Set<string>>): PageNode {
  const here = [...(places.get(node) ?? [])];
  return {
    name: node.name,
    value: node.weight,
    count: node.count,
    ...(node.kind === 'kernel' || node.kind === 'inlined' ? { libtype: node.kind } : {}),
    ...(here.length === 0 ? {} : { places: here.slice(0, MAX_PLACES) }),
    ...(here.length > MAX_PLACES ? { morePlaces: here.length - MAX_PLACES } : {}),
    ...(node.children.length === 0 ? {} : { children: node.children.map((child) => pageNode(child, places)) }),
  };
}

/** The tree as the page script reads it; null when nothing is held. */
function flamegraphPageData(report: Report, graph: Graph): PageData | null {
  const root = buildFlameTree(graph.stacks, report.mode);
  if (root.weight <= 0) return null;
  return { units: graph.units, root: pageNode(root, placesByNode(root, graph.stacks, report.mode)) };
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

// The script of flamegraph.html, run in the browser after d3 and
// d3-flame-graph: it draws the graph from the data the renderer embedded and
// wires the search box. Every text it shows is set as text, never as markup
// (names come from the traced program).

/** What the page script reads from the `flame-data` element. */
export interface PageData {
  /** Nouns for the figures, as in Graph: what the width counts, and what `count` counts (null: the same). */
  units: { weight: string; count: string | null };
  root: PageNode;
}

/** One frame of the graph, in d3-flame-graph's input shape (name, value, children) plus what the tooltip says. */
export interface PageNode {
  name: string;
  /** The width, with the frames above it. */
  value: number;
  /** Things held at and above it: allocations, mappings, descriptors. */
  count: number;
  /** d3-flame-graph's palette key: kernel and inlined frames get their own hues. */
  libtype?: 'kernel' | 'inlined';
  /** `file:line (module)` of the frames merged here, the first few. */
  places?: string[];
  /** How many more places there are. */
  morePlaces?: number;
  children?: PageNode[];
}

export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('flame-data').textContent);
  var details = document.getElementById('details');
  var form = document.getElementById('search');
  var term = document.getElementById('term');
  var searchLine = '';

  var units = data.units;
  var total = data.root.value;

  // The wording of leakhound's text report (src/render/format.ts), here made on hover.
  function grouped(n) { return String(n).replace(/\B(?=(\d{3})+$)/g, ','); }
  function countOf(n, noun) { return grouped(n) + ' ' + noun + (n === 1 ? '' : 's'); }
  function humanBytes(n) {
    if (n < 1024) return n + ' B';
    var names = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    var value = n;
    var unit = -1;
    while (value >= 1024 && unit < names.length - 1) { value /= 1024; unit++; }
    return value.toFixed(1) + ' ' + names[unit];
  }
  /** Weight and share, the count, and whether inlined. */
  function figures(node) {
    var weight = countOf(node.value, units.weight) + (units.weight === 'byte' ? ' (' + humanBytes(node.value) + ')' : '');
    var parts = [weight + ', ' + ((100 * node.value) / total).toFixed(2) + '%'];
    if (units.count !== null) parts.push(countOf(node.count, units.count));
    if (node.libtype === 'inlined') parts.push('inlined');
    return parts;
  }
  function tip(d) {
    var places = (d.data.places || []).slice();
    if (d.data.morePlaces) places.push('and ' + countOf(d.data.morePlaces, 'other place'));
    return [d.data.name].concat(figures(d.data), places).join('\n');
  }

  var tooltip = flamegraph.tooltip.defaultFlamegraphTooltip().text(tip);
  var chart = flamegraph.default()
    .width(Math.max(600, document.getElementById('chart').clientWidth))
    .cellHeight(18)
    .minFrameSize(1)
    .transitionDuration(300)
    .tooltip(tooltip)
    .label(function (d) { return d.data.name + ' — ' + figures(d.data).join(', '); })
    .setDetailsElement(details)
    // Plain text, not the library's default regular expression: names are full of ( ) * < >.
    .setSearchMatch(function (d, text) {
      return text !== '' && d.data.name.toLowerCase().indexOf(text.toLowerCase()) !== -1;
    })
    .setSearchHandler(function (results, sum, total) {
      var share = total > 0 ? ((100 * sum) / total).toFixed(2) : '0.00';
      searchLine = results.length === 0
        ? 'no frame matches'
        : 'matched ' + countOf(results.length, 'frame') + ': ' + countOf(sum, units.weight) + ' of ' + grouped(total) + ' (' + share + '%)';
      details.textContent = searchLine;
    })
    // Hovering shows the frame; leaving it brings the search's line back.
    .setDetailsHandler(function (text) { details.textContent = text || searchLine; });

  window.d3.select('#chart').datum(data.root).call(chart);

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (term.value === '') {
      searchLine = '';
      chart.clear();
    } else {
      chart.search(term.value);
    }
  });
  document.getElementById('reset').addEventListener('click', function () {
    term.value = '';
    searchLine = '';
    chart.clear();
    chart.resetZoom();
  });
})();`;

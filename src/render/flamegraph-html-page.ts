// The script of flamegraph.html, run in the browser after d3 and
// d3-flame-graph: it draws the graph from the data the renderer embedded and
// wires the search box. Every text it shows is set as text, never as markup
// (names come from the traced program).

/** What the page script reads from the `flame-data` element. */
export interface PageData {
  /** What the width counts, singular (`byte`, `descriptor`): the search line says it. */
  unit: string;
  root: PageNode;
}

/** One frame of the graph, in d3-flame-graph's input shape (name, value, children) plus our texts. */
export interface PageNode {
  name: string;
  /** The width, with the frames above it. */
  value: number;
  /** d3-flame-graph's palette key: kernel and inlined frames get their own hues. */
  libtype?: 'kernel' | 'inlined';
  /** The status line on hover: name, weight, share, count. */
  label: string;
  /** The tooltip: the label's figures on lines of their own, then where the code is. */
  tip: string;
  children: PageNode[];
}

export const PAGE_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('flame-data').textContent);
  var details = document.getElementById('details');
  var form = document.getElementById('search');
  var term = document.getElementById('term');
  var searchLine = '';

  function grouped(n) { return String(n).replace(/\B(?=(\d{3})+$)/g, ','); }
  function countOf(n, noun) { return grouped(n) + ' ' + noun + (n === 1 ? '' : 's'); }

  var tooltip = flamegraph.tooltip.defaultFlamegraphTooltip().text(function (d) { return d.data.tip; });
  var chart = flamegraph.default()
    .width(Math.max(600, document.getElementById('chart').clientWidth))
    .cellHeight(18)
    .minFrameSize(1)
    .transitionDuration(300)
    .tooltip(tooltip)
    .label(function (d) { return d.data.label; })
    .setDetailsElement(details)
    // Plain text, not the library's default regular expression: names are full of ( ) * < >.
    .setSearchMatch(function (d, text) {
      return text !== '' && d.data.name.toLowerCase().indexOf(text.toLowerCase()) !== -1;
    })
    .setSearchHandler(function (results, sum, total) {
      var share = total > 0 ? ((100 * sum) / total).toFixed(2) : '0.00';
      searchLine = results.length === 0
        ? 'no frame matches'
        : 'matched ' + countOf(results.length, 'frame') + ': ' + countOf(sum, data.unit) + ' of ' + grouped(total) + ' (' + share + '%)';
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

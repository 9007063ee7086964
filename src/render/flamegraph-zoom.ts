// The flame graph's only script: click a frame to widen it to the full width
// (its ancestors stretch under it, the rest hide); click "all" to go back.
// It reads positions and names from the drawn frames, so no data is
// interpolated into code.

export interface ZoomGeometry {
  /** Left edge of the root frame, px. */
  left: number;
  /** Width of the root frame, px. */
  width: number;
  /** Monospace advance used to cut labels, px. */
  charWidth: number;
  /** Text baseline below a frame's top, px. */
  baseline: number;
}

export function zoomScript(geometry: ZoomGeometry): string {
  const { left, width, charWidth, baseline } = geometry;
  // Kept to syntax every SVG viewer's script engine has; must never contain "]]>".
  return `(function () {
  var frames = Array.prototype.slice.call(document.querySelectorAll('g.frame'));
  var drawn = frames.map(function (g) {
    var rect = g.querySelector('rect');
    var tooltip = g.querySelector('title').textContent;
    return { x: +rect.getAttribute('x'), w: +rect.getAttribute('width'), y: +rect.getAttribute('y'),
      name: Array.from(tooltip.slice(0, tooltip.lastIndexOf(' \\u2014 '))) };
  });
  function place(g, frame, x, w) {
    var rect = g.querySelector('rect');
    var text = g.querySelector('text');
    if (!text) {
      text = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      text.setAttribute('y', (frame.y + ${baseline}).toFixed(2));
      g.appendChild(text);
    }
    rect.setAttribute('x', x.toFixed(2));
    rect.setAttribute('width', w.toFixed(2));
    text.setAttribute('x', (x + 3).toFixed(2));
    var room = Math.floor((w - 6) / ${charWidth});
    text.textContent = room < 3 ? '' : frame.name.length <= room ? frame.name.join('') : frame.name.slice(0, room - 2).join('') + '..';
  }
  function zoom(target) {
    var z = drawn[target];
    var scale = ${width} / z.w;
    // Positions are printed to 0.01 px and frames are at least 0.1 px wide.
    var slack = 0.02;
    frames.forEach(function (g, i) {
      var f = drawn[i];
      var within = f.x >= z.x - slack && f.x + f.w <= z.x + z.w + slack;
      var covers = f.x <= z.x + slack && f.x + f.w >= z.x + z.w - slack;
      g.style.display = '';
      g.style.opacity = '';
      if (f.y <= z.y && within) {
        place(g, f, ${left} + (f.x - z.x) * scale, f.w * scale);
      } else if (f.y > z.y && covers) {
        place(g, f, ${left}, ${width});
        g.style.opacity = '0.6';
      } else {
        g.style.display = 'none';
      }
    });
  }
  frames.forEach(function (g, i) { g.addEventListener('click', function () { zoom(i); }); });
})();`;
}

// The flame graph library the HTML page inlines: d3 and d3-flame-graph's
// browser builds, read from wherever Node resolves the packages from this
// file (the checkout's node_modules, or an installed leakhound's), so the
// page works offline and from any working directory.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Each package's minified UMD build, in load order: d3-flame-graph's UMD build takes its d3 modules from the global `d3`. */
const BUILDS = [
  { name: 'd3', file: 'd3.min.js' },
  { name: 'd3-flame-graph', file: 'd3-flamegraph.umd.min.js' },
] as const;

export interface LibraryScript {
  /** `d3 7.9.2 (ISC)`: said in the page beside the code, as the licences ask. */
  credit: string;
  code: string;
}

let cached: LibraryScript[] | null = null;

/** The packages export only their entry points, so each build is found beside
 * the entry Node resolves (both keep it in `dist/`), and the version and
 * licence in the package.json one folder up. */
function load(name: string, file: string): LibraryScript {
  const dist = dirname(createRequire(import.meta.url).resolve(name));
  const code = readFileSync(join(dist, file), 'utf8');
  // Inlined in a <script> element: a closing tag inside would end it early.
  if (/<\/script/i.test(code)) throw new Error(`${name}'s ${file} contains </script and cannot be inlined`);
  const meta = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string; license: string };
  return { credit: `${name} ${meta.version} (${meta.license})`, code };
}

export function flamegraphLibrary(): LibraryScript[] {
  cached ??= BUILDS.map(({ name, file }) => load(name, file));
  return cached;
}

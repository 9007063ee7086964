// Where the e2e tests find the CLI, the built fixtures and their expectations.
// Helpers run compiled from dist/test/helpers/: the repository is three up.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const cliPath = path.join(repoRoot, 'dist/src/cli/main.js');
export const fixtureSources = path.join(repoRoot, 'test/fixtures');
export const fixtureBinaries = path.join(repoRoot, '.output/fixtures');
export const demoSources = path.join(repoRoot, 'demo');

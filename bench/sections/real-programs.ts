import type { Bench } from '../lib/bench.js';
import type { Section } from '../lib/markdown.js';
export async function realProgramsSection(_bench: Bench): Promise<Section> {
  return { title: 'real-programs', lines: ['todo'] };
}

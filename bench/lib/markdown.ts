// The pieces RESULTS.md is written from: tables and verbatim command blocks.
import { failureLines } from './proc.js';

export function table(headers: string[], rows: string[][]): string[] {
  const escape = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${headers.map(escape).join(' | ')} |`,
    `|${headers.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
}

export function codeBlock(lines: string[]): string[] {
  return ['```', ...lines, '```'];
}

/** A section of RESULTS.md: its heading and body lines. */
export interface Section {
  title: string;
  lines: string[];
}

/** How a loop section ends: its verdicts, the runs that failed (left out of the medians), and the commands. */
export function verdictsAndCommands(verdicts: string[], failures: string[], commands: string[]): string[] {
  return [
    '**Verdicts**',
    '',
    ...verdicts.map((v) => `- ${v}`),
    '',
    ...failureLines(failures),
    'Commands (`$OUT` a scratch prefix):',
    '',
    ...codeBlock(commands),
    '',
  ];
}

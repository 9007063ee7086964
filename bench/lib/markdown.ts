// The pieces RESULTS.md is written from: tables and verbatim command blocks.

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

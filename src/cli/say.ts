/** leakhound's own lines go to stderr: stdout is the report's (and a launched command's). */
export function say(line: string): void {
  process.stderr.write(`leakhound: ${line}\n`);
}

// Runs the real leakhound CLI as a child process.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cliPath } from './paths.js';
import { collect, exited, type Exit } from './process.js';

export interface CliRun extends Exit {
  stdout: string;
  stderr: string;
}

/** Starts `node main.js ARGS`, its streams piped. */
export function startCli(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [cliPath, ...args], { stdio: 'pipe', ...options });
}

/** Runs the CLI to its end (killing it after `timeoutMs`), `input` on its stdin. */
export async function runCli(args: string[], input = '', timeoutMs = 20_000): Promise<CliRun> {
  const child = startCli(args);
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  child.stdin?.end(input);
  const exit = await exited(child, timeoutMs);
  return { ...exit, stdout: stdout(), stderr: stderr() };
}

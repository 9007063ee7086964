// File descriptors held at exit, by the stack that made them (issue 20), on
// the fds fixture: every kind at its own site with exact counts and kinds;
// descriptors opened and closed (one by one, by close_range, by dup2 onto
// their number, the sender's copies of two passed with SCM_RIGHTS) absent; the
// received copies present at recvmsg's caller; across an exec, O_CLOEXEC
// descriptors gone and the others held with the stack from before it; the
// same sites and counts as valgrind --track-fds=yes; and two threads opening
// and closing at once. Figures: test/fixtures/README.md.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { requireBpf } from '../helpers/bpf.js';
import { fixtureBinaries } from '../helpers/paths.js';
import { describeFrames, fdSites, invalidFrees, mentioning, withFds, type FdSite } from '../helpers/resources.js';
import { scratchDir } from '../helpers/tmp.js';
import { traceCommand } from '../helpers/trace.js';
import { valgrindMissing } from '../helpers/valgrind.js';
import { descriptorsBySite, trackFds } from '../helpers/valgrind-fds.js';

const FDS = path.join(fixtureBinaries, 'fds');

/** Kinds of the descriptors each site holds at exit (fds DIR). */
const SITES: Record<string, Record<string, number>> = {
  site_open: { file: 3 },
  site_openat: { file: 2 },
  site_tcp_listen: { socket: 1 },
  site_tcp_connect: { socket: 1 },
  site_tcp_accept: { socket: 1 },
  site_socketpair: { socket: 2 },
  site_pipe: { pipe: 4 },
  site_eventfd: { eventfd: 1 },
  site_epoll: { epoll: 1 },
  site_timerfd: { timerfd: 1 },
  site_signalfd: { signalfd: 1 },
  site_inotify: { inotify: 1 },
  site_memfd: { memfd: 1 },
  site_pidfd: { pidfd: 1 },
  site_dup: { file: 2 },
  site_dup2: { file: 2 },
  site_dup3: { file: 1 },
  site_fcntl_dupfd: { file: 1 },
  site_recvmsg: { file: 2 },
};
const OUTSTANDING = 29;
/** Everything they opened was closed: in no frame of any stack. */
const ABSENT = ['churn', 'open_for_close_range', 'open_dup2_target', 'open_scratch_dir', 'make_channel', 'send_descriptors'];
/** The fixture's own opens at the least: churn (3000 files, 500 pipes, 500 sockets), close_range's 6, dup2's target, the scratch dir, the channel and the 2 sent files, and what it keeps. */
const OWN_OPENS = 3000 + 2 * 500 + 500 + 6 + 1 + 1 + 2 + 2 + OUTSTANDING;

/** fds DIR --exec: held at exit. */
const EXEC_SITES: Record<string, Record<string, number>> = {
  site_exec_keep: { file: 2 },
  site_after_exec: { file: 1 },
};
const EXEC_ABSENT = ['site_exec_cloexec', 'site_exec_cloexec_socket'];

const kindsOf = (sites: Map<string, FdSite>) => Object.fromEntries([...sites].map(([site, s]) => [site, s.kinds]));
const sum = (kinds: Record<string, number>) => Object.values(kinds).reduce((a, b) => a + b, 0);

/** The names each site's examples may show (where the test knows them): whole paths, a connected socket's peer. */
function allowedExamples(dir: string, port: number, clientPort: number): Record<string, string[]> {
  const open0 = path.join(dir, 'open-0');
  return {
    site_open: [0, 1, 2].map((i) => path.join(dir, `open-${i}`)),
    site_openat: [0, 1].map((i) => path.join(dir, `openat-${i}`)),
    site_dup: [open0],
    site_dup2: [open0],
    site_dup3: [open0],
    site_fcntl_dupfd: [open0],
    site_recvmsg: [0, 1].map((i) => path.join(dir, `passed-${i}`)),
    site_tcp_connect: [`AF_INET 127.0.0.1:${port}`],
    site_tcp_accept: [`AF_INET 127.0.0.1:${clientPort}`],
  };
}

// One trace; each group of checks a subtest, so that one tells nothing of the others.
test('fds: every kind of descriptor held at exit is counted at its site, with its kind; what was closed is absent', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const { run, report } = await traceCommand(t, [FDS, dir]);
  assert.equal(run.code, 0, run.stderr);
  const ports = run.stdout.match(/^port (\d+) client (\d+)$/m);
  assert.ok(ports, `the fixture says its ports: ${JSON.stringify(run.stdout)}`);
  assert.doesNotMatch(run.stdout, /no pidfd_open/, 'this kernel has pidfd_open');
  const fds = withFds(report);
  const sites = fdSites(fds.stacks, FDS);

  await t.test('kinds and counts per site, and no descriptor held from elsewhere', () => {
    assert.deepEqual(kindsOf(sites), SITES);
    for (const [site, s] of sites) assert.equal(s.count, sum(s.kinds), `${site}: count is the sum of its kinds`);
    for (const stack of fds.stacks) assert.equal(stack.count, sum(stack.kinds), `a stack's count is the sum of its kinds: ${describeFrames(stack.frames)}`);
  });

  await t.test('what was closed (one by one, by close_range, by dup2 onto it, the sent copies) is in no stack', () => {
    for (const symbol of ABSENT) assert.deepEqual(mentioning(fds.stacks, symbol).map((s) => describeFrames(s.frames)), [], `no stack through ${symbol}`);
  });

  await t.test('totals: outstanding, opened and closed', () => {
    assert.equal(fds.outstanding, OUTSTANDING, 'outstanding descriptors');
    assert.equal(fds.stacks.reduce((n, s) => n + s.count, 0), fds.outstanding, 'the stacks add up to the outstanding count');
    assert.ok(fds.opened >= OWN_OPENS, `opened ${fds.opened} >= ${OWN_OPENS}`);
    assert.equal(fds.opened - fds.closed, fds.outstanding, `opened ${fds.opened} - closed ${fds.closed}: what is still open`);
    assert.deepEqual(invalidFrees(report), [], 'no invalid free');
  });

  await t.test('examples: whole paths, sockets\' peers', () => {
    const wrong: string[] = [];
    for (const [site, allowed] of Object.entries(allowedExamples(dir, Number(ports[1]), Number(ports[2])))) {
      const examples = sites.get(site)?.examples ?? [];
      if (examples.length === 0) wrong.push(`${site}: no example`);
      for (const example of examples.filter((e) => !allowed.includes(e))) wrong.push(`${site}: ${JSON.stringify(example)}, not one of ${JSON.stringify(allowed)}`);
    }
    assert.deepEqual(wrong, []);
  });

  await t.test('stacks whole, each site the C library wrapper\'s caller', () => {
    for (const stack of fds.stacks) {
      assert.equal(stack.partial, false, `not partial: ${describeFrames(stack.frames)}`);
      const at = stack.frames.findIndex((f) => f.module === FDS);
      assert.ok(at >= 0 && stack.frames.slice(0, at).every((f) => f.module !== null && /\/libc\.so/.test(f.module)), describeFrames(stack.frames));
    }
  });
});

test('fds: across an exec, O_CLOEXEC descriptors are closed by it and the others held with the stack that made them before it', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const dir = scratchDir(t);
  const { run, report } = await traceCommand(t, [FDS, dir, '--exec']);
  assert.equal(run.code, 0, `the fixture found the kept descriptors open and the others closed; ${run.stderr}`);
  const fds = withFds(report);
  assert.deepEqual(kindsOf(fdSites(fds.stacks, FDS)), EXEC_SITES);
  for (const symbol of EXEC_ABSENT) assert.deepEqual(mentioning(fds.stacks, symbol).map((s) => describeFrames(s.frames)), [], `no stack through ${symbol}`);
  assert.equal(fds.outstanding, 3);
  assert.equal(fds.opened - fds.closed, fds.outstanding, `opened ${fds.opened} - closed ${fds.closed}: the exec closed the O_CLOEXEC ones`);
  // Before the exec, the stack ran through main of the program then; its
  // frames are named from that image's mappings.
  for (const stack of mentioning(fds.stacks, 'site_exec_keep')) {
    assert.ok(stack.frames.some((f) => f.symbol === 'main' && f.module === FDS), describeFrames(stack.frames));
  }
});

test('fds: the same sites and counts as valgrind --track-fds=yes', { timeout: 120_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const missing = valgrindMissing();
  if (missing) return t.skip(missing);
  const { run, report } = await traceCommand(t, [FDS, scratchDir(t)]);
  assert.equal(run.code, 0, run.stderr);
  const ours = new Map([...fdSites(withFds(report).stacks, FDS)].map(([site, s]) => [site, s.count]));

  const valgrind = await trackFds([FDS, scratchDir(t)], scratchDir(t));
  assert.equal(valgrind.exitCode, 0);
  // valgrind 3.19 has no pidfd_open (ENOSYS under it): the fixture says so and goes on.
  if (/no pidfd_open/.test(valgrind.stdout)) ours.delete('site_pidfd');
  const theirs = descriptorsBySite(valgrind.descriptors, 'fds.c');
  assert.deepEqual(Object.fromEntries([...ours].sort()), Object.fromEntries([...theirs].sort()));
});

// fds DIR --race: two threads open and close at once; the lowest free number
// goes to the next open, so one thread's kept descriptor often takes the
// number the other has just closed.
test('fds: two threads opening and closing at once: every kept descriptor counted once, at its site', { timeout: 60_000 }, async (t) => {
  if (!requireBpf(t)) return;
  const { run, report } = await traceCommand(t, [FDS, scratchDir(t), '--race']);
  assert.equal(run.code, 0, run.stderr);
  const fds = withFds(report);
  assert.deepEqual(kindsOf(fdSites(fds.stacks, FDS)), { site_race_keep: { file: 2 * 1000 } });
  assert.deepEqual(mentioning(fds.stacks, 'site_race_scratch').map((s) => describeFrames(s.frames)), []);
  assert.deepEqual({ outstanding: fds.outstanding, closed: fds.closed }, { outstanding: 2000, closed: 2000 }, 'each scratch descriptor closed once, no kept one');
});

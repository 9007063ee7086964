// The allocation loop every malloc-loop benchmark times: malloc+free pairs
// (or mallocs alone) made from a chosen call depth, on one or more threads,
// timed inside the program so no tool's start-up or report is counted.
//
//   malloc-loop [-n PAIRS | -T MS] [-d DEPTH] [-s SIZE] [-t THREADS] [-l] [-w] [-h] [-W]
//     -n  make PAIRS pairs (default 300000); -T: as many as fit in MS ms
//     -l  leak: malloc only, never free (every allocation stays outstanding)
//     -w  print "ready PID" and wait for SIGUSR1 before the timed loop (attach)
//     -h  print "holding PID" and wait for SIGUSR1 before exiting (memory)
//     -W  windows: loop until killed, one line per >= 100 ms window
//
// Prints one JSON line per thread ({"thread":i,"pairs":n,"ns_per_pair":x,
// "cpu_ns_per_pair":y}), or per window ({"window":k,...}). The CPU figure is
// the thread's own CPU time: uprobe traps and BPF programs run on it, while
// a tracer's reader and other load on the machine do not.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

// noipa: the compiler may neither inline nor fold the descent, so each level
// keeps its own frame and the stack really is DEPTH frames deep.
#define KEEP __attribute__((noipa))

struct job {
  long pairs;
  double budget_ns; /* 0: no time limit */
  int depth;
  size_t size;
  int leak;
  int windows;
  int index;
};

static double clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// Hides the pointer from the optimizer: GCC would otherwise remove a
// malloc whose block is freed unused.
static inline void escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

KEEP static void pairs(long n, size_t size) {
  for (long i = 0; i < n; i++) {
    void *p = malloc(size);
    escape(p);
    free(p);
  }
}

KEEP static void leaks(long n, size_t size) {
  for (long i = 0; i < n; i++) escape(malloc(size));
}

// Runs the loop in chunks of 1,000 calls until the count is made or the time
// budget is spent, then says what a call cost; windows do so forever.
KEEP static void timed(struct job *job) {
  for (long window = 0;; window++) {
    double wall0 = clock_ns(CLOCK_MONOTONIC), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall;
    long done = 0;
    do {
      long chunk = job->pairs - done < 1000 ? job->pairs - done : 1000;
      if (job->leak) leaks(chunk, job->size);
      else pairs(chunk, job->size);
      done += chunk;
      wall = clock_ns(CLOCK_MONOTONIC) - wall0;
    } while (done < job->pairs && (job->budget_ns == 0 || wall < job->budget_ns));
    double cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    printf("{\"%s\":%ld,\"pairs\":%ld,\"ns_per_pair\":%.1f,\"cpu_ns_per_pair\":%.1f}\n", job->windows ? "window" : "thread",
           job->windows ? window : job->index, done, wall / done, cpu / done);
    fflush(stdout);
    if (!job->windows) return;
  }
}

// The barrier after the call keeps it from being a tail call, which GCC
// would turn into a loop, leaving one frame for all levels.
KEEP static void descend(struct job *job, int level) {
  if (level >= job->depth) {
    timed(job);
    return;
  }
  descend(job, level + 1);
  __asm__ volatile("" ::: "memory");
}

static void *run(void *arg) {
  struct job *job = arg;
  // A first pair outside the timing: the thread's arena is made here.
  void *first = malloc(job->size);
  escape(first);
  free(first);
  descend(job, 1);
  return NULL;
}

// Says `WORD PID` on stdout, then blocks until SIGUSR1 arrives. The signal
// is blocked first, so one sent before sigwait() is not lost.
static void wait_for_usr1(const char *word) {
  sigset_t usr1;
  int sig;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  printf("%s %d\n", word, (int)getpid());
  fflush(stdout);
  sigwait(&usr1, &sig);
}

int main(int argc, char **argv) {
  struct job base = {.pairs = 300000, .depth = 1, .size = 64};
  int threads = 1, wait_start = 0, hold_end = 0, opt;
  while ((opt = getopt(argc, argv, "n:T:d:s:t:lwhW")) != -1) {
    switch (opt) {
      case 'n': base.pairs = atol(optarg); break;
      case 'T': base.budget_ns = atof(optarg) * 1e6; break;
      case 'd': base.depth = atoi(optarg); break;
      case 's': base.size = (size_t)atol(optarg); break;
      case 't': threads = atoi(optarg); break;
      case 'l': base.leak = 1; break;
      case 'w': wait_start = 1; break;
      case 'h': hold_end = 1; break;
      case 'W': base.windows = 1; break;
      default:
        fprintf(stderr, "usage: %s [-n PAIRS | -T MS] [-d DEPTH] [-s SIZE] [-t THREADS] [-l] [-w] [-h] [-W]\n", argv[0]);
        return 2;
    }
  }
  if (base.pairs < 1 || base.depth < 1 || threads < 1 || threads > 64) {
    fprintf(stderr, "%s: PAIRS, DEPTH and THREADS (1-64) must be positive\n", argv[0]);
    return 2;
  }
  if (base.windows) base.budget_ns = 100e6;
  if (base.budget_ns > 0) base.pairs = LONG_MAX;
  if (wait_start) wait_for_usr1("ready");
  struct job jobs[64];
  pthread_t ids[64];
  for (int i = 0; i < threads; i++) {
    jobs[i] = base;
    jobs[i].index = i;
  }
  // One thread runs on main itself: the single-threaded loop stays a
  // single-threaded process.
  for (int i = 1; i < threads; i++) {
    if (pthread_create(&ids[i], NULL, run, &jobs[i]) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  run(&jobs[0]);
  for (int i = 1; i < threads; i++) pthread_join(ids[i], NULL);
  if (hold_end) wait_for_usr1("holding");
  return 0;
}

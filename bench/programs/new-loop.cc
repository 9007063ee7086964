// The C++ counterpart of malloc-loop: new+delete pairs of a 64-byte object,
// timed inside the program. Every operator new in Debian's libstdc++ begins
// with endbr64, which the kernel single-steps (issue 18).
//
//   new-loop -T MS
//
// Prints one line as malloc-loop does: {"thread":0,"pairs":n,"ns_per_pair":x,"cpu_ns_per_pair":y}.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>

struct Object {
  char bytes[64];
};

static double clock_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// Hides the pointer from the optimizer, which may drop a new whose block is
// deleted unused.
static inline void escape(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

__attribute__((noipa)) static void pairs(long n) {
  for (long i = 0; i < n; i++) {
    Object *p = new Object;
    escape(p);
    delete p;
  }
}

int main(int argc, char **argv) {
  double budget_ns = 700e6;
  for (int opt; (opt = getopt(argc, argv, "T:")) != -1;) {
    if (opt != 'T') return 2;
    budget_ns = atof(optarg) * 1e6;
  }
  double wall0 = clock_ns(CLOCK_MONOTONIC), cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), wall;
  long done = 0;
  do {
    pairs(1000);
    done += 1000;
    wall = clock_ns(CLOCK_MONOTONIC) - wall0;
  } while (wall < budget_ns);
  double cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
  printf("{\"thread\":0,\"pairs\":%ld,\"ns_per_pair\":%.1f,\"cpu_ns_per_pair\":%.1f}\n", done, wall / done, cpu / done);
  return 0;
}

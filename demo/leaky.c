// A toy request server with three leaks, for `make demo`:
//  - a page cache that never evicts (cache_put, under handle_get),
//  - an upload body dropped on the rejection path (read_body, under
//    handle_upload),
//  - a session token per login that nobody releases (issue_token).
// Everything else it allocates is freed. It serves 300 made-up requests
// 5 ms apart (about 1.5 s) and exits 0. The request mix comes from a fixed
// seed, so every run leaks the same.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline, noclone))  // keeps plain names at -O2
#define REQUESTS 300
#define PATHS 40

enum kind { GET, UPLOAD, LOGIN };

struct request {
  enum kind kind;
  int path;       // which page a GET asks for
  size_t length;  // body size of an UPLOAD
};

struct page {
  int path;
  char *html;
  struct page *next;
};

static struct page *cache;  // grows forever: the first leak
static unsigned long served[3];

static unsigned seed = 12345;
static unsigned next_random(void) {
  seed = seed * 1103515245u + 12345u;
  return (seed >> 16) & 0x7fff;
}

NOINLINE static char *cache_get(int path) {
  for (struct page *p = cache; p != NULL; p = p->next)
    if (p->path == path) return p->html;
  return NULL;
}

NOINLINE static char *cache_put(int path, const char *html, size_t length) {
  struct page *p = malloc(sizeof *p);
  p->html = malloc(length);
  memcpy(p->html, html, length);
  p->path = path;
  p->next = cache;
  cache = p;
  return p->html;
}

NOINLINE static char *render_page(int path) {
  size_t length = 2048 + (size_t)path * 64;
  char *scratch = malloc(length);  // freed below: never reported
  memset(scratch, 'a' + path % 26, length - 1);
  scratch[length - 1] = '\0';
  char *html = cache_put(path, scratch, length);
  free(scratch);
  return html;
}

NOINLINE static int handle_get(const struct request *r) {
  char *html = cache_get(r->path);
  if (html == NULL) html = render_page(r->path);
  return html[0] != '\0' ? 200 : 500;
}

NOINLINE static char *read_body(size_t length) {
  char *body = malloc(length);
  memset(body, 'x', length);
  return body;
}

NOINLINE static int validate(const char *body, size_t length) {
  return length <= 12 * 1024 && body[0] == 'x';
}

NOINLINE static int handle_upload(const struct request *r) {
  char *body = read_body(r->length);
  if (!validate(body, r->length)) return 413;  // forgets to free body: the second leak
  free(body);
  return 201;
}

NOINLINE static char *issue_token(unsigned user) {
  char *token = malloc(256);  // room for the claims a real token would carry
  snprintf(token, 256, "session-%08x-%08x", user, next_random());
  return token;
}

NOINLINE static int handle_login(void) {
  char *token = issue_token(next_random());  // never freed: the third leak
  return token[0] == 's' ? 200 : 500;
}

NOINLINE static int dispatch(const struct request *r) {
  int status;
  switch (r->kind) {
    case GET: status = handle_get(r); break;
    case UPLOAD: status = handle_upload(r); break;
    default: status = handle_login(); break;
  }
  served[r->kind]++;  // after the call, so the handler is not a tail call
  return status;
}

static struct request next_request(void) {
  unsigned n = next_random();
  struct request r = {.kind = n % 10 < 6 ? GET : n % 10 < 9 ? UPLOAD : LOGIN};
  r.path = (int)(next_random() % PATHS);
  r.length = 256 * (1 + next_random() % 64);
  return r;
}

NOINLINE static void serve(int requests) {
  const struct timespec pause = {.tv_sec = 0, .tv_nsec = 5 * 1000 * 1000};
  for (int i = 0; i < requests; i++) {
    struct request r = next_request();
    if (dispatch(&r) >= 500) fprintf(stderr, "leaky: request %d failed\n", i);
    nanosleep(&pause, NULL);
  }
}

int main(void) {
  serve(REQUESTS);
  printf("leaky: served %lu pages, %lu uploads, %lu logins\n", served[GET], served[UPLOAD],
         served[LOGIN]);
  return 0;
}

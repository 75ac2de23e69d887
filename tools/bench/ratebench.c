// ratebench: a constant-rate HTTP/1.1 load generator for latency at a fixed
// load (what wrk2's -R does; Debian has no wrk2, and wrk 4's Lua delay() has
// whole-millisecond timers, which would send requests in bursts).
//
//   ratebench -r RATE -d SECONDS [-c CONNS] [-w WARMUP_S] [-s] [-H 'Name: value']... http://127.0.0.1:PORT/path
//
// -s: busy-poll (epoll_wait with a zero timeout) instead of sleeping on the
// timer, at SCHED_IDLE priority so that anything else on the core (the
// origin) preempts it at once. Less generator lag on a VM whose timer
// wake-ups are slow, but the core never idles.
//
// Requests are scheduled at exact intervals of 1/RATE on one global clock
// (CLOCK_MONOTONIC, a timerfd with an absolute expiry, so no millisecond
// rounding). A due request goes out on an idle keep-alive connection (one
// request in flight per connection, no pipelining); when none is idle it waits
// in a queue, and that wait counts in its latency: latency is measured from
// the *scheduled* send time (as wrk2 does, which avoids coordinated omission),
// and also, for comparison, from the actual write(). Requests scheduled in
// the first WARMUP_S seconds are sent but not recorded.
//
// Output (stdout), one `key=value` line:
//   rate=<scheduled/s> achieved=<completed/s> requests=N errors=E non2xx=M
//   p50_us p90_us p99_us p999_us max_us (from the scheduled time)
//   sent_p50_us sent_p99_us sent_max_us (from the actual write)
//   lag_p99_us lag_max_us (write time minus scheduled time: the generator's own delay)
// Responses need Content-Length or chunked encoding. Plain http only.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define BUF_BYTES (256 * 1024)

typedef struct {
  int fd;
  int busy;           // a request is in flight
  uint64_t intended;  // scheduled send time of the request in flight (ns)
  uint64_t sent;      // actual write time (ns)
  size_t wr_off;      // bytes of the request written so far
  char *buf;
  size_t len;
} conn_t;

static struct addrinfo *g_addr;
static char *g_req;
static size_t g_req_len;
static uint64_t *g_lat, *g_lat_sent, *g_lag;
static size_t g_nlat, g_cap;
static uint64_t g_errors, g_non2xx, g_completed_timed;
static uint64_t g_record_from;  // scheduled times before this are warm-up
static int g_epfd;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

static void usage(void) {
  fprintf(stderr,
          "usage: ratebench -r RATE -d SECONDS [-c CONNS] [-w WARMUP_S] [-s] [-H 'Name: value']... "
          "http://HOST:PORT/path\n");
  exit(2);
}

static void conn_open(conn_t *c) {
  c->fd = socket(g_addr->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  if (connect(c->fd, g_addr->ai_addr, g_addr->ai_addrlen) != 0) die("connect");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(g_epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
  c->busy = 0;
  c->len = 0;
  c->wr_off = 0;
}

static void conn_reset(conn_t *c) {  // the server closed or broke the connection
  epoll_ctl(g_epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  if (c->busy) g_errors++;
  conn_open(c);
}

static void want_out(conn_t *c, int on) {
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(g_epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_write(conn_t *c) {
  while (c->wr_off < g_req_len) {
    ssize_t n = write(c->fd, g_req + c->wr_off, g_req_len - c->wr_off);
    if (n < 0) {
      if (errno == EAGAIN) {
        want_out(c, 1);
        return;
      }
      conn_reset(c);
      return;
    }
    c->wr_off += (size_t)n;
  }
  want_out(c, 0);
}

static void record(conn_t *c, uint64_t done, int status) {
  if (c->intended >= g_record_from) {
    if (g_nlat < g_cap) {
      g_lat[g_nlat] = done - c->intended;
      g_lat_sent[g_nlat] = done - c->sent;
      g_lag[g_nlat] = c->sent - c->intended;
      g_nlat++;
    }
    g_completed_timed++;
    if (status < 200 || status > 399) g_non2xx++;
  }
}

// Length of a complete chunked body starting at p (n bytes), or 0 if incomplete,
// -1 if malformed.
static long chunked_len(const char *p, size_t n) {
  size_t i = 0;
  for (;;) {
    const char *eol = memmem(p + i, n - i, "\r\n", 2);
    if (!eol) return 0;
    char *end;
    unsigned long size = strtoul(p + i, &end, 16);
    if (end == p + i) return -1;
    i = (size_t)(eol - p) + 2;
    if (size == 0) {  // trailers until an empty line
      for (;;) {
        const char *e = memmem(p + i, n - i, "\r\n", 2);
        if (!e) return 0;
        size_t line = (size_t)(e - (p + i));
        i += line + 2;
        if (line == 0) return (long)i;
      }
    }
    if (n - i < size + 2) return 0;
    i += size + 2;
  }
}

// Consumes a complete response from c->buf if there is one: 1 done, 0 need more, -1 bad.
static int parse_response(conn_t *c, int *status) {
  const char *head_end = memmem(c->buf, c->len, "\r\n\r\n", 4);
  if (!head_end) return c->len >= BUF_BYTES ? -1 : 0;
  size_t head = (size_t)(head_end - c->buf) + 4;
  if (c->len < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0) return -1;
  *status = atoi(c->buf + 9);
  long body = -1;
  int chunked = 0;
  for (const char *line = memchr(c->buf, '\n', head) + 1; line < c->buf + head - 2;) {
    const char *eol = memchr(line, '\n', (size_t)(c->buf + head - line));
    if (!eol) break;
    if (strncasecmp(line, "content-length:", 15) == 0) body = strtol(line + 15, NULL, 10);
    if (strncasecmp(line, "transfer-encoding:", 18) == 0 && strcasestr(line, "chunked") && strcasestr(line, "chunked") < eol)
      chunked = 1;
    line = eol + 1;
  }
  size_t total;
  if (chunked) {
    long n = chunked_len(c->buf + head, c->len - head);
    if (n < 0) return -1;
    if (n == 0) return c->len >= BUF_BYTES ? -1 : 0;
    total = head + (size_t)n;
  } else {
    if (body < 0) body = (*status == 204 || *status == 304) ? 0 : -1;
    if (body < 0) return -1;  // read-until-close bodies are not supported
    total = head + (size_t)body;
    if (c->len < total) return total > BUF_BYTES ? -1 : 0;
  }
  memmove(c->buf, c->buf + total, c->len - total);
  c->len -= total;
  return 1;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, size_t n, double p) {  // v sorted; nearest rank, in µs
  if (n == 0) return 0;
  size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return (double)v[k - 1] / 1000.0;
}

int main(int argc, char **argv) {
  double rate = 0, duration = 0, warmup = 1;
  int nconns = 32, spin = 0;
  char headers[16384] = "";
  int opt;
  while ((opt = getopt(argc, argv, "r:d:c:w:H:s")) != -1) {
    switch (opt) {
      case 's': spin = 1; break;
      case 'r': rate = atof(optarg); break;
      case 'd': duration = atof(optarg); break;
      case 'c': nconns = atoi(optarg); break;
      case 'w': warmup = atof(optarg); break;
      case 'H':
        if (strlen(headers) + strlen(optarg) + 3 >= sizeof headers) usage();
        strcat(headers, optarg);
        strcat(headers, "\r\n");
        break;
      default: usage();
    }
  }
  if (optind != argc - 1 || rate <= 0 || duration <= 0 || nconns < 1 || warmup < 0) usage();
  const char *url = argv[optind];
  if (strncmp(url, "http://", 7) != 0) usage();
  char host[256];
  const char *hp = url + 7, *slash = strchr(hp, '/');
  const char *path = slash ? slash : "/";
  size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
  if (hl == 0 || hl >= sizeof host) usage();
  memcpy(host, hp, hl);
  host[hl] = 0;
  char *colon = strrchr(host, ':');
  const char *port = "80";
  char hostname[256];
  strcpy(hostname, host);
  if (colon) {
    hostname[colon - host] = 0;
    port = colon + 1;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  if (getaddrinfo(hostname, port, &hints, &g_addr) != 0) {
    fprintf(stderr, "ratebench: cannot resolve %s\n", host);
    return 2;
  }
  g_req_len = (size_t)asprintf(&g_req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, host, headers);

  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  if (spin) {
    struct sched_param sp = {.sched_priority = 0};
    if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) perror("ratebench: SCHED_IDLE");
  }
  g_epfd = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (g_epfd < 0 || tfd < 0) die("epoll/timerfd");
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(g_epfd, EPOLL_CTL_ADD, tfd, &tev);

  conn_t *conns = calloc((size_t)nconns, sizeof *conns);
  int *idle = malloc(sizeof(int) * (size_t)nconns);
  int nidle = 0;
  for (int i = 0; i < nconns; i++) {
    conns[i].buf = malloc(BUF_BYTES);
    conn_open(&conns[i]);
    idle[nidle++] = i;
  }

  const double interval = 1e9 / rate;
  const uint64_t total = (uint64_t)((warmup + duration) * rate);
  g_cap = (size_t)(duration * rate) + 16;
  g_lat = malloc(g_cap * sizeof *g_lat);
  g_lat_sent = malloc(g_cap * sizeof *g_lat_sent);
  g_lag = malloc(g_cap * sizeof *g_lag);
  uint64_t *queue = malloc(sizeof(uint64_t) * (total + 1));  // scheduled times waiting for a connection
  size_t qhead = 0, qtail = 0;
  if (!g_lat || !g_lat_sent || !g_lag || !queue) die("malloc");

  const uint64_t start = now_ns() + 10000000;  // 10 ms from now
  g_record_from = start + (uint64_t)(warmup * 1e9);
  uint64_t k = 0;  // next request to schedule
  struct epoll_event events[256];
  uint64_t drain_deadline = 0;

  for (;;) {
    uint64_t now = now_ns();
    for (; k < total; k++) {
      uint64_t due = start + (uint64_t)((double)k * interval);
      if (due > now) break;
      queue[qtail++] = due;
    }
    while (qhead < qtail && nidle > 0) {
      conn_t *c = &conns[idle[--nidle]];
      c->busy = 1;
      c->intended = queue[qhead++];
      c->sent = now_ns();
      c->wr_off = 0;
      conn_write(c);
    }
    int inflight = nconns - nidle;
    if (k >= total && qhead == qtail) {
      if (inflight == 0) break;
      if (!drain_deadline) drain_deadline = now + 5000000000u;
      if (now > drain_deadline) {
        g_errors += (uint64_t)inflight;
        break;
      }
    }
    int timeout = -1;
    if (spin) {
      timeout = 0;
    } else if (k < total) {
      uint64_t due = start + (uint64_t)((double)k * interval);
      struct itimerspec its = {.it_value = {.tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u)}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    } else {
      timeout = 100;
    }
    int n = epoll_wait(g_epfd, events, 256, timeout);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      conn_t *c = events[i].data.ptr;
      if (!c) {
        uint64_t expirations;
        if (read(tfd, &expirations, sizeof expirations) < 0) { /* spurious */ }
        continue;
      }
      if (events[i].events & EPOLLOUT) conn_write(c);
      if (!(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      for (;;) {
        ssize_t r = read(c->fd, c->buf + c->len, BUF_BYTES - c->len);
        if (r > 0) {
          c->len += (size_t)r;
          if (c->len < BUF_BYTES) continue;
        } else if (r < 0 && errno == EAGAIN) {
          break;
        } else {  // closed or error
          int was_busy = c->busy;
          conn_reset(c);
          if (was_busy) idle[nidle++] = (int)(c - conns);
          goto next_event;
        }
        break;
      }
      for (;;) {
        int status = 0;
        int rc = parse_response(c, &status);
        if (rc == 0) break;
        if (rc < 0 || !c->busy) {
          g_errors++;
          int was_busy = c->busy;
          c->busy = 0;
          conn_reset(c);
          if (was_busy) idle[nidle++] = (int)(c - conns);
          break;
        }
        record(c, now_ns(), status);
        c->busy = 0;
        idle[nidle++] = (int)(c - conns);
      }
    next_event:;
    }
  }

  size_t m = g_nlat;
  qsort(g_lat, m, sizeof *g_lat, cmp_u64);
  qsort(g_lat_sent, m, sizeof *g_lat_sent, cmp_u64);
  qsort(g_lag, m, sizeof *g_lag, cmp_u64);
  printf("rate=%.0f achieved=%.0f requests=%zu errors=%llu non2xx=%llu "
         "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
         "sent_p50_us=%.1f sent_p99_us=%.1f sent_max_us=%.1f lag_p99_us=%.1f lag_max_us=%.1f\n",
         rate, (double)g_completed_timed / duration, m, (unsigned long long)g_errors,
         (unsigned long long)g_non2xx, pct(g_lat, m, 50), pct(g_lat, m, 90), pct(g_lat, m, 99),
         pct(g_lat, m, 99.9), m ? (double)g_lat[m - 1] / 1000.0 : 0, pct(g_lat_sent, m, 50),
         pct(g_lat_sent, m, 99), m ? (double)g_lat_sent[m - 1] / 1000.0 : 0, pct(g_lag, m, 99),
         m ? (double)g_lag[m - 1] / 1000.0 : 0);
  return 0;
}

/* spawn-cost: how many processes per second daemon/spawn.c starts, with this process's heap
 * small or big. spawn-cost links the product's spawn (clone(CLONE_VM | CLONE_VFORK));
 * spawn-cost-fork is the same source built with spawn.c compiled with SPAWN_USE_FORK=1, the
 * fork() path the product used before: the switch exists in the benchmark's build only.
 *
 *   spawn-cost [--heap-mib N] [--count N] [PROGRAM]
 *
 * Allocates N MiB (default 0) in 32 KiB blocks and writes every page, as a grown daemon's heap
 * of small objects would be, then starts PROGRAM (default /bin/true) --count times (default
 * 2000), one at a time, each reaped before the next. Prints one JSON line: the path, the heap,
 * spawns per second (wall time of spawn + reap) and p50/p99 of spawn_process() alone, in
 * microseconds. Exit status 0, or 1 when a spawn failed. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/spawn.h"

#define BLOCK (32U * 1024U)
#define COUNT_MAX 1000000UL
#define HEAP_MAX_MIB (64UL * 1024UL)

extern char **environ;

static double now_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

static int parse_ul(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "heap-mib", required_argument, NULL, 'm' },
                { "count", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        unsigned long heap_mib = 0, count = 2000;
        const char *program = "/bin/true";
        char err[SPAWN_ERROR_MAX];
        double *samples, start, elapsed;
        void **blocks = NULL;
        size_t n_blocks;
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'm':
                        if (parse_ul(optarg, HEAP_MAX_MIB, &heap_mib) < 0) {
                                fprintf(stderr, "spawn-cost: invalid --heap-mib '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'n':
                        if (parse_ul(optarg, COUNT_MAX, &count) < 0 || count == 0) {
                                fprintf(stderr, "spawn-cost: invalid --count '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        printf("Usage: spawn-cost [--heap-mib N] [--count N] [PROGRAM]\n");
                        return 0;
                default:
                        return 2;
                }
        if (optind < argc)
                program = argv[optind];

        n_blocks = heap_mib * 1024U * 1024U / BLOCK;
        if (n_blocks > 0) {
                blocks = calloc(n_blocks, sizeof(void *));
                if (!blocks)
                        return 1;
                for (size_t i = 0; i < n_blocks; i++) {
                        blocks[i] = malloc(BLOCK);
                        if (!blocks[i])
                                return 1;
                        memset(blocks[i], (int) (i & 0xff) | 1, BLOCK);
                }
        }
        samples = calloc(count, sizeof(double));
        if (!samples)
                return 1;

        start = now_us();
        for (unsigned long i = 0; i < count; i++) {
                SpawnParams p = {
                        .path = program,
                        .argv = (char *const *) (const char *const[]) { program, NULL },
                        .envp = environ,
                        .stdin_fd = -1,
                        .stdout_fd = -1,
                        .stderr_fd = -1,
                };
                double t0 = now_us();
                pid_t pid;
                int r = spawn_process(&p, &pid, err, sizeof err);

                samples[i] = now_us() - t0;
                if (r < 0) {
                        fprintf(stderr, "spawn-cost: %s\n", err);
                        return 1;
                }
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        elapsed = now_us() - start;

        qsort(samples, count, sizeof(double), cmp_double);
        printf("{\"path\":\"%s\",\"heap_mib\":%lu,\"spawns\":%lu,\"per_s\":%.1f,"
               "\"p50_us\":%.1f,\"p99_us\":%.1f}\n",
               SPAWN_USE_FORK ? "fork" : "clone", heap_mib, count, count / (elapsed / 1e6),
               samples[count / 2], samples[MIN(count - 1, count * 99 / 100)]);
        for (size_t i = 0; i < n_blocks; i++)
                free(blocks[i]);
        free(blocks);
        free(samples);
        return 0;
}

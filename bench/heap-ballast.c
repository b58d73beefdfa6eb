/* heap-ballast.so: a benchmark-only preload that gives the process it is loaded into a big
 * heap, so that bench/spawn-rate can show what spawning costs a supervisor that grew. No code
 * of berthd knows of it. With BENCH_HEAP_MIB=N in the environment, a constructor allocates N
 * MiB in 32 KiB blocks (below malloc's mmap threshold: the brk heap, as many small objects
 * make it), writes every page, and keeps them. It then removes LD_PRELOAD and BENCH_HEAP_MIB
 * from the environment, so that nothing the process starts inherits the ballast. */
#include <stdlib.h>
#include <string.h>

#define BLOCK (32U * 1024U)

static void **blocks;

__attribute__((constructor)) static void heap_ballast(void) {
        const char *e = getenv("BENCH_HEAP_MIB");
        unsigned long mib = e ? strtoul(e, NULL, 10) : 0;
        size_t n = mib * 1024U * 1024U / BLOCK;

        (void) unsetenv("LD_PRELOAD");
        (void) unsetenv("BENCH_HEAP_MIB");
        if (n == 0 || mib > 64U * 1024U)
                return;
        blocks = calloc(n, sizeof(void *));
        if (!blocks)
                return;
        for (size_t i = 0; i < n; i++) {
                blocks[i] = malloc(BLOCK);
                if (!blocks[i])
                        return;
                memset(blocks[i], (int) (i & 0xff) | 1, BLOCK);
        }
}

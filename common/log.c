/* stderr logger; see log.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/log.h"

static int max_level = LOG_INFO;
static bool journal_prefix = false;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_open(void) {
        /* JOURNAL_STREAM is "DEV:INODE" of the stream the journal gave us. Only when it is
         * still our stderr (not redirected since) do we prefix priorities. */
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        journal_prefix = false;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return;
        if (fstat(STDERR_FILENO, &st) < 0)
                return;
        journal_prefix = st.st_dev == (dev_t) dev && st.st_ino == (ino_t) ino;
}

int log_internal(int level, int error, const char *fmt, ...) {
        int saved = errno;
        int e = error < 0 ? -error : error;

        if (level <= max_level) {
                char buf[2048], *line = buf, *heap = NULL;
                va_list ap;
                int n;

                /* A line is never cut: what does not fit on the stack goes to the heap. */
                errno = e;
                va_start(ap, fmt);
                n = vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);
                if (n >= (int) sizeof buf) {
                        errno = e;
                        va_start(ap, fmt);
                        if (vasprintf(&heap, fmt, ap) >= 0)
                                line = heap;
                        else
                                heap = NULL;
                        va_end(ap);
                }
                if (journal_prefix)
                        fprintf(stderr, "<%d>%s\n", level, line);
                else
                        fprintf(stderr, "%s\n", line);
                free(heap);
        }
        errno = saved;
        return -e;
}

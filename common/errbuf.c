/* See errbuf.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/errbuf.h"

int errbuf_set(char *err, size_t errlen, int r, const char *fmt, ...) {
        int saved = errno;
        va_list ap;

        if (err && errlen > 0) {
                /* %m names r, as in the log functions. */
                errno = r < 0 ? -r : r;
                va_start(ap, fmt);
                (void) vsnprintf(err, errlen, fmt, ap);
                va_end(ap);
        }
        errno = saved;
        return r;
}

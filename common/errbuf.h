/* The error buffers of the pure modules: a function that fails with a message writes it into
 * the caller's buffer and returns its code, in one call. Pure: no logging. */
#pragma once

#include <stddef.h>

#include "common/macro.h"

/* Writes the formatted message into err (errlen bytes; err may be NULL) and returns r. %m in
 * fmt names the errno r (or -r). errno is left as it was. */
int errbuf_set(char *err, size_t errlen, int r, const char *fmt, ...) _printf_(4, 5);

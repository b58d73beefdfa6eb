/* shim-fds: what libberth-bind.so knows of the process it is in, for bind.c and ready.c alike:
 * the sockets berthd passed it (LISTEN_FDS at fds 3..., only when LISTEN_PID is its own pid),
 * read once before main() and read-only after, and whether BindShim=inherit asked to keep the
 * library in what it executes. Links libc only; allocates nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The constructor that fills the table runs before bind.c's and ready.c's. */
#define SHIM_FDS_CONSTRUCTOR_PRIORITY 101
#define SHIM_FDS_MAX 64

typedef struct ShimFd {
        int fd;    /* the inherited fd */
        dev_t dev; /* its inode: what makes another fd a copy of it */
        ino_t ino;
} ShimFd;

/* Whether this is the process berthd started the service as (LISTEN_PID is its pid). */
bool shim_is_main(void);
/* The inherited sockets, in fd order; 0 when this is not the service's main process. */
size_t shim_fds_count(void);
const ShimFd *shim_fds_get(size_t i);
/* The index of the inherited socket fd is a copy of (the same socket), or -1. */
int shim_fd_index(int fd);
/* BERTH_BIND_SHIM=inherit, as it was at start (bind.c removes the variable otherwise). */
bool shim_inherit(void);
/* An environment variable as a number in 0..max: 0, -ENOENT when unset or empty, -EINVAL. */
int shim_env_ulong(const char *name, unsigned long max, unsigned long *ret);

/* adhoc: the units of berthd's ad-hoc mode,
 *   berthd -l ADDR [-l ADDR...] [--fdname NAME] [-E VAR=VALUE]... -- CMD [ARG...]
 * written as the unit files a user would have written and loaded through unit-file, so every
 * check of a unit file applies to the command line too. Pure: no logging (diagnostics go to
 * the caller's sink), no event loop, no manager. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon/unit-file.h"

/* The file name diagnostics about ad-hoc units carry. */
#define ADHOC_PATH "(command line)"

typedef struct AdhocArgs {
        const char *const *listen; /* -l ADDR, n_listen of them (at least one) */
        size_t n_listen;
        const char *const *setenv; /* -E VAR=VALUE, n_setenv of them */
        size_t n_setenv;
        const char *fdname;        /* --fdname NAME, or NULL */
        bool accept;               /* --accept: NAME@.service per connection (Accept=yes) */
        bool inetd;                /* --inetd: the connection on stdin and stdout */
        int socktype;              /* SOCK_STREAM (0 too), --datagram, --seqpacket */
        char *const *command;      /* CMD [ARG...], NULL-terminated, at least CMD */
} AdhocArgs;

/* The name both units share: CMD's last path component with every character outside
 * [A-Za-z0-9_-] turned into '_', at most 200 characters ("/usr/bin/python3" -> "python3").
 * Returns 0 and the malloc'ed name in *ret, -EINVAL when nothing is left ("/", ""), or
 * -ENOMEM. */
int adhoc_unit_name(const char *command, char **ret);

/* The text of NAME.socket: [Socket] with one ListenStream= (ListenDatagram=,
 * ListenSequentialPacket=) per address, Accept=yes with --accept and, with --fdname,
 * FileDescriptorName=. Returns 0 and the malloc'ed text in *ret, or -ENOMEM. */
int adhoc_socket_text(const AdhocArgs *a, char **ret);

/* The text of NAME.service: Restart=on-failure; ExecStart= with every word double-quoted and
 * '$' doubled, so CMD runs exactly as typed; one Environment= per -E; and WantedBy=, so it is
 * started at once, like einhorn's or systemd-socket-activate's child. With --accept, the
 * template NAME@.service instead: no Restart= and no WantedBy= (an instance serves one
 * connection), and with --inetd StandardInput=socket. Returns 0 and the
 * malloc'ed text in *ret, or -ENOMEM. */
int adhoc_service_text(const AdhocArgs *a, char **ret);

/* The name of the service unit: NAME.service, or NAME@.service with --accept. Returns 0 and
 * the malloc'ed name in *ret, or as adhoc_unit_name(). */
int adhoc_service_name(const AdhocArgs *a, char **ret);

/* Writes and loads both units. Returns 0 with a malloc'ed array of the two in *ret, sorted by
 * name (NAME.service, NAME.socket, NAME@.service; free with unit_array_free()) and 2 in
 * *ret_n;
 * UNIT_FILE_E_INVALID when an argument is invalid (an address, a variable, a value that is
 * not one line), reported through diag with the file ADHOC_PATH; -EINVAL when CMD gives no
 * unit name; or -ENOMEM. */
int adhoc_units(const AdhocArgs *a, UnitDiagFunc diag, void *userdata, Unit ***ret,
                size_t *ret_n);

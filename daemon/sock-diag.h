/* sock-diag: what the kernel's sock_diag netlink interface says about sockets, ours or anyone's:
 * who holds an address (for EADDRINUSE), the accept queue of a listener, and which file a bound
 * unix socket lives at. Falls back to /proc where netlink says too little (/proc/net/unix for
 * abstract names, /proc/PID/fd to go from a socket's inode to its process). Every search is
 * bounded. No logging, no event loop: results come back as values or text. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/address.h"

/* Finds the process that holds a listening (stream) or bound (datagram) socket of socktype on
 * addr's port whose address intersects addr (a dual-stack [::] holds 0.0.0.0 too), through
 * sock_diag (the socket's inode) and /proc/PID/fd (the process that has it). On success
 * writes "pid 1234 (nginx), listening on 0.0.0.0:8080" to buf (or "a process of uid 0 whose
 * pid is not visible to us, listening on ..." when the socket is seen but not its process)
 * and returns 0; -ESRCH when nothing is found (or the holder is in another network
 * namespace), -EAFNOSUPPORT for an address that is neither inet nor unix, or another negative
 * errno. */
int sock_diag_find_holder(const SockAddr *addr, int socktype, char *buf, size_t buflen);

/* The accept queue of a listening socket (borrowed fd): connections waiting to be accepted and
 * the backlog the kernel applies, for TCP (TCP_INFO) and unix stream/seqpacket (unix_diag).
 * Returns 0, -EINVAL when the socket is not listening, -EOPNOTSUPP for other sockets, or another
 * negative errno. Either pointer may be NULL. */
int sock_diag_queue(int fd, unsigned *ret_waiting, unsigned *ret_backlog);
/* The same for a socket whose family and type the caller knows (they never change): two
 * syscalls fewer, which counts when listing 10,000 sockets. */
int sock_diag_queue_of(int fd, int family, int type, unsigned *ret_waiting,
                       unsigned *ret_backlog);

/* The accept queues of every TCP listener of this network namespace, from one sock_diag dump
 * per family: what lets `berthctl list-sockets` show 10,000 sockets without a call per socket. */
typedef struct TcpQueues TcpQueues;
int tcp_queues_dump(TcpQueues **ret);
/* The queue of the listener bound to addr (as getsockname() gives it): 0; -ENOENT when the dump
 * has none; -ENOTUNIQ when it has several (ReusePort=, or another process's): ask the socket
 * itself (sock_diag_queue_of()). */
int tcp_queues_find(const TcpQueues *q, const SockAddr *addr, unsigned *ret_waiting,
                    unsigned *ret_backlog);
TcpQueues *tcp_queues_free(TcpQueues *q);
static inline void tcp_queues_freep(TcpQueues **q) {
        *q = tcp_queues_free(*q);
}

/* The connections a TCP listener (borrowed fd) has queued and nobody has accepted yet (they
 * have no file: inode 0), each as a fingerprint of its remote address and port, at most max.
 * Returns how many, -EOPNOTSUPP for other sockets, or another negative errno. */
int sock_diag_unaccepted(int fd, uint64_t *ret, size_t max);

/* The device and inode of the file a bound unix socket (borrowed fd) lives at, from unix_diag:
 * what lets a caller check that a path is the socket it bound, not one swapped in. Returns 0,
 * -EOPNOTSUPP when the kernel does not say (no unix_diag, or an abstract or unnamed socket), or
 * another negative errno. */
int sock_diag_unix_file(int fd, dev_t *ret_dev, ino_t *ret_ino);

/* socket-util: small facts about sockets that the daemon and the client share. Pure: no
 * logging, no sd-event. */
#pragma once

/* getsockopt() of an int option on fd (borrowed). Returns 0 with the value in *ret, or a
 * negative errno. */
int getsockopt_int(int fd, int level, int name, int *ret);

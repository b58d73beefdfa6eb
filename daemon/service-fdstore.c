/* service-fdstore: the fds a service keeps in berthd with FDSTORE=1 (SPEC §4 "Fd store").
 * They come back on its next start, after its sockets, with their names; they survive
 * restarts and crashes, and go on an explicit stop. Unless FDPOLL=0, a stored fd that hangs
 * up or errors is dropped. */
#include "common/log.h"
#include "daemon/service-internal.h"
#include "daemon/service.h"

static StoredFd *stored_fd_free(StoredFd *f) {
        if (!f)
                return NULL;
        sd_event_source_disable_unref(f->poll_source);
        safe_close(f->fd);
        free(f->name);
        free(f);
        return NULL;
}

static void fdstore_remove_at(Service *s, size_t i) {
        if (s->ctx->fdstore_budget && s->ctx->fdstore_budget->used > 0)
                s->ctx->fdstore_budget->used--;
        stored_fd_free(s->run->fd_store[i]);
        memmove(s->run->fd_store + i, s->run->fd_store + i + 1,
                (s->run->n_fd_store - i - 1) * sizeof(StoredFd *));
        s->run->n_fd_store--;
}

static int stored_fd_on_event(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        StoredFd *f = userdata;
        Service *s = f->service;

        for (size_t i = 0; i < s->run->n_fd_store; i++)
                if (s->run->fd_store[i] == f) {
                        log_info("%s: stored fd '%s' hung up, dropping it", s->unit->name,
                                 f->name);
                        fdstore_remove_at(s, i);
                        break;
                }
        return 0;
}

void service_fdstore_remove(Service *s, const char *name) {
        for (size_t i = s->run->n_fd_store; i > 0; i--)
                if (streq(s->run->fd_store[i - 1]->name, name)) {
                        log_info("%s: FDSTOREREMOVE=1: dropping stored fd '%s'", s->unit->name,
                                 name);
                        fdstore_remove_at(s, i - 1);
                }
}

void service_release_fd_store(Service *s) {
        if (s->run->n_fd_store > 0)
                log_info("%s: releasing %zu stored fd%s", s->unit->name, s->run->n_fd_store,
                         s->run->n_fd_store == 1 ? "" : "s");
        while (s->run->n_fd_store > 0)
                fdstore_remove_at(s, s->run->n_fd_store - 1);
        free(s->run->fd_store);
        s->run->fd_store = NULL;
}

void service_fdstore_add(Service *s, int *fds, size_t n_fds, const char *name, bool poll) {
        unsigned max = service_extra(s)->fd_store_max;
        FdStoreBudget *budget = s->ctx->fdstore_budget;
        size_t i = 0;

        for (; i < n_fds; i++) {
                StoredFd *f, **a;

                if (s->run->n_fd_store >= max) {
                        log_warning("%s: FDSTORE=1 with more fds than FileDescriptorStoreMax=%u "
                                    "allows; closing %zu of them",
                                    s->unit->name, max, n_fds - i);
                        break;
                }
                if (budget && budget->used >= budget->max) {
                        log_warning("%s: FDSTORE=1, but the services' fd stores already hold %u "
                                    "fds, the share of berthd's RLIMIT_NOFILE they may keep; "
                                    "closing %zu of them",
                                    s->unit->name, budget->used, n_fds - i);
                        break;
                }
                f = calloc(1, sizeof *f);
                a = realloc(s->run->fd_store, (s->run->n_fd_store + 1) * sizeof(StoredFd *));
                if (a)
                        s->run->fd_store = a;
                if (!f || !a) {
                        free(f);
                        log_oom();
                        break;
                }
                *f = (StoredFd) { .service = s, .fd = fds[i], .name = strdup(name) };
                if (!f->name) {
                        free(f);
                        log_oom();
                        break;
                }
                if (poll && (!s->ctx->event ||
                             sd_event_add_io(s->ctx->event, &f->poll_source, f->fd,
                                             EPOLLHUP | EPOLLERR, stored_fd_on_event, f) < 0))
                        log_warning("%s: cannot watch stored fd '%s', keeping it unwatched",
                                    s->unit->name, name);
                s->run->fd_store[s->run->n_fd_store++] = f;
                if (budget)
                        budget->used++;
                log_info("%s: stored fd %d as '%s' (%zu of %u)", s->unit->name, f->fd, name,
                         s->run->n_fd_store, max);
        }
        for (; i < n_fds; i++)
                safe_close(fds[i]);
}

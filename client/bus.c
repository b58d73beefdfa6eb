/* bus: berthctl's side of berthd's control interface (common/control-interface.h): the
 * connection, the calls, how a failed call is reported, and the replies more than one verb reads
 * (GetUnit's properties, GetLogs' entries). The verbs live in berthctl.c (those that act) and
 * status.c (those that show); both use this, neither uses the other. */
#include <stdio.h>
#include <sys/stat.h>

#include <systemd/sd-bus.h>

#include "client/bus.h"
#include "common/control-interface.h"
#include "common/log.h"

#define LOG_ENTRIES_MAX 65536 /* entries in one GetLogs reply */

/* D-Bus addresses escape every byte outside [-0-9A-Za-z_/.\*] as %XX. */
static char *bus_address_for_path(const char *path) {
        static const char hex[] = "0123456789abcdef";
        const char *prefix = "unix:path=";
        size_t l = strlen(path);
        char *a = malloc(strlen(prefix) + l * 3 + 1), *p;

        if (!a)
                return NULL;
        p = stpcpy(a, prefix);
        for (size_t i = 0; i < l; i++) {
                unsigned char ch = (unsigned char) path[i];
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || strchr("-_/.\\*", ch))
                        *p++ = (char) ch;
                else {
                        *p++ = '%';
                        *p++ = hex[ch >> 4];
                        *p++ = hex[ch & 15];
                }
        }
        *p = 0;
        return a;
}

/* Where berthctl looked, and how to look elsewhere: another berthd may well be running. */
static void report_not_running(const char *path, const char *origin) {
        log_error("berthd is not running: no control socket at %s (%s).\n"
                  "To reach another berthd, give its runtime directory: berthctl --runtime-dir "
                  "DIR, or export %s=DIR; berthctl --user reaches your own user's berthd.",
                  path, origin, BERTH_RUNTIME_DIR_ENV);
}

int bus_connect_quiet(const char *path, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *address = bus_address_for_path(path);
        int r;

        if (!address)
                return -ENOMEM;
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        /* fds: GetSocketFds hands sockets over with SCM_RIGHTS. */
        if (r >= 0)
                r = sd_bus_negotiate_fds(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_connect(const char *path, const char *origin, sd_bus **ret) {
        struct stat st;
        int r;

        if (stat(path, &st) < 0 && errno == ENOENT) {
                report_not_running(path, origin);
                return -ENOENT;
        }
        r = bus_connect_quiet(path, ret);
        if (IN_SET(r, -ENOENT, -ECONNREFUSED, -ENOTSOCK)) {
                report_not_running(path, origin);
                return r;
        }
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "Failed to connect to berthd at %s: %m", path);
        return 0;
}

int bus_call(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
             sd_bus_message **ret_reply, const char *types, ...) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, NULL, BERTH_OBJECT_PATH, BERTH_INTERFACE,
                                           member);
        if (r < 0)
                return sd_bus_error_set_errno(error, r);
        if (types) {
                va_list ap;

                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return sd_bus_error_set_errno(error, r);
        }
        return sd_bus_call(bus, m, timeout, error, ret_reply);
}

/* True when the call failed on our side of the connection (sd-bus fills in a System.Error
 * name from the errno), not with an error berthd sent. */
static bool error_is_local(const sd_bus_error *e) {
        return !sd_bus_error_is_set(e) || startswith(e->name, "System.Error.") ||
               sd_bus_error_has_name(e, SD_BUS_ERROR_DISCONNECTED);
}

bool bus_error_is_disconnect(const sd_bus_error *e, int r) {
        return error_is_local(e) &&
               IN_SET(r, -ECONNRESET, -ENOTCONN, -EPIPE, -ECONNREFUSED, -ESHUTDOWN,
                      -ECONNABORTED);
}

int bus_report_error(const char *what, const char *unit, const sd_bus_error *error, int r) {
        const char *msg = error && error->message ? error->message : NULL;

        if (sd_bus_error_has_name(error, BERTH_ERROR_NO_SUCH_UNIT)) {
                log_error("Unit %s could not be found.", unit ?: "(unknown)");
                return BERTHCTL_EXIT_NO_SUCH_UNIT;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED)) {
                if (!msg || !msg[0])
                        log_error("%s: permission denied", what);
                else if (startswith(msg, "permission denied") ||
                         startswith(msg, "Permission denied"))
                        log_error("%s: %s", what, msg);
                else
                        log_error("%s: permission denied: %s", what, msg);
                return -EPERM;
        }
        if (bus_error_is_disconnect(error, r)) {
                log_error("%s: berthd went away (%s).", what, strerror(-r));
                return r;
        }
        if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD)) {
                log_error("%s: berthd does not know this call (%s); is it older than berthctl?",
                          what, strna(msg));
                return -EOPNOTSUPP;
        }
        if (error_is_local(error))
                log_error("%s: %s", what, strerror(-r));
        else
                log_error("%s: %s", what, msg && msg[0] ? msg : strerror(-r));
        return r < 0 ? r : -EIO;
}

bool unit_name_has_suffix(const char *name) {
        return endswith(name, ".service") || endswith(name, ".socket");
}

int unit_resolve(sd_bus *bus, const char *name, char **ret_name, sd_bus_message **ret_reply) {
        _cleanup_free_ char *as_service = NULL, *as_socket = NULL;
        const char *candidates[2];
        size_t n;

        if (unit_name_has_suffix(name)) {
                candidates[0] = name;
                n = 1;
        } else {
                if (asprintf(&as_service, "%s.service", name) < 0) {
                        as_service = NULL;
                        return log_oom();
                }
                if (asprintf(&as_socket, "%s.socket", name) < 0) {
                        as_socket = NULL;
                        return log_oom();
                }
                candidates[0] = as_service;
                candidates[1] = as_socket;
                n = 2;
        }

        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                int r;

                r = bus_call(bus, "GetUnit", BERTHCTL_QUERY_TIMEOUT_USEC, &error, &reply, "s",
                             candidates[i]);
                if (r < 0) {
                        if (sd_bus_error_has_name(&error, BERTH_ERROR_NO_SUCH_UNIT) && i + 1 < n)
                                continue;
                        /* Named as systemctl names it: the first form tried. */
                        return bus_report_error("Failed to get unit", candidates[0], &error, r);
                }
                if (ret_name) {
                        *ret_name = strdup(candidates[i]);
                        if (!*ret_name)
                                return log_oom();
                }
                if (ret_reply)
                        *ret_reply = TAKE_PTR(reply);
                return 0;
        }
        assert_not_reached();
}

int logs_fetch(sd_bus *bus, const char *name, uint64_t after, unsigned max, sd_bus_error *error,
               uint64_t *ret_next, void (*fn)(const LogEntry *e, void *userdata), void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *contents = NULL;
        bool in_struct = false;
        uint64_t next;
        char type;
        int r;

        r = bus_call(bus, "GetLogs", BERTHCTL_QUERY_TIMEOUT_USEC, error, &reply, "stu", name,
                     after, max);
        if (r < 0)
                return r;
        /* The reply is "ta(tus)"; a berthd that wraps it in one struct is understood too. */
        r = sd_bus_message_peek_type(reply, &type, &contents);
        if (r > 0 && type == SD_BUS_TYPE_STRUCT) {
                r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_STRUCT, contents);
                in_struct = true;
        }
        if (r >= 0)
                r = sd_bus_message_read(reply, "t", &next);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(tus)");
        for (size_t i = 0; r >= 0 && i < LOG_ENTRIES_MAX; i++) {
                LogEntry e;

                r = sd_bus_message_read(reply, "(tus)", &e.seq, &e.pid, &e.line);
                if (r <= 0)
                        break;
                fn(&e, userdata);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0 && in_struct)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r,
                                               "Failed to parse berthd's reply to GetLogs: %m");
        *ret_next = next;
        return 0;
}

/* ---- replies ---- */

bool bus_type_is_basic(char t) {
        return t && strchr("ybnqiuxtdsog", t);
}

int bus_value_read_basic(sd_bus_message *m, char t, BusValue *ret) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
        } x = {};
        BusValue v = { .type = t };
        int r;

        if (!bus_type_is_basic(t))
                return -EBADMSG;
        r = sd_bus_message_read_basic(m, t, &x);
        if (r <= 0)
                return r;
        switch (t) {
        case 'y':
                v.u = x.y;
                break;
        case 'b':
                v.u = !!x.b;
                break;
        case 'n':
                v.i = x.n;
                break;
        case 'q':
                v.u = x.q;
                break;
        case 'i':
                v.i = x.i;
                break;
        case 'u':
                v.u = x.u;
                break;
        case 'x':
                v.i = x.x;
                break;
        case 't':
                v.u = x.t;
                break;
        case 'd':
                v.d = x.d;
                break;
        default: /* 's', 'o', 'g' */
                v.str = x.s;
        }
        *ret = v;
        return 1;
}

/* Reads a variant holding "as" into v: an owned array of borrowed strings. Past BUS_STRV_MAX
 * strings, the rest is skipped. */
static int bus_value_read_strv(sd_bus_message *m, BusValue *v) {
        _cleanup_free_ const char **strv = calloc(BUS_STRV_MAX + 1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!strv)
                return -ENOMEM;
        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, "as");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "s");
        while (r >= 0 && n < BUS_STRV_MAX) {
                r = sd_bus_message_read(m, "s", &strv[n]);
                if (r <= 0)
                        break;
                n++;
        }
        strv[n] = NULL;
        if (r > 0)
                r = sd_bus_message_skip(m, NULL);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *v = (BusValue) { .type = 'a', .strv = TAKE_PTR(strv) };
        return 0;
}

/* Reads one {sv} entry. Returns 1 with the entry (v->type 0: a type we skip), 0 at the end of
 * the array, or a negative errno. */
static int unit_property_read(sd_bus_message *m, UnitProperty *ret) {
        const char *key, *contents;
        BusValue v = {};
        char t;
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv");
        if (r <= 0)
                return r;
        r = sd_bus_message_read(m, "s", &key);
        if (r >= 0)
                r = sd_bus_message_peek_type(m, &t, &contents);
        if (r < 0)
                return r;
        if (bus_type_is_basic(contents[0]) && !contents[1]) {
                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
                if (r >= 0)
                        r = bus_value_read_basic(m, contents[0], &v);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else if (streq(contents, "as"))
                r = bus_value_read_strv(m, &v);
        else
                /* A type this berthctl does not know, from a newer berthd: skipped. */
                r = sd_bus_message_skip(m, "v");
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                bus_value_done(&v);
                return r;
        }
        *ret = (UnitProperty) { .key = key, .value = v };
        return 1;
}

void bus_value_done(BusValue *v) {
        if (v->type == 'a')
                free(v->strv);
        *v = (BusValue) {};
}

int unit_properties_read(sd_bus_message *m, UnitProperties *ret) {
        UnitProperties p = {};
        int r;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
        /* At most UNIT_PROPERTIES_MAX are kept; the loop ends with the array, or past a cap. */
        for (size_t k = 0; r >= 0 && k < 4 * UNIT_PROPERTIES_MAX; k++) {
                UnitProperty prop;

                r = unit_property_read(m, &prop);
                if (r <= 0)
                        break;
                if (prop.value.type && p.n < UNIT_PROPERTIES_MAX)
                        p.props[p.n++] = prop;
                else
                        bus_value_done(&prop.value);
        }
        if (r > 0)
                r = sd_bus_message_skip(m, NULL);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                unit_properties_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void unit_properties_done(UnitProperties *p) {
        for (size_t i = 0; i < p->n; i++)
                bus_value_done(&p->props[i].value);
        p->n = 0;
}

static const BusValue *unit_prop(const UnitProperties *p, const char *key) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->props[i].key, key))
                        return &p->props[i].value;
        return NULL;
}

const char *unit_prop_str(const UnitProperties *p, const char *key) {
        const BusValue *v = unit_prop(p, key);
        return v && bus_value_is_string(v) ? v->str : "";
}

uint64_t unit_prop_u64(const UnitProperties *p, const char *key) {
        const BusValue *v = unit_prop(p, key);

        if (!v)
                return 0;
        if (bus_value_is_unsigned(v) || v->type == 'b')
                return v->u;
        if (bus_value_is_signed(v))
                return v->i < 0 ? 0 : (uint64_t) v->i;
        return 0;
}

const char *const *unit_prop_strv(const UnitProperties *p, const char *key) {
        const BusValue *v = unit_prop(p, key);
        return v && v->type == 'a' ? v->strv : NULL;
}

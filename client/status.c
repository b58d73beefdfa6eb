/* The verbs that show: status, list-units and list-sockets, as text (systemctl's layout) or
 * JSON. Replies are read by their actual signature, field by field, so every value reaches the
 * JSON output with its D-Bus type, and a table cell shows whatever type berthd sent. */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "client/bus.h"
#include "client/output.h"
#include "client/status.h"
#include "common/log.h"
#include "common/proc-util.h"
#include "common/strv.h"
#include "common/time-util.h"

#define ROW_FIELDS_MAX 16
#define WAIT_INTERVAL_NSEC (100 * 1000 * 1000L) /* --wait-ready asks again this often */
#define ROWS_MAX (1U << 20)

/* Field names of the structs in ListUnits and ListSockets, in order (control-interface.h),
 * as JSON keys. */
static const char *const list_units_fields[] = {
        "name", "type", "load_state", "state", "main_pid", "since", "restarts", "last_exit",
        "description",
};
static const char *const list_sockets_fields[] = {
        "unit", "address", "protocol", "stack", "reach", "backlog", "queued", "service",
        "service_state", "filter",
};
enum { LU_NAME, LU_TYPE, LU_LOAD, LU_STATE, LU_PID, LU_SINCE, LU_RESTARTS, LU_LAST_EXIT,
       LU_DESCRIPTION };
enum { LS_UNIT, LS_ADDRESS, LS_PROTOCOL, LS_STACK, LS_REACH, LS_BACKLOG, LS_QUEUED, LS_SERVICE,
       LS_SERVICE_STATE, LS_FILTER };

/* Any value as one line of text, for a table cell or a status line. Returns buf, or the
 * borrowed string itself. */
static const char *bus_value_text(const BusValue *v, char *buf, size_t buflen) {
        if (bus_value_is_string(v))
                return v->str;
        if (v->type == 'b')
                return yes_no(v->u);
        if (bus_value_is_unsigned(v))
                snprintf(buf, buflen, "%" PRIu64, v->u);
        else if (bus_value_is_signed(v))
                snprintf(buf, buflen, "%" PRIi64, v->i);
        else if (v->type == 'd')
                snprintf(buf, buflen, "%g", v->d);
        else if (v->type == 'a' && v->strv && v->strv[0])
                snprintf(buf, buflen, "%s%s", v->strv[0], v->strv[1] ? " ..." : "");
        else
                snprintf(buf, buflen, "%s", "");
        return buf;
}

/* Writes v as JSON. */
static void bus_value_write_json(FILE *f, const BusValue *v) {
        if (bus_value_is_string(v))
                json_write_string(f, v->str);
        else if (v->type == 'b')
                fputs(v->u ? "true" : "false", f);
        else if (bus_value_is_unsigned(v))
                fprintf(f, "%" PRIu64, v->u);
        else if (bus_value_is_signed(v))
                fprintf(f, "%" PRIi64, v->i);
        else if (v->type == 'd')
                fprintf(f, "%.17g", v->d);
        else if (v->type == 'a') {
                fputc('[', f);
                for (size_t i = 0; v->strv && v->strv[i]; i++) {
                        if (i > 0)
                                fputc(',', f);
                        json_write_string(f, v->strv[i]);
                }
                fputc(']', f);
        } else
                fputs("null", f);
}

/* "MainPID" -> "main_pid", "DropInPaths" -> "drop_in_paths": JSON keys. Returns buf. */
static const char *snake_case(const char *name, char *buf, size_t buflen) {
        size_t o = 0;

        for (size_t i = 0; name[i] && o + 2 < buflen; i++) {
                unsigned char c = (unsigned char) name[i];

                if (isupper(c) && i > 0) {
                        unsigned char prev = (unsigned char) name[i - 1];
                        unsigned char next = (unsigned char) name[i + 1];
                        /* A word starts after a lower-case letter or digit ("MainPID"), or at the
                         * last capital of an acronym that a word follows ("PIDFile"). */
                        if (islower(prev) || isdigit(prev) || (isupper(prev) && islower(next)))
                                buf[o++] = '_';
                }
                buf[o++] = (char) tolower(c);
        }
        buf[o] = 0;
        return buf;
}

/* The rows of an array of structs of basic types (ListUnits, ListSockets). Strings are
 * borrowed from the message. One allocation holds the rows and, after them, their values: as
 * many per row as the struct has fields (10,000 sockets are 100,000 values). */
typedef struct BusRow {
        const BusValue *v;
        size_t n;
} BusRow;

static int bus_rows_read(sd_bus_message *m, BusRow **ret, size_t *ret_n) {
        _cleanup_free_ BusValue *values = NULL;
        _cleanup_free_ char *inner = NULL;
        size_t n = 0, allocated = 0, l, nf;
        const char *contents;
        char t;
        int r;

        r = sd_bus_message_peek_type(m, &t, &contents);
        if (r < 0)
                return r;
        if (r == 0 || t != SD_BUS_TYPE_ARRAY || contents[0] != '(')
                return -EBADMSG;
        l = strlen(contents);
        if (l < 3 || l - 2 > ROW_FIELDS_MAX)
                return -EBADMSG;
        nf = l - 2;
        inner = strndup(contents + 1, nf);
        if (!inner)
                return -ENOMEM;
        for (const char *c = inner; *c; c++)
                if (!bus_type_is_basic(*c))
                        return -EBADMSG;

        r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents);
        while (r >= 0 && n < ROWS_MAX) {
                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_STRUCT, inner);
                if (r <= 0)
                        break;
                if (ARRAY_RESERVE(values, allocated, (n + 1) * nf) < 0)
                        return -ENOMEM;
                for (size_t i = 0; r >= 0 && i < nf; i++) {
                        values[n * nf + i] = (BusValue) {};
                        r = bus_value_read_basic(m, inner[i], &values[n * nf + i]);
                        if (r == 0)
                                r = -EBADMSG;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                n++;
        }
        if (r > 0)
                return -E2BIG;
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;

        BusRow *rows = malloc(n * (sizeof(BusRow) + nf * sizeof(BusValue)) + 1);
        if (!rows)
                return -ENOMEM;
        BusValue *v = (BusValue *) (rows + n);
        if (n > 0)
                memcpy(v, values, n * nf * sizeof(BusValue));
        for (size_t i = 0; i < n; i++)
                rows[i] = (BusRow) { .v = v + i * nf, .n = nf };
        *ret = rows;
        *ret_n = n;
        return 0;
}

static const BusValue no_value = {};

static const BusValue *row_get(const BusRow *row, size_t i) {
        return i < row->n ? &row->v[i] : &no_value;
}

static const char *row_str(const BusRow *row, size_t i) {
        const BusValue *v = row_get(row, i);
        return bus_value_is_string(v) ? v->str : "";
}

/* Writes the rows as a JSON array of objects, one per line. */
static void rows_write_json(const BusRow *rows, size_t n, const char *const *names,
                            size_t n_names) {
        fputc('[', stdout);
        for (size_t r = 0; r < n; r++) {
                fputs(r > 0 ? ",\n{" : "\n{", stdout);
                for (size_t i = 0; i < rows[r].n; i++) {
                        char key[32];

                        if (i > 0)
                                fputc(',', stdout);
                        if (i < n_names)
                                json_write_string(stdout, names[i]);
                        else {
                                snprintf(key, sizeof key, "field%zu", i);
                                json_write_string(stdout, key);
                        }
                        fputc(':', stdout);
                        bus_value_write_json(stdout, &rows[r].v[i]);
                }
                fputc('}', stdout);
        }
        fputs(n > 0 ? "\n]\n" : "]\n", stdout);
}

/* systemctl's ACTIVE column from berth's state: active, reloading, activating, deactivating,
 * inactive or failed. A service that hands over to a successor serves throughout: active. */
static const char *active_state(const char *state) {
        if (STR_IN_SET(state, "running", "listening", "handover", "draining", "handover-abort",
                       "stalled", "not-accepting"))
                return "active";
        if (streq(state, "reload"))
                return "reloading";
        if (STR_IN_SET(state, "condition", "start-pre", "start", "start-post", "auto-restart",
                       "backoff", "retrying"))
                return "activating";
        if (STR_IN_SET(state, "stop", "stop-sigterm", "stop-sigkill", "stop-post"))
                return "deactivating";
        if (streq(state, "failed"))
                return "failed";
        return "inactive";
}

static const char *state_color(const char *state, const char *load_state) {
        if (streq(state, "failed") || streq(load_state, "failed"))
                return ANSI_RED;
        if (STR_IN_SET(active_state(state), "active", "reloading"))
                return ANSI_GREEN;
        if (STR_IN_SET(state, "auto-restart", "backoff"))
                return ANSI_YELLOW;
        return NULL;
}

/* What `status` exits with for a unit in this state: 0 when it serves. */
static bool unit_is_active(const char *state, const char *load_state) {
        return !streq(load_state, "failed") &&
               STR_IN_SET(active_state(state), "active", "reloading");
}

static int list_units_rows(sd_bus *bus, sd_bus_message **ret_reply, BusRow **ret_rows,
                           size_t *ret_n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call(bus, "ListUnits", BERTHCTL_QUERY_TIMEOUT_USEC, &error, &reply, NULL);
        if (r < 0)
                return bus_report_error("Failed to list units", NULL, &error, r);
        r = bus_rows_read(reply, ret_rows, ret_n);
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to ListUnits: %m");
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

static int print_units_table(const StatusOptions *o, const BusRow *rows, size_t n) {
        static const char *const headers[] = {
                "UNIT", "LOAD", "ACTIVE", "STATE", ">PID", ">RESTARTS", "LAST-EXIT", "DESCRIPTION",
        };
        _cleanup_(table_freep) Table *t = NULL;
        int r;

        r = table_new(&t, ELEMENTSOF(headers), headers);
        if (r < 0)
                return log_oom();
        for (size_t i = 0; i < n; i++) {
                const BusRow *row = &rows[i];
                const char *state = row_str(row, LU_STATE), *load = row_str(row, LU_LOAD);
                const char *color = state_color(state, load);
                char b1[64], b2[64], b3[64];
                const BusValue *pid = row_get(row, LU_PID);

                r = table_add(t, row_str(row, LU_NAME), NULL);
                if (r >= 0)
                        r = table_add(t, load, streq(load, "failed") ? ANSI_RED : NULL);
                if (r >= 0)
                        r = table_add(t, active_state(state), color);
                if (r >= 0)
                        r = table_add(t, state, color);
                if (r >= 0)
                        r = table_add(t, bus_value_is_unsigned(pid) && pid->u == 0 ? "-" :
                                      bus_value_text(pid, b1, sizeof b1), NULL);
                if (r >= 0)
                        r = table_add(t, bus_value_text(row_get(row, LU_RESTARTS), b2, sizeof b2),
                                      NULL);
                if (r >= 0) {
                        const char *e = bus_value_text(row_get(row, LU_LAST_EXIT), b3, sizeof b3);
                        r = table_add(t, e[0] ? e : "-", NULL);
                }
                if (r >= 0)
                        r = table_add(t, row_str(row, LU_DESCRIPTION), NULL);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the table: %m");
        }
        table_print(t, stdout, !o->plain);
        if (!o->plain)
                printf("\n%zu unit%s listed.\n", n, n == 1 ? "" : "s");
        return 0;
}

int verb_list_units(sd_bus *bus, const StatusOptions *o, char **args, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ BusRow *rows = NULL;
        size_t n_rows = 0;
        int r;

        if (n > 0) {
                log_error("list-units takes no arguments.");
                return -EINVAL;
        }
        r = list_units_rows(bus, &reply, &rows, &n_rows);
        if (r != 0)
                return r;
        if (o->json) {
                rows_write_json(rows, n_rows, list_units_fields, ELEMENTSOF(list_units_fields));
                return 0;
        }
        return print_units_table(o, rows, n_rows);
}

int verb_list_sockets(sd_bus *bus, const StatusOptions *o, char **args, size_t n) {
        static const char *const headers[] = {
                "ADDRESS", "PROTO", "STACK", "REACH", "FILTER", ">BACKLOG", ">QUEUED", "UNIT",
                "SERVICE", "STATE",
        };
        /* The fields of ListSockets in the order of the headers: the address first, as ss. */
        static const size_t columns[] = {
                LS_ADDRESS, LS_PROTOCOL, LS_STACK, LS_REACH, LS_FILTER, LS_BACKLOG, LS_QUEUED,
                LS_UNIT, LS_SERVICE, LS_SERVICE_STATE,
        };
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_free_ BusRow *rows = NULL;
        size_t n_rows = 0;
        int r;

        if (n > 0) {
                log_error("list-sockets takes no arguments.");
                return -EINVAL;
        }
        r = bus_call(bus, "ListSockets", BERTHCTL_QUERY_TIMEOUT_USEC, &error, &reply, NULL);
        if (r < 0)
                return bus_report_error("Failed to list sockets", NULL, &error, r);
        r = bus_rows_read(reply, &rows, &n_rows);
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to ListSockets: %m");
        if (o->json) {
                rows_write_json(rows, n_rows, list_sockets_fields,
                                ELEMENTSOF(list_sockets_fields));
                return 0;
        }

        r = table_new(&t, ELEMENTSOF(headers), headers);
        if (r < 0)
                return log_oom();
        for (size_t i = 0; i < n_rows; i++) {
                const char *state = row_str(&rows[i], LS_SERVICE_STATE);

                for (size_t c = 0; r >= 0 && c < ELEMENTSOF(headers); c++) {
                        char buf[64];
                        const char *text = bus_value_text(row_get(&rows[i], columns[c]), buf,
                                                          sizeof buf);

                        /* FILTER: "ip", or "-" (also from a berthd that does not send it). */
                        if (columns[c] == LS_FILTER && !text[0])
                                text = "-";
                        r = table_add(t, text,
                                      columns[c] == LS_SERVICE_STATE ? state_color(state, "")
                                                                     : NULL);
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to build the table: %m");
        }
        table_print(t, stdout, !o->plain);
        if (!o->plain)
                printf("\n%zu socket%s listed.\n", n_rows, n_rows == 1 ? "" : "s");
        return 0;
}

/* status: one unit, systemctl's layout. */

#define STATUS_LABEL_WIDTH 12

static void status_line(const char *label, const char *fmt, ...) _printf_(2, 3);
static void status_line(const char *label, const char *fmt, ...) {
        va_list ap;

        printf("%*s ", STATUS_LABEL_WIDTH, label);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* "1234 (python3)": the command name from /proc when berthd runs on this machine. */
static const char *pid_text(uint64_t pid, char *buf, size_t buflen) {
        char comm[PROC_COMM_MAX];

        if (pid <= INT_MAX && proc_read_comm((pid_t) pid, comm, sizeof comm) >= 0 && comm[0])
                snprintf(buf, buflen, "%" PRIu64 " (%s)", pid, comm);
        else
                snprintf(buf, buflen, "%" PRIu64, pid);
        return buf;
}

/* Drop-ins grouped by directory, as systemctl shows them. */
static void status_dropins(const char *const *dropins) {
        const char *label = "Drop-In:";

        for (size_t i = 0; dropins && dropins[i];) {
                const char *slash = strrchr(dropins[i], '/');
                size_t dl = slash ? (size_t) (slash - dropins[i]) : 0;
                size_t j = i;

                printf("%*s %.*s\n", STATUS_LABEL_WIDTH, label, (int) dl, dropins[i]);
                label = "";
                printf("%*s %s", STATUS_LABEL_WIDTH, "", glyph_tree_last());
                /* Every drop-in in the same directory; j only grows, up to the list's end. */
                for (; dropins[j]; j++) {
                        const char *s = strrchr(dropins[j], '/');
                        if ((s ? (size_t) (s - dropins[j]) : 0) != dl ||
                            strncmp(dropins[j], dropins[i], dl) != 0)
                                break;
                        printf("%s%s", j > i ? ", " : "", s ? s + 1 : dropins[j]);
                }
                putchar('\n');
                i = j;
        }
}

typedef struct StatusLogs {
        const char *unit;
        bool any;
} StatusLogs;

/* The log lines come after a blank line; a unit without any has neither. */
static void print_status_log_entry(const LogEntry *e, void *userdata) {
        StatusLogs *sl = userdata;

        if (!sl->any)
                putchar('\n');
        sl->any = true;
        printf("%s[%" PRIu32 "]: %s\n", sl->unit, e->pid, e->line);
}

static void write_json_log_entry(const LogEntry *e, void *userdata) {
        bool *first = userdata;

        fputs(*first ? "{" : ",{", stdout);
        *first = false;
        printf("\"seq\":%" PRIu64 ",\"pid\":%" PRIu32 ",\"line\":", e->seq, e->pid);
        json_write_string(stdout, e->line);
        fputc('}', stdout);
}

/* The unit whose output a unit's status shows: a socket's service, else itself. */
static const char *log_unit(const UnitProperties *p) {
        const char *svc = unit_prop_str(p, "Service");

        if (streq(unit_prop_str(p, "Type"), "socket") && svc[0])
                return svc;
        return unit_prop_str(p, "Name");
}

static void status_print_unit(sd_bus *bus, const StatusOptions *o, const UnitProperties *p) {
        const char *name = unit_prop_str(p, "Name"), *type = unit_prop_str(p, "Type");
        const char *load = unit_prop_str(p, "LoadState"), *state = unit_prop_str(p, "State");
        const char *result = unit_prop_str(p, "Result"), *desc = unit_prop_str(p, "Description");
        const char *fragment = unit_prop_str(p, "FragmentPath");
        const char *last_exit = unit_prop_str(p, "LastExit");
        const char *status_text = unit_prop_str(p, "StatusText");
        const char *load_error = unit_prop_str(p, "LoadError");
        const char *service = unit_prop_str(p, "Service");
        const char *const *listen = unit_prop_strv(p, "Listen");
        const char *color = state_color(state, load);
        uint64_t since = unit_prop_u64(p, "Since");
        uint64_t main_pid = unit_prop_u64(p, "MainPID");
        uint64_t control_pid = unit_prop_u64(p, "ControlPID");
        char b1[TIMESTAMP_MAX], b2[TIMESTAMP_MAX], pidbuf[128];
        char state_text[64] = "", result_text[128] = "";

        printf("%s%s%s %s%s%s\n", ansi(color), glyph_dot(), color ? ansi(ANSI_NORMAL) : "",
               name, desc[0] ? " - " : "", desc);
        status_line("Loaded:", "%s%s%s%s%s%s", streq(load, "failed") ? ansi(ANSI_RED) : "", load,
                    streq(load, "failed") ? ansi(ANSI_NORMAL) : "", fragment[0] ? " (" : "",
                    fragment, fragment[0] ? ")" : "");
        status_dropins(unit_prop_strv(p, "DropInPaths"));

        /* "active (running)", "inactive (dead)", "failed (Result: exit-code)". */
        if (!streq(active_state(state), state))
                snprintf(state_text, sizeof state_text, " (%s)", state);
        if (result[0] && !streq(result, "success"))
                snprintf(result_text, sizeof result_text, " (Result: %s)", result);
        /* Since is when the processes started: shown while they exist. */
        if (since > 0 &&
            STR_IN_SET(active_state(state), "active", "reloading", "activating", "deactivating"))
                status_line("Active:", "%s%s%s%s%s since %s; %s", ansi(color),
                            active_state(state), state_text, result_text,
                            color ? ansi(ANSI_NORMAL) : "", format_timestamp(b1, sizeof b1, since),
                            format_timestamp_relative(b2, sizeof b2, since, time_now(CLOCK_REALTIME)));
        else
                status_line("Active:", "%s%s%s%s%s", ansi(color), active_state(state),
                            state_text, result_text, color ? ansi(ANSI_NORMAL) : "");

        if (streq(type, "socket") && service[0])
                status_line("Triggers:", "%s", service);
        if (main_pid > 0)
                status_line("Main PID:", "%s", pid_text(main_pid, pidbuf, sizeof pidbuf));
        if (control_pid > 0)
                status_line("Control PID:", "%s", pid_text(control_pid, pidbuf, sizeof pidbuf));
        /* During a Handover=overlap both processes serve: show the one being replaced. */
        uint32_t old_pid = (uint32_t) unit_prop_u64(p, "OldMainPID");
        if (old_pid > 0)
                status_line("Old PID:", "%s (being replaced: draining)",
                            pid_text(old_pid, pidbuf, sizeof pidbuf));
        if (streq(type, "service"))
                status_line("Restarts:", "%" PRIu64, unit_prop_u64(p, "Restarts"));
        if (last_exit[0])
                status_line("Last exit:", "%s", last_exit);
        for (size_t i = 0; listen && listen[i]; i++)
                status_line(i == 0 ? "Listen:" : "", "%s", listen[i]);
        if (status_text[0])
                status_line("Status:", "\"%s\"", status_text);
        /* A socket unit's source filter, as the unit has it. */
        const char *const *allow = unit_prop_strv(p, "IPAddressAllow");
        const char *const *deny = unit_prop_strv(p, "IPAddressDeny");
        for (size_t i = 0; allow && allow[i]; i++)
                status_line(i == 0 ? "IP allow:" : "", "%s", allow[i]);
        for (size_t i = 0; deny && deny[i]; i++)
                status_line(i == 0 ? "IP deny:" : "", "%s", deny[i]);
        const char *const *stored = unit_prop_strv(p, "StoredFds");
        for (size_t i = 0; stored && stored[i]; i++)
                status_line(i == 0 ? "Stored fds:" : "", "%s", stored[i]);
        if (load_error[0])
                status_line("Error:", "%s%s%s", ansi(ANSI_RED), load_error, ansi(ANSI_NORMAL));

        if (o->lines > 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                StatusLogs sl = { .unit = log_unit(p) };
                uint64_t next;

                /* A unit that keeps no output (a template) is not an error here; output the
                 * caller may not read is said, as systemctl hints at the journal's. */
                int r = logs_fetch(bus, sl.unit, 0, o->lines, &error, &next,
                                   print_status_log_entry, &sl);
                if (r < 0 && sd_bus_error_has_name(&error, SD_BUS_ERROR_ACCESS_DENIED))
                        printf("\nHint: its output is not shown: %s.\n", error.message);
                else if (r < 0)
                        log_debug("No logs for %s: %s", sl.unit, strna(error.message));
        }
}

static void status_write_json_unit(sd_bus *bus, const StatusOptions *o, const UnitProperties *p,
                                   bool first) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        bool first_entry = true;
        uint64_t next;

        fputs(first ? "\n{" : ",\n{", stdout);
        for (size_t i = 0; i < p->n; i++) {
                char key[128];

                json_write_string(stdout, snake_case(p->props[i].key, key, sizeof key));
                fputc(':', stdout);
                bus_value_write_json(stdout, &p->props[i].value);
                fputc(',', stdout);
        }
        fputs("\"logs\":[", stdout);
        if (o->lines > 0)
                (void) logs_fetch(bus, log_unit(p), 0, o->lines, &error, &next,
                                  write_json_log_entry, &first_entry);
        fputs("]}", stdout);
}

/* The GetUnit reply for the unit arg (a name as unit_resolve() takes it) in *ret_reply. With
 * wait_until (CLOCK_MONOTONIC; --wait-ready), asks again until the unit is active or that time
 * has passed; a failed or backing-off unit may still recover, so it is waited for too. Returns
 * 0, or what unit_resolve() returns for a unit that does not exist, after it printed why. */
static int unit_get(sd_bus *bus, const char *arg, usec_t wait_until, sd_bus_message **ret_reply) {
        for (;;) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(unit_properties_done) UnitProperties p = {};
                struct timespec ts = { .tv_nsec = WAIT_INTERVAL_NSEC };
                int r;

                r = unit_resolve(bus, arg, NULL, &reply);
                if (r != 0)
                        return r;
                if (wait_until == 0 || time_now(CLOCK_MONOTONIC) >= wait_until) {
                        *ret_reply = TAKE_PTR(reply);
                        return 0;
                }
                r = unit_properties_read(reply, &p);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse berthd's reply to GetUnit: "
                                               "%m");
                if (unit_is_active(unit_prop_str(&p, "State"), unit_prop_str(&p, "LoadState"))) {
                        /* Read again from the start by the caller. */
                        r = sd_bus_message_rewind(reply, true);
                        if (r < 0)
                                return log_error_errno(r, "Failed to rewind berthd's reply to "
                                                       "GetUnit: %m");
                        *ret_reply = TAKE_PTR(reply);
                        return 0;
                }
                (void) nanosleep(&ts, NULL);
        }
}

/* Shows one unit (a name as given); sets *ret_exit to what status exits with for it. */
static int status_one(sd_bus *bus, const StatusOptions *o, const char *arg, bool first,
                      int *ret_exit) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        UnitProperties p = {};
        int r;

        r = unit_get(bus, arg, o->wait_until, &reply);
        if (r != 0) {
                *ret_exit = r > 0 ? r : BERTHCTL_EXIT_FAILURE;
                return 0;
        }
        r = unit_properties_read(reply, &p);
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to GetUnit: %m");

        if (o->json)
                status_write_json_unit(bus, o, &p, first);
        else {
                if (!first)
                        putchar('\n');
                status_print_unit(bus, o, &p);
        }
        *ret_exit = unit_is_active(unit_prop_str(&p, "State"), unit_prop_str(&p, "LoadState"))
                            ? BERTHCTL_EXIT_SUCCESS
                            : BERTHCTL_EXIT_NOT_RUNNING;
        unit_properties_done(&p);
        return 0;
}

/* The exit code for several units: unknown (4) beats failure (1) beats inactive (3). */
static int exit_rank(int e) {
        switch (e) {
        case BERTHCTL_EXIT_SUCCESS:
                return 0;
        case BERTHCTL_EXIT_NOT_RUNNING:
                return 1;
        case BERTHCTL_EXIT_NO_SUCH_UNIT:
                return 3;
        default:
                return 2;
        }
}

static int worse_exit(int a, int b) {
        return exit_rank(a) >= exit_rank(b) ? a : b;
}

int verb_status(sd_bus *bus, const StatusOptions *o, char **args, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *list = NULL;
        _cleanup_free_ BusRow *rows = NULL;
        size_t n_rows = 0;
        int ret = BERTHCTL_EXIT_SUCCESS, r;
        bool first = true;

        if (n == 0) {
                r = list_units_rows(bus, &list, &rows, &n_rows);
                if (r != 0)
                        return r;
                /* The overview: the table as text; every unit in full as JSON. */
                if (!o->json)
                        return print_units_table(o, rows, n_rows);
        }

        if (o->json)
                fputc('[', stdout);
        for (size_t i = 0; i < (n > 0 ? n : n_rows); i++) {
                const char *name = n > 0 ? args[i] : row_str(&rows[i], LU_NAME);
                int e;

                r = status_one(bus, o, name, first, &e);
                if (r < 0)
                        return r;
                if (e == BERTHCTL_EXIT_SUCCESS || e == BERTHCTL_EXIT_NOT_RUNNING)
                        first = false;
                ret = worse_exit(ret, e);
        }
        if (o->json)
                fputs(first ? "]\n" : "\n]\n", stdout);
        /* The overview's units are listed, not judged: systemctl status exits 0 there. */
        return n == 0 ? BERTHCTL_EXIT_SUCCESS : ret;
}

int verb_is_active(sd_bus *bus, const StatusOptions *o, char **args, size_t n) {
        int ret = BERTHCTL_EXIT_SUCCESS;

        if (n == 0) {
                log_error("Usage: berthctl is-active UNIT...");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(unit_properties_done) UnitProperties p = {};
                const char *state, *load;
                int r;

                r = unit_get(bus, args[i], o->wait_until, &reply);
                if (r != 0) { /* said already */
                        ret = worse_exit(ret, r > 0 ? r : BERTHCTL_EXIT_FAILURE);
                        continue;
                }
                r = unit_properties_read(reply, &p);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse berthd's reply to GetUnit: "
                                               "%m");
                state = unit_prop_str(&p, "State");
                load = unit_prop_str(&p, "LoadState");
                if (!o->quiet)
                        printf("%s\n", streq(load, "failed") ? "failed" : active_state(state));
                ret = worse_exit(ret, unit_is_active(state, load) ? BERTHCTL_EXIT_SUCCESS
                                                                 : BERTHCTL_EXIT_NOT_RUNNING);
        }
        return ret;
}

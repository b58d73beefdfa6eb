/* condition: systemd's Condition*= and Assert*= keys (systemd.unit(5)), parsed at load and
 * tested when a unit would start: a socket unit before it binds, a service before it runs.
 * Every plain condition must hold, and of the triggering ones ('|') at least one; '!' negates.
 * A failed condition skips the unit, with a line saying which; a failed assertion is an
 * error. Testing reads the system (files, /proc, the environment); no sd-event. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef enum ConditionType {
        CONDITION_PATH_EXISTS,
        CONDITION_PATH_EXISTS_GLOB,
        CONDITION_PATH_IS_DIRECTORY,
        CONDITION_PATH_IS_SYMBOLIC_LINK,
        CONDITION_PATH_IS_MOUNT_POINT,
        CONDITION_PATH_IS_READ_WRITE,
        CONDITION_DIRECTORY_NOT_EMPTY,
        CONDITION_FILE_NOT_EMPTY,
        CONDITION_FILE_IS_EXECUTABLE,
        CONDITION_VIRTUALIZATION,
        CONDITION_HOST,
        CONDITION_KERNEL_COMMAND_LINE,
        CONDITION_USER,
        CONDITION_GROUP,
        CONDITION_ENVIRONMENT,
        CONDITION_SECURITY,
        CONDITION_CAPABILITY,
        CONDITION_CONTROL_GROUP_CONTROLLER,
        _CONDITION_TYPE_MAX,
        _CONDITION_TYPE_INVALID = -22,
} ConditionType;

typedef struct Condition {
        ConditionType type;
        bool assertion; /* Assert*= */
        bool trigger;   /* '|' */
        bool negate;    /* '!' */
        char *param;
        const char *file; /* where it was set (owned by the unit) */
        unsigned line;
} Condition;

/* "PathExists" for ConditionPathExists= and AssertPathExists=, or -EINVAL. */
ConditionType condition_type_from_string(const char *s);
const char *condition_type_to_string(ConditionType t);

/* The result of one condition, negation applied: 1 met, 0 not, with a few words on what was
 * found in why ("no such file", "in a container: docker"). */
int condition_test(const Condition *c, char *why, size_t whylen);

/* Tests a unit's list. Returns 1 when the unit may start; 0 when a condition failed, or
 * -EBADMSG when an assertion failed, with the key, value and what was found in why. */
int conditions_test(const Condition *list, size_t n, char *why, size_t whylen);

void condition_list_free(Condition **list, size_t *n);

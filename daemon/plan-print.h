/* plan-print: the plan `berthd --check` prints. Pure. */
#pragma once

#include <stdio.h>

#include "daemon/bind-plan.h"
#include "daemon/reload.h"
#include "daemon/unit-file.h"

/* Writes every socket unit (with the sockets it will bind, how, and for which service), every
 * service (when it starts), then "OK: ..." or "FAILED: ..." with the counts. */
void plan_print(FILE *f, Unit **units, size_t n_units, const BindPlan *plan,
                const UnitFailures *failed, unsigned n_errors, unsigned n_warnings);

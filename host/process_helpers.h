/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Task glue of host/process.rs (CREATEPROCESS names the opener).
 */
#ifndef DXG_HOST_PROCESS_HELPERS_H
#define DXG_HOST_PROCESS_HELPERS_H

#include <linux/types.h>

/*
 * get_task_comm() of current into @buf of @len bytes (at least 1): a macro
 * for a lockless copy, NUL terminated and padded (include/linux/sched.h
 * explains why readers need no lock); cut to @len - 1 characters.
 */
void dxg_current_comm(char *buf, size_t len);

#endif /* DXG_HOST_PROCESS_HELPERS_H */

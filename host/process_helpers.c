// SPDX-License-Identifier: GPL-2.0
/*
 * Task glue of host/process.rs; see process_helpers.h.
 */
#include <linux/sched.h>
#include <linux/string.h>

#include "process_helpers.h"

void dxg_current_comm(char *buf, size_t len)
{
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, current);
	strscpy_pad(buf, comm, len);
}

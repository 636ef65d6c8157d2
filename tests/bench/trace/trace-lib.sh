# SPDX-License-Identifier: GPL-2.0
# Shared by the trace-*.sh scripts (make bench-trace): event tracing on
# around a command, the trace left in /dxg/results/NAME.trace.
T=/sys/kernel/tracing
# trace_run NAME COMMAND...: trace COMMAND with the scheduler, allocator,
# workqueue, dma_fence and system-call events.
trace_run() {
	name=$1; shift
	[ -d $T/events ] || mount -t tracefs nodev $T || fail "no tracefs (not the bench kernel?)"
	echo 0 >$T/tracing_on
	echo >$T/trace
	echo mono >$T/trace_clock
	echo 40000 >$T/buffer_size_kb
	for e in sched/sched_switch sched/sched_wakeup sched/sched_waking kmem/kmalloc kmem/kfree \
		kmem/kmem_cache_alloc kmem/kmem_cache_free kmem/mm_page_alloc workqueue/workqueue_queue_work \
		workqueue/workqueue_execute_start workqueue/workqueue_execute_end \
		dma_fence/dma_fence_signaled dma_fence/dma_fence_init raw_syscalls; do
		echo 1 >$T/events/$e/enable || fail "no event $e"
	done
	echo 1 >$T/tracing_on
	"$@"
	rc=$?
	echo 0 >$T/tracing_on
	echo 0 >$T/events/enable
	cat $T/trace >/dxg/results/$name.trace
	return $rc
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of dxg's own bindgen run (Kbuild): kernel APIs the `kernel` crate
 * does not bind yet, and the module's C helpers.
 *
 * Each C helper exists because Rust cannot reach the API directly (static
 * inline functions, macros, or structures the kernel crate keeps private)
 * and is shaped so it can be dropped once rust/kernel grows the matching
 * abstraction. Each lives beside the Rust file that uses it, one header
 * per job; this header only gathers them (paths are relative to the
 * module root, which Kbuild puts on the include path).
 */
#include "sys/workqueue_helpers.h"
#include "vmbus/page_helpers.h"
#include "vmbus/hv_helpers.h"
#ifdef DXG_TEST
#include "vmbus/loopback_helpers.h"
#endif
#include "drm/gem_helpers.h"
#include "host/process_helpers.h"
#include "bind/pci_helpers.h"
#include "bind/channel_drivers.h"

/* SPDX-License-Identifier: GPL-2.0 */
/* Input of the kernel module's bindgen run for dxg's UAPI headers. */
#include "dxg_drm.h"
#include "dxg_loopback.h"

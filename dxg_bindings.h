/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Input of dxg's own bindgen run (Kbuild): kernel APIs the `kernel` crate
 * does not bind yet, and the module's C helpers.
 */
#include <linux/dma-fence-chain.h>
#include <drm/drm_syncobj.h>
#include "dxg_helpers.h"

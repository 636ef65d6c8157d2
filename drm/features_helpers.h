/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's copy of the Rust-generated struct drm_driver
 * (drm/features.rs), with what the kernel crate cannot set yet: syncobj
 * features, fdinfo, and PRIME import from other dxg adapters.
 */
#ifndef DXG_DRM_FEATURES_HELPERS_H
#define DXG_DRM_FEATURES_HELPERS_H

#include <linux/types.h>

struct drm_device;
struct drm_file;
struct drm_gem_object;

/*
 * Give @dev (not registered yet) the module's copy of its Rust-generated
 * struct drm_driver, with @features added and fops.show_fdinfo set to the
 * core's drm_show_fdinfo(). The kernel crate offers neither yet.
 */
int dxg_drm_add_features(struct drm_device *dev, u32 features);

/* Implemented in Rust (drm/gem.rs): the import itself; ERR_PTR on error. */
struct drm_gem_object *dxg_gem_import_sibling(struct drm_device *dev,
					      struct drm_gem_object *src);

/* Implemented in Rust (drm/file.rs): GPU time of a dxg DRM file, in ns. */
u64 dxg_file_engine_ns(struct drm_file *file);

#endif /* DXG_DRM_FEATURES_HELPERS_H */

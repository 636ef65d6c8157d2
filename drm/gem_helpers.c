// SPDX-License-Identifier: GPL-2.0
/*
 * Shmem GEM glue of dxg.ko; see gem_helpers.h.
 */
#include <drm/drm_gem_shmem_helper.h>
#include <linux/file.h>

#include "gem_helpers.h"

int dxg_gem_share_backing(struct drm_gem_object *obj,
			  struct drm_gem_object *src)
{
	struct drm_gem_shmem_object *shmem = to_drm_gem_shmem_obj(obj);

	/* Only a fresh object: no pages yet, nothing mapped. */
	if (!obj->filp || !src->filp || obj->size != src->size || shmem->pages)
		return -EINVAL;
	fput(obj->filp);
	obj->filp = get_file(src->filp);
	return 0;
}

struct page **dxg_gem_pages(struct drm_gem_object *obj)
{
	struct drm_gem_shmem_object *shmem = to_drm_gem_shmem_obj(obj);
	struct sg_table *sgt;

	if (drm_gem_is_imported(obj))
		return ERR_PTR(-EOPNOTSUPP);
	/*
	 * The sg_table holds one pages_use_count reference until
	 * drm_gem_shmem_release(), which drops exactly that one (a pin
	 * would trip its WARN); shmem->pages is valid until then.
	 */
	sgt = drm_gem_shmem_get_pages_sgt(shmem);
	if (IS_ERR(sgt))
		return ERR_CAST(sgt);
	return shmem->pages;
}

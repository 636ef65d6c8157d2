// SPDX-License-Identifier: GPL-2.0
/*
 * Guest pages shared with the host; see page_helpers.h.
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "page_helpers.h"

void dxg_page_get(struct page *page)
{
	get_page(page);
}

void dxg_page_put(struct page *page)
{
	put_page(page);
}

void *dxg_vmap_pages(struct page **pages, unsigned int count)
{
	return vmap(pages, count, VM_MAP, PAGE_KERNEL);
}

void dxg_vunmap(const void *addr)
{
	vunmap(addr);
}

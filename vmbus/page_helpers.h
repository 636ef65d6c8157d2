/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Page references and kernel mappings of guest pages shared with the host
 * (vmbus/memory.rs, vmbus/hv.rs).
 */
#ifndef DXG_VMBUS_PAGE_HELPERS_H
#define DXG_VMBUS_PAGE_HELPERS_H

struct page;

/* get_page()/put_page() are static inline. */
void dxg_page_get(struct page *page);
void dxg_page_put(struct page *page);

/* vmap()/vunmap() of whole pages (not in the kernel crate's bindings). */
void *dxg_vmap_pages(struct page **pages, unsigned int count);
void dxg_vunmap(const void *addr);

#endif /* DXG_VMBUS_PAGE_HELPERS_H */

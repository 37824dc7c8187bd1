/* SPDX-License-Identifier: MIT */
/* models/model.c — work-unit names shared by the simulator, profiles and the kernel module. */
#include "model.h"

const char *const work_unit_names[WU__COUNT] = {
	[WU_LIST_HOP] = "list_hop",
	[WU_BUCKET_VISIT] = "bucket_visit",
	[WU_TREE_NODE] = "tree_node",
	[WU_ENTRY_MOVE] = "entry_move",
	[WU_ALLOC] = "alloc",
	[WU_FREE] = "free",
	[WU_P2M_ENTRY] = "p2m_entry",
	[WU_PAGE_PUT] = "page_put",
	[WU_PREEMPT_CHECK] = "preempt_check",
	[WU_PAGE_SCRUB] = "page_scrub",
	[WU_LOCK] = "lock",
	[WU_REFCOUNT] = "refcount",
	[WU_PTE_TEST] = "pte_test",
	[WU_SHADOW_ZAP] = "shadow_zap",
	[WU_SHADOW_BUILD] = "shadow_build",
	[WU_HYPERCALL] = "hypercall",
	[WU_HINT_PAGE] = "hint_page",
	[WU_PAGE_DROP] = "page_drop",
	[WU_SWAP_IO] = "swap_io",
};

void work_accumulate(struct work *into, const struct work *from)
{
	unsigned i;

	for (i = 0; i < WU__COUNT; i++)
		into->n[i] = work_sat_add(into->n[i], from->n[i]);
	into->footprint_bytes = ENV_MAX(into->footprint_bytes, from->footprint_bytes);
}

void *mem_zalloc(struct mem_account *a, size_t size)
{
	void *p = env_zalloc(size);

	if (!p) {
		a->failed++;
		return NULL;
	}
	a->live_bytes += size;
	if (a->live_bytes > a->peak_bytes)
		a->peak_bytes = a->live_bytes;
	return p;
}

void mem_free(struct mem_account *a, void *p, size_t size)
{
	if (!p)
		return;
	env_free(p, size);
	a->live_bytes -= size;
}

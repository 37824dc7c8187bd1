/* SPDX-License-Identifier: MIT */
/*
 * models/rmap.c — the shared-frame reverse map: policy registry, parameters, model set-up,
 * the whole-structure check, and the pieces every policy uses (entries, chains, buckets,
 * hash functions).  The policies are in rmap_list.c, rmap_hash.c, rmap_tree.c,
 * rmap_hash_grow.c and rmap_ksm_chain.c; docs/models/rmap.md describes mechanism, policies and work units.
 */
#include "rmap_impl.h"

const struct rmap_policy *const rmap_policies[] = {
	&rmap_list_policy,
	&rmap_hash_policy,
	&rmap_tree_policy,
	&rmap_hash_grow_policy,
	&rmap_ksm_chain_policy,
	NULL,
};

/*
 * Parameters, in struct rmap_params field order (rmap_param_off below must match).
 * Seed values: the hash table is one 4 KiB page of 16-byte list heads, hence 256 buckets;
 * a frame converts when it has as many tuples as buckets (heavy = 256) and converts back at
 * a quarter of that (light = heavy >> 2 = 64), "a bit of hysteresis".
 */
const struct model_param rmap_param_table[RMAP_NPARAMS] = {
	{ "heavy", 256, 1, 1ULL << 32,
	  "hash, hash-grow: list->hash conversion at the add that brings a frame's count to this (entries)" },
	{ "light", 64, 0, (1ULL << 32) - 1,
	  "hash, hash-grow: hash->list conversion at a removal that starts from this count or less (entries; < heavy)" },
	{ "buckets", 256, 1, 1ULL << 24,
	  "hash: bucket count; hash-grow: initial and minimum bucket count (buckets of 16 bytes)" },
	{ "hash_fn", RMAP_HASH_SEED, RMAP_HASH_SEED, RMAP_HASH_MIX,
	  "bucket function: 0 = (gfn + domain) % buckets as in the seed, 1 = 64-bit mix % buckets (enum)" },
	{ "grow_load", 4, 1, 1024,
	  "hash-grow: double the bucket array when count > grow_load * buckets (entries per bucket)" },
	{ "grow_step", 4, 1, 1ULL << 20,
	  "hash-grow: non-empty old buckets migrated per operation while resizing (buckets per operation)" },
	{ "list_fast", 0, 0, 1,
	  "list: 1 = count list hops from an order index instead of walking (same counts; boolean)" },
	{ "max_page_sharing", 256, 2, 1ULL << 20,
	  "ksm-chain: tuples per copy of the page before a new copy (dup) is made (Linux default 256)" },
};

static const size_t rmap_param_off[RMAP_NPARAMS] = {
	offsetof(struct rmap_params, heavy),
	offsetof(struct rmap_params, light),
	offsetof(struct rmap_params, buckets),
	offsetof(struct rmap_params, hash_fn),
	offsetof(struct rmap_params, grow_load),
	offsetof(struct rmap_params, grow_step),
	offsetof(struct rmap_params, list_fast),
	offsetof(struct rmap_params, max_page_sharing),
};

const struct rmap_policy *rmap_policy_find(const char *name)
{
	unsigned i;

	if (!name)
		return NULL;
	for (i = 0; rmap_policies[i]; i++)
		if (env_streq(rmap_policies[i]->name, name))
			return rmap_policies[i];
	return NULL;
}

void rmap_params_default(struct rmap_params *p)
{
	unsigned i;

	for (i = 0; i < RMAP_NPARAMS; i++)
		*(uint64_t *)((char *)p + rmap_param_off[i]) = rmap_param_table[i].def;
}

int rmap_params_validate(const struct rmap_params *p)
{
	unsigned i;

	for (i = 0; i < RMAP_NPARAMS; i++) {
		uint64_t v = *(const uint64_t *)((const char *)p + rmap_param_off[i]);

		if (v < rmap_param_table[i].min || v > rmap_param_table[i].max)
			return -EINVAL;
	}
	/* Hysteresis needs a gap: with light >= heavy a frame could convert both ways on
	 * alternate operations. */
	if (p->light >= p->heavy)
		return -EINVAL;
	return 0;
}

void rmap_model_init(struct rmap_model *m, const struct rmap_policy *pol,
		     const struct rmap_params *p)
{
	env_memset(m, 0, sizeof(*m));
	m->policy = pol;
	m->p = *p;
}

int rmap_check(const struct rmap_model *m, const struct rmap *r)
{
	int rc;

	if (!m || !m->policy || !r)
		return -EINVAL;
	rc = m->policy->check(m, r);
	if (rc)
		return rc;
	/* The model's totals cover every rmap it holds, so they bound this one. */
	if (m->policy->count(r) > m->live_entries)
		return -EINVAL;
	if (m->policy->bytes(m, r) > m->live_bytes)
		return -EINVAL;
	return 0;
}

/* ---- shared pieces ---------------------------------------------------------------------- */

uint64_t rmap_hash(const struct rmap_params *p, struct rmap_key k, uint64_t nbuckets)
{
	if (p->hash_fn == RMAP_HASH_MIX)
		return env_mix64(k.gfn ^ ((uint64_t)k.domain << 48)) % nbuckets;
	/* The seed's "exceedingly simple hash function". */
	return (k.gfn + k.domain) % nbuckets;
}

struct rmap_entry *rmap_entry_alloc(struct rmap_model *m, struct rmap_key k)
{
	struct rmap_entry *e = env_alloc(sizeof(*e));

	if (!e) {
		m->stats.alloc_failed++;
		return NULL;
	}
	work_add(&m->work, WU_ALLOC, 1);
	env_list_init(&e->node);
	e->gfn = k.gfn;
	e->domain = k.domain;
	return e;
}

void rmap_entry_free(struct rmap_model *m, struct rmap_entry *e)
{
	work_add(&m->work, WU_FREE, 1);
	env_free(e, sizeof(*e));
}

struct rmap_entry *rmap_chain_find(struct rmap_model *m, struct env_list *head,
				   struct rmap_key k)
{
	struct env_list *pos;
	uint64_t hops = 0;
	struct rmap_entry *found = NULL;

	for (pos = head->next; pos != head; pos = pos->next) {
		struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		hops++;
		if (e->gfn == k.gfn && e->domain == k.domain) {
			found = e;
			break;
		}
	}
	work_add(&m->work, WU_LIST_HOP, hops);
	return found;
}

int rmap_chain_walk(struct rmap_model *m, struct env_list *head, rmap_iter_fn fn, void *arg)
{
	struct env_list *pos, *next;
	int rc;

	for (pos = head->next; pos != head; pos = next) {
		struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		next = pos->next;
		work_add(&m->work, WU_LIST_HOP, 1);
		rc = fn(arg, rmap_entry_key(e));
		if (rc)
			return rc;
	}
	return 0;
}

struct rmap_entry *rmap_chain_find_quiet(const struct env_list *head, struct rmap_key k)
{
	const struct env_list *pos;

	for (pos = head->next; pos != head; pos = pos->next) {
		struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		if (e->gfn == k.gfn && e->domain == k.domain)
			return e;
	}
	return NULL;
}

struct env_list *rmap_buckets_alloc(struct rmap_model *m, uint64_t n)
{
	struct env_list *b = env_alloc(rmap_buckets_bytes(n));
	uint64_t i;

	if (!b)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	for (i = 0; i < n; i++)
		env_list_init(&b[i]);
	work_add(&m->work, WU_BUCKET_VISIT, n);
	return b;
}

void rmap_buckets_free(struct rmap_model *m, struct env_list *b, uint64_t n)
{
	work_add(&m->work, WU_FREE, 1);
	env_free(b, rmap_buckets_bytes(n));
}

int rmap_chain_check(const struct rmap_params *p, const struct env_list *head,
		     uint64_t nbuckets, uint64_t index, uint64_t limit, uint64_t *count)
{
	const struct env_list *pos, *prev = head;
	uint64_t seen = 0;

	if (!head->next || !head->prev)
		return -EINVAL;
	for (pos = head->next; pos != head; prev = pos, pos = pos->next) {
		const struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		if (!pos || pos->prev != prev || ++seen > limit)
			return -EINVAL;
		if (nbuckets && rmap_hash(p, rmap_entry_key(e), nbuckets) != index)
			return -EINVAL;
	}
	if (head->prev != prev)
		return -EINVAL;
	*count += seen;
	return 0;
}

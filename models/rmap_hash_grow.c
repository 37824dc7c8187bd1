/* SPDX-License-Identifier: MIT */
/*
 * models/rmap_hash_grow.c — policy `hash-grow`: the seed's hash, but the bucket array follows
 * the count, resized in bounded incremental steps as Redis's dict.c rehashes, so chains stay
 * about `grow_load` long at any degree of sharing and a destroy costs work linear in n
 * (the seed's fixed 256 buckets give chains of n/256: quadratic again, only 256x later).
 *
 * States of one rmap:
 *
 *   LIST      tab[0] == NULL: exactly the `hash` policy's list phase.
 *   HASH      tab[0] (size[0] buckets), tab[1] == NULL.
 *   RESIZING  tab[0] (old, buckets [0, migrate) already emptied) and tab[1] (new).
 *
 *   LIST --add, count after >= heavy--> HASH with `buckets` buckets      (to_hash)
 *   HASH --add, count > grow_load * size--> RESIZING to 2 * size         (resizes)
 *   HASH --remove, 4 * count < grow_load * size, size > buckets--> RESIZING to size / 2
 *   RESIZING --each operation migrates `grow_step` non-empty old buckets (visiting at most
 *              10 x grow_step, as dict.c's empty-visit budget); when the old table is
 *              empty--> HASH with the new table                         (resize_steps)
 *   HASH, RESIZING --remove, count before <= light--> LIST               (to_list)
 *
 * The list<->hash thresholds are the `hash` policy's, with the same seed semantics (see
 * rmap_hash.c).  While RESIZING, new tuples go to the new table, and a lookup searches the
 * old chain (if its bucket is not migrated yet) and then the new one.  An array that cannot
 * be allocated leaves the rmap as it was and is counted (conv_failed for list->hash,
 * resize_failed for a resize); it is retried at the next operation that meets the condition.
 *
 * Nothing structural happens while an iteration is in flight or on a remove with
 * RMAP_NO_CONVERT: conversions and resize starts are deferred (conv_deferred counts both)
 * and migration steps pause, so the iterator's view of the two tables cannot change.
 *
 * Work is linear in n: a resize to S' buckets costs S' bucket initialisations, one visit per
 * old bucket and one move per entry, and happens only after the count has changed by a
 * constant fraction of S (doubling at load*S, halving at load*S/4), so the resize work per
 * operation is bounded on average.  Per operation a step visits at most 10 x grow_step old
 * buckets and moves the entries of grow_step of them, which bounds the longest
 * non-preemptible stretch — except for the operation that starts a resize: it initialises
 * every bucket of the new array (as the seed's conversion initialises its 256).
 *
 * Work units: as `hash`, plus per migration step one WU_BUCKET_VISIT per old bucket visited
 * and one WU_ENTRY_MOVE per entry moved, and the new array's WU_ALLOC + one WU_BUCKET_VISIT
 * per bucket initialised, WU_FREE of the old array.
 *
 * Invariants (grow_check): LIST as the list policy; otherwise the list head is empty, every
 * chain is consistent, every entry sits in the bucket its key hashes to in its own table,
 * migrated old buckets are empty, used[] matches the chains, no tuple twice (within a chain,
 * or in both tables), used[0] + used[1] == count, sizes within bounds.
 */
#include "rmap_impl.h"

/* A 2^30-bucket array is 16 GiB: never reached in practice, but no overflow either. */
#define GROW_MAX_BUCKETS (1ULL << 30)

static struct grow_rmap *G(struct rmap *r) { return (struct grow_rmap *)r; }
static const struct grow_rmap *CG(const struct rmap *r) { return (const struct grow_rmap *)r; }

static uint64_t grow_bytes(const struct rmap_model *m, const struct rmap *r)
{
	const struct grow_rmap *g = CG(r);
	uint64_t b = sizeof(*g) + g->count * sizeof(struct rmap_entry);

	if (g->tab[0])
		b += rmap_buckets_bytes(g->size[0]);
	if (g->tab[1])
		b += rmap_buckets_bytes(g->size[1]);
	return b;
}

static struct rmap *grow_create(struct rmap_model *m)
{
	struct grow_rmap *g = env_zalloc(sizeof(*g));

	if (!g)
		return NULL;
	work_add(&m->work, WU_ALLOC, 1);
	env_list_init(&g->list);
	m->live_bytes += sizeof(*g);
	return (struct rmap *)g;
}

/* Moves every entry of chain `head` to the head of its bucket in table t. */
static uint64_t move_chain(struct rmap_model *m, struct grow_rmap *g, struct env_list *head,
			   unsigned t)
{
	uint64_t moved = 0;

	while (!env_list_empty(head)) {
		struct env_list *pos = head->next;
		struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);

		env_list_del(pos);
		env_list_add_head(pos, &g->tab[t][rmap_hash(&m->p, rmap_entry_key(e), g->size[t])]);
		moved++;
	}
	work_add(&m->work, WU_ENTRY_MOVE, moved);
	return moved;
}

/*
 * One bounded migration step, with dict.c's budget: up to grow_step non-empty old buckets
 * migrated, and no more than GROW_EMPTY_VISITS x grow_step old buckets visited in all (so a
 * sparse table still migrates quickly, which a shrink needs).  Finishes the resize when the
 * old table is empty (its remaining buckets are then known empty from used[0]: not visited).
 */
#define GROW_EMPTY_VISITS 10

static void grow_step(struct rmap_model *m, struct grow_rmap *g)
{
	uint64_t full = 0, visits = 0;

	if (!g->tab[1] || g->iterating)
		return;
	while (full < m->p.grow_step && visits < GROW_EMPTY_VISITS * m->p.grow_step &&
	       g->used[0] && g->migrate < g->size[0]) {
		struct env_list *head = &g->tab[0][g->migrate++];
		uint64_t moved;

		visits++;
		if (env_list_empty(head))
			continue;
		full++;
		moved = move_chain(m, g, head, 1);
		g->used[0] -= moved;
		g->used[1] += moved;
	}
	work_add(&m->work, WU_BUCKET_VISIT, visits);
	m->stats.resize_steps++;
	if (g->used[0] == 0) {
		rmap_buckets_free(m, g->tab[0], g->size[0]);
		g->tab[0] = g->tab[1];
		g->size[0] = g->size[1];
		g->used[0] = g->used[1];
		g->tab[1] = NULL;
		g->size[1] = 0;
		g->used[1] = 0;
		g->migrate = 0;
	}
}

static void grow_start_resize(struct rmap_model *m, struct grow_rmap *g, uint64_t size)
{
	struct env_list *b = rmap_buckets_alloc(m, size);

	if (!b) {
		m->stats.resize_failed++;
		return;
	}
	g->tab[1] = b;
	g->size[1] = size;
	g->used[1] = 0;
	g->migrate = 0;
	m->stats.resizes++;
}

static void grow_to_hash(struct rmap_model *m, struct grow_rmap *g)
{
	struct env_list *b = rmap_buckets_alloc(m, m->p.buckets);

	if (!b) {
		m->stats.conv_failed++;
		return;
	}
	g->tab[0] = b;
	g->size[0] = m->p.buckets;
	g->used[0] = move_chain(m, g, &g->list, 0);
	m->stats.to_hash++;
}

static void grow_to_list(struct rmap_model *m, struct grow_rmap *g)
{
	uint64_t i;
	unsigned t;

	for (t = 0; t < 2; t++) {
		if (!g->tab[t])
			continue;
		/* Old buckets below `migrate` are empty, known without visiting them. */
		for (i = t == 0 && g->tab[1] ? g->migrate : 0; i < g->size[t]; i++) {
			struct env_list *head = &g->tab[t][i];

			work_add(&m->work, WU_BUCKET_VISIT, 1);
			while (!env_list_empty(head)) {
				struct env_list *pos = head->next;

				env_list_del(pos);
				env_list_add_head(pos, &g->list);
				work_add(&m->work, WU_ENTRY_MOVE, 1);
			}
		}
		rmap_buckets_free(m, g->tab[t], g->size[t]);
		g->tab[t] = NULL;
		g->size[t] = 0;
		g->used[t] = 0;
	}
	g->migrate = 0;
	m->stats.to_list++;
}

/*
 * Finds k: returns the entry and in *where the container (0 old/current table, 1 new
 * table, 2 list).  Counts one WU_BUCKET_VISIT per chain searched and the hops.
 */
static struct rmap_entry *grow_find(struct rmap_model *m, struct grow_rmap *g, struct rmap_key k,
				    unsigned *where)
{
	struct rmap_entry *e;
	uint64_t i;

	if (!g->tab[0]) {
		*where = 2;
		return rmap_chain_find(m, &g->list, k);
	}
	i = rmap_hash(&m->p, k, g->size[0]);
	if (!g->tab[1] || i >= g->migrate) {
		work_add(&m->work, WU_BUCKET_VISIT, 1);
		e = rmap_chain_find(m, &g->tab[0][i], k);
		if (e || !g->tab[1]) {
			*where = 0;
			return e;
		}
	}
	work_add(&m->work, WU_BUCKET_VISIT, 1);
	*where = 1;
	return rmap_chain_find(m, &g->tab[1][rmap_hash(&m->p, k, g->size[1])], k);
}

static bool grow_present_quiet(const struct rmap_model *m, const struct grow_rmap *g,
			       struct rmap_key k)
{
	uint64_t i;

	if (!g->tab[0])
		return rmap_chain_find_quiet(&g->list, k) != NULL;
	i = rmap_hash(&m->p, k, g->size[0]);
	if ((!g->tab[1] || i >= g->migrate) && rmap_chain_find_quiet(&g->tab[0][i], k))
		return true;
	return g->tab[1] &&
	       rmap_chain_find_quiet(&g->tab[1][rmap_hash(&m->p, k, g->size[1])], k) != NULL;
}

static int grow_add(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct grow_rmap *g = G(r);
	uint64_t before = rmap_op_begin(m, r);
	struct rmap_entry *e;
	unsigned t;

	if (m->check_dups && grow_present_quiet(m, g, k))
		return -EEXIST;
	e = rmap_entry_alloc(m, k);
	if (!e)
		return -ENOMEM;
	grow_step(m, g);
	if (!g->tab[0] && g->count + 1 >= m->p.heavy) {
		if (g->iterating)
			m->stats.conv_deferred++;
		else
			grow_to_hash(m, g);
	}
	if (!g->tab[0]) {
		env_list_add_head(&e->node, &g->list);
	} else {
		t = g->tab[1] ? 1 : 0;
		work_add(&m->work, WU_BUCKET_VISIT, 1);
		env_list_add_head(&e->node, &g->tab[t][rmap_hash(&m->p, k, g->size[t])]);
		g->used[t]++;
	}
	g->count++;
	m->live_entries++;
	if (g->tab[0] && !g->tab[1] && g->count > m->p.grow_load * g->size[0] &&
	    g->size[0] * 2 <= GROW_MAX_BUCKETS) {
		if (g->iterating)
			m->stats.conv_deferred++;
		else
			grow_start_resize(m, g, g->size[0] * 2);
	}
	rmap_op_end(m, r, before);
	return 0;
}

static int grow_remove(struct rmap_model *m, struct rmap *r, struct rmap_key k,
		       unsigned flags)
{
	struct grow_rmap *g = G(r);
	uint64_t before = rmap_op_begin(m, r);
	bool blocked = (flags & RMAP_NO_CONVERT) || g->iterating, deferred = false;
	struct rmap_entry *e;
	unsigned where;

	if (!blocked)
		grow_step(m, g);
	e = grow_find(m, g, k, &where);
	if (!e) {
		rmap_op_end(m, r, before);   /* the step may have finished a resize */
		return -ENOENT;
	}
	if (g->tab[0] && g->count <= m->p.light) {
		if (blocked) {
			m->stats.conv_deferred++;
			deferred = true;
		} else {
			grow_to_list(m, g);
			where = 2;
		}
	}
	env_list_del(&e->node);
	if (where != 2)
		g->used[where]--;
	rmap_entry_free(m, e);
	g->count--;
	m->live_entries--;
	/* A deferred conversion to a list supersedes a shrink: one deferral per operation. */
	if (!deferred && g->tab[0] && !g->tab[1] && g->size[0] / 2 >= m->p.buckets &&
	    g->count * 4 < m->p.grow_load * g->size[0]) {
		if (blocked)
			m->stats.conv_deferred++;
		else
			grow_start_resize(m, g, g->size[0] / 2);
	}
	rmap_op_end(m, r, before);
	return 0;
}

static int grow_contains(struct rmap_model *m, struct rmap *r, struct rmap_key k)
{
	struct grow_rmap *g = G(r);
	uint64_t before = rmap_op_begin(m, r);
	unsigned where;
	int found;

	grow_step(m, g);
	found = grow_find(m, g, k, &where) != NULL;
	rmap_op_end(m, r, before);   /* a step may have freed the old array */
	return found;
}

static uint64_t grow_count(const struct rmap *r)
{
	return CG(r)->count;
}

static int grow_iterate(struct rmap_model *m, struct rmap *r, rmap_iter_fn fn, void *arg)
{
	struct grow_rmap *g = G(r);
	int rc = 0;

	rmap_op_begin(m, r);
	g->iterating++;
	if (!g->tab[0]) {
		rc = rmap_chain_walk(m, &g->list, fn, arg);
	} else {
		unsigned t;
		uint64_t i;

		for (t = 0; t < 2 && !rc; t++) {
			if (!g->tab[t])
				break;
			for (i = t == 0 && g->tab[1] ? g->migrate : 0; i < g->size[t] && !rc; i++) {
				work_add(&m->work, WU_BUCKET_VISIT, 1);
				rc = rmap_chain_walk(m, &g->tab[t][i], fn, arg);
			}
		}
	}
	g->iterating--;
	return rc;
}

static void grow_free_chain(struct rmap_model *m, struct env_list *head)
{
	while (!env_list_empty(head)) {
		struct env_list *pos = head->next;

		env_list_del(pos);
		rmap_entry_free(m, env_container_of(pos, struct rmap_entry, node));
	}
}

static void grow_destroy(struct rmap_model *m, struct rmap *r)
{
	struct grow_rmap *g = G(r);
	uint64_t before = grow_bytes(m, r), i;
	unsigned t;

	grow_free_chain(m, &g->list);
	for (t = 0; t < 2; t++) {
		if (!g->tab[t])
			continue;
		for (i = 0; i < g->size[t]; i++)
			grow_free_chain(m, &g->tab[t][i]);
		rmap_buckets_free(m, g->tab[t], g->size[t]);
	}
	m->live_entries -= g->count;
	m->live_bytes -= before;
	env_free(g, sizeof(*g));
	work_add(&m->work, WU_FREE, 1);
}

static int chain_dup_or_in(const struct rmap_model *m, const struct env_list *head,
			   const struct env_list *other, uint64_t other_size)
{
	const struct env_list *pos;

	for (pos = head->next; pos != head; pos = pos->next) {
		const struct rmap_entry *e = env_container_of(pos, struct rmap_entry, node);
		struct rmap_key k = rmap_entry_key(e);

		if (rmap_chain_find_quiet(head, k) != e)
			return 1;
		if (other && rmap_chain_find_quiet(&other[rmap_hash(&m->p, k, other_size)], k))
			return 1;
	}
	return 0;
}

static int grow_check(const struct rmap_model *m, const struct rmap *r)
{
	const struct grow_rmap *g = CG(r);
	uint64_t n = 0, i;
	unsigned t;

	if (rmap_chain_check(&m->p, &g->list, 0, 0, g->count, &n))
		return -EINVAL;
	if (!g->tab[0]) {
		if (g->tab[1] || g->used[0] || g->used[1] || n != g->count ||
		    chain_dup_or_in(m, &g->list, NULL, 0))
			return -EINVAL;
		return 0;
	}
	if (n != 0 || g->size[0] < m->p.buckets || g->size[0] > GROW_MAX_BUCKETS)
		return -EINVAL;
	if (g->tab[1] && (g->migrate > g->size[0] ||
			  (g->size[1] != g->size[0] * 2 && g->size[1] != g->size[0] / 2)))
		return -EINVAL;
	if (!g->tab[1] && (g->size[1] || g->used[1] || g->migrate))
		return -EINVAL;
	for (t = 0; t < 2; t++) {
		if (!g->tab[t])
			break;
		n = 0;
		for (i = 0; i < g->size[t]; i++) {
			const struct env_list *head = &g->tab[t][i];

			if (rmap_chain_check(&m->p, head, g->size[t], i, g->count, &n))
				return -EINVAL;
			if (t == 0 && g->tab[1] && i < g->migrate && !env_list_empty(head))
				return -EINVAL;
			if (n > g->count ||
			    chain_dup_or_in(m, head, t == 0 ? g->tab[1] : NULL, g->size[1]))
				return -EINVAL;
		}
		if (n != g->used[t])
			return -EINVAL;
	}
	return g->used[0] + g->used[1] == g->count ? 0 : -EINVAL;
}

const struct rmap_policy rmap_hash_grow_policy = {
	.name = "hash-grow",
	.doc = "hash whose bucket array doubles/halves with the count, migrated grow_step buckets per operation",
	.create = grow_create,
	.destroy = grow_destroy,
	.add = grow_add,
	.remove = grow_remove,
	.contains = grow_contains,
	.count = grow_count,
	.iterate = grow_iterate,
	.bytes = grow_bytes,
	.check = grow_check,
};

/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/test_seed000.c — seed 000 reproduced end to end through the simulator: the
 * one-frame destroy with the list and the hash rmap under the seed-2012 profile, the scaling
 * of each rmap policy, and the relinquish policies' bound on non-preemptible stretches.
 *
 * These check ratios and bounds of simulated time (deterministic), never wall-clock time.
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "test.h"

/* Under ASan the 100k-entry list walk (5e9 hops) would take minutes: shrink n there. */
static uint64_t big_n(void) { return getenv("MEMSIM_SANITIZED") ? 30000 : 100000; }

struct result {
	double destroy_ns, longest_ns, list_hops, bucket_visits, tree_nodes, softlockups;
	double dom0_wait_max_ns, preemptions, conv_to_hash, conv_to_list;
	double dom0_softlockups, vcpu_held_max_ns, rmap_bytes_peak, dup_pages_peak;
	uint64_t digest;
};

static double metric(const struct run *r, const char *name)
{
	double v = 0;

	metrics_get(&r->mx, name, &v);
	return v;
}

/* `extra` is NULL or "k=v[,k=v]" (at most 4). */
static int one_frame(const char *model, const char *policy, const char *profile, uint64_t n,
		     const char *extra, struct result *out)
{
	struct run_opts o = { .model = model, .policy = policy, .scenario = "one-frame",
			      .profile = profile, .seed = 1 };
	char nset[64], err[1024];
	struct run r;
	int rc;

	snprintf(nset, sizeof(nset), "n=%llu", (unsigned long long)n);
	o.sets[o.nsets++] = nset;
	char extras[256], *save = NULL, *t;

	if (extra) {
		snprintf(extras, sizeof(extras), "%s", extra);
		for (t = strtok_r(extras, ",", &save); t && o.nsets < 5; t = strtok_r(NULL, ",", &save))
			o.sets[o.nsets++] = t;
	}
	rc = run_prepare(&r, &o, err, sizeof(err));
	if (rc == 0)
		rc = run_execute(&r, err, sizeof(err));
	if (rc) {
		printf("# run failed: %s\n", err);
		run_free(&r);
		return rc;
	}
	out->destroy_ns = metric(&r, "destroy_ns");
	out->longest_ns = metric(&r, "longest_stretch_ns");
	out->list_hops = metric(&r, "work_list_hop");
	out->bucket_visits = metric(&r, "work_bucket_visit");
	out->tree_nodes = metric(&r, "work_tree_node");
	out->softlockups = metric(&r, "softlockups");
	out->dom0_wait_max_ns = metric(&r, "dom0_wait_max_ns");
	out->preemptions = metric(&r, "preemptions");
	out->conv_to_hash = metric(&r, "conversions_to_hash");
	out->conv_to_list = metric(&r, "conversions_to_list");
	out->dom0_softlockups = metric(&r, "dom0_softlockups");
	out->vcpu_held_max_ns = metric(&r, "dom0_vcpu_held_max_ns");
	out->rmap_bytes_peak = metric(&r, "rmap_bytes_peak");
	out->dup_pages_peak = metric(&r, "rmap_dup_pages_peak");
	out->digest = r.event_digest;
	run_free(&r);
	return 0;
}

TEST(seed000_list_destroy_of_100k_gfns_takes_over_7_minutes_and_hash_under_2_seconds)
{
	struct result l, h;
	uint64_t n = big_n();

	/* list_fast: hop counts from an index instead of the walk; test_rmap proves them equal
	 * to the real walk operation by operation, and the next test walks for real. */
	CHECK(one_frame("rmap", "list", "seed-2012", n, "list_fast=1", &l) == 0);
	CHECK(one_frame("rmap", "hash", "seed-2012", n, NULL, &h) == 0);
	if (n == 100000) {
		CHECK(l.destroy_ns > 7 * 60 * 1e9);
		CHECK(h.destroy_ns < 2e9);
	}
	CHECK(l.destroy_ns / h.destroy_ns >= 100);
	/* the list walk is the real one: n(n+1)/2 hops */
	CHECK(l.list_hops == (double)n * (n + 1) / 2);
	CHECK(h.conv_to_hash == 1);
}

TEST(seed000_ratio_holds_with_a_flat_unit_profile_too)
{
	struct result l, h;

	CHECK(one_frame("rmap", "list", "unit", 20000, NULL, &l) == 0);   /* real walk */
	CHECK(one_frame("rmap", "hash", "unit", 20000, NULL, &h) == 0);
	CHECK(l.destroy_ns / h.destroy_ns >= 100);
}

/* Work of each policy as n doubles: list and the fixed 256-bucket hash are quadratic, the
 * tree n log n, hash-grow linear. */
TEST(seed000_rmap_policies_scale_as_their_structures_predict)
{
	struct result a, b;
	double ra, rb;

	CHECK(one_frame("rmap", "list", "unit", 8000, NULL, &a) == 0);
	CHECK(one_frame("rmap", "list", "unit", 16000, NULL, &b) == 0);
	ra = b.list_hops / a.list_hops;
	CHECK(ra > 3.9 && ra < 4.1);

	CHECK(one_frame("rmap", "hash", "unit", 64000, NULL, &a) == 0);
	CHECK(one_frame("rmap", "hash", "unit", 128000, NULL, &b) == 0);
	rb = b.list_hops / a.list_hops;
	CHECK(rb > 3.8 && rb < 4.2);

	CHECK(one_frame("rmap", "tree", "unit", 64000, NULL, &a) == 0);
	CHECK(one_frame("rmap", "tree", "unit", 128000, NULL, &b) == 0);
	ra = b.tree_nodes / a.tree_nodes;
	CHECK(ra > 2.0 && ra < 2.4);

	CHECK(one_frame("rmap", "hash-grow", "unit", 64000, NULL, &a) == 0);
	CHECK(one_frame("rmap", "hash-grow", "unit", 128000, NULL, &b) == 0);
	ra = b.destroy_ns / a.destroy_ns;
	CHECK(ra > 1.8 && ra < 2.3);
}

/*
 * The seed's 256 buckets hold ~n/256 entries each, so the hash destroy is still quadratic:
 * "< 2 s" at 100k becomes > 20 s at 400k (and ~166 s at 1M: docs/models/rmap.md, kept out
 * of the test for time), while the incrementally grown hash stays linear.
 */
TEST(seed000_fixed_hash_destroy_degrades_quadratically_while_hash_grow_stays_linear)
{
	struct result h, g;
	uint64_t n = getenv("MEMSIM_SANITIZED") ? 150000 : 400000;

	CHECK(one_frame("rmap", "hash", "seed-2012", n, NULL, &h) == 0);
	CHECK(one_frame("rmap", "hash-grow", "seed-2012", n, NULL, &g) == 0);
	if (n == 400000)
		CHECK(h.destroy_ns > 20e9);
	CHECK(h.destroy_ns / g.destroy_ns > 20);
}

TEST(seed000_preemptible_relinquish_bounds_the_longest_stretch)
{
	struct result mono, pre, hpre;
	uint64_t n = 50000;
	double batch_bound;

	CHECK(one_frame("relinquish", "monolithic", "seed-2012", n, "rmap=list,list_fast=1", &mono) == 0);
	CHECK(one_frame("relinquish", "preemptible", "seed-2012", n, "rmap=list,list_fast=1", &pre) == 0);
	/* monolithic: one stretch, the whole destroy */
	CHECK(mono.longest_ns == mono.destroy_ns);
	CHECK(mono.preemptions == 0);
	/*
	 * preemptible: a stretch holds at most one batch of 512 releases.  With the list rmap
	 * each release still walks what is left of the list, so the first batch is the longest:
	 * at most 512 * n hops at 85 ns (plus small per-entry costs) - bounded by the batch, not
	 * by the domain, yet seconds long: the hash rmap is what makes each batch cheap.
	 */
	batch_bound = 512.0 * n * 85 * 1.05 + 1e6;
	CHECK(pre.preemptions > 0);
	CHECK(pre.longest_ns <= batch_bound);
	CHECK(pre.longest_ns < mono.longest_ns / 40);
	CHECK(pre.dom0_wait_max_ns < mono.dom0_wait_max_ns / 40);
	CHECK(one_frame("relinquish", "preemptible", "seed-2012", n, "rmap=hash", &hpre) == 0);
	CHECK(hpre.longest_ns < pre.longest_ns / 100);
}

TEST(seed000_monolithic_100k_list_destroy_is_a_soft_lockup)
{
	struct result mono;

	if (getenv("MEMSIM_SANITIZED")) {
		CHECK(one_frame("relinquish", "monolithic", "seed-2012", 30000, "softlockup_ns=1s", &mono) == 0);
	} else {
		CHECK(one_frame("relinquish", "monolithic", "seed-2012", 100000, "list_fast=1", &mono) == 0);
	}
	CHECK(mono.softlockups == 1);
}

/*
 * Seed 000 after patch 1 alone: "Soft lockups start popping up in dom0".  The preemptible
 * relinquish leaves pCPU 0 to dom0's bursts between slices, but in 2012 the dom0 vCPU that
 * issued the domctl re-entered the hypercall at each continuation without scheduling a task:
 * held for the whole 7-minute destroy, its watchdog fires.  A preemptible privcmd (later
 * Linux) schedules at each continuation, so only a slice (4.3 s with the list) is a hold.
 * The hash destroy (1.7 s) is shorter than the watchdog either way.
 */
TEST(seed000_issuing_dom0_vcpu_soft_locks_up_unless_privcmd_is_preemptible)
{
	struct result held, pre, hheld, hpre;
	uint64_t n = big_n();   /* 30000 under ASan: a 38 s list destroy, still > 20 s */

	CHECK(one_frame("rmap", "list", "seed-2012", n,
			"relinquish=preemptible,list_fast=1,privcmd_preempt=0", &held) == 0);
	CHECK(one_frame("rmap", "list", "seed-2012", n,
			"relinquish=preemptible,list_fast=1,privcmd_preempt=1", &pre) == 0);
	CHECK(one_frame("rmap", "hash", "seed-2012", n, "relinquish=preemptible,privcmd_preempt=0",
			&hheld) == 0);
	CHECK(one_frame("rmap", "hash", "seed-2012", n, "relinquish=preemptible,privcmd_preempt=1",
			&hpre) == 0);
	printf("# list preemptible n=%llu: destroy %.1f s, vCPU held %.1f s (privcmd_preempt=0), "
	       "%.2f s (=1); dom0_softlockups %.0f / %.0f\n", (unsigned long long)n,
	       held.destroy_ns / 1e9, held.vcpu_held_max_ns / 1e9, pre.vcpu_held_max_ns / 1e9,
	       held.dom0_softlockups, pre.dom0_softlockups);
	/* The existing pCPU-0 figure says patch 1 is enough ... */
	CHECK(held.softlockups == 0);
	CHECK(held.preemptions > 0);
	/* ... the issuing vCPU says otherwise: held from the first slice to the last. */
	CHECK(held.dom0_softlockups >= 1);
	CHECK(held.vcpu_held_max_ns == held.destroy_ns);
	CHECK(held.destroy_ns > 20e9);
	CHECK(pre.dom0_softlockups == 0);
	CHECK(pre.vcpu_held_max_ns == pre.longest_ns);      /* a hold is one slice */
	CHECK(pre.destroy_ns == held.destroy_ns);           /* same work, same pCPU time */
	CHECK(hheld.dom0_softlockups == 0);
	CHECK(hpre.dom0_softlockups == 0);
	CHECK(hheld.vcpu_held_max_ns == hheld.destroy_ns);
}

TEST(seed000_issuing_vcpu_hold_is_measured_against_softlockup_ns)
{
	struct result a, b;

	/* The hash destroy of 100k gfns holds the vCPU ~1.7 s: a 1 s watchdog catches it, a
	 * 2 s one does not.  The figure is the hold, not the parameter. */
	CHECK(one_frame("rmap", "hash", "seed-2012", 100000, "softlockup_ns=1000000000", &a) == 0);
	CHECK(one_frame("rmap", "hash", "seed-2012", 100000, "softlockup_ns=2000000000", &b) == 0);
	CHECK(a.vcpu_held_max_ns > 1e9 && a.vcpu_held_max_ns < 2e9);
	CHECK(a.dom0_softlockups == 1);
	CHECK(b.dom0_softlockups == 0);
}

/*
 * The successor: Linux KSM's stable-node chain caps every copy of the page at
 * max_page_sharing (256) tuples, so an unshare searches at most 256 entries and the destroy
 * grows linearly: 4x the gfns, at most 4.5x the time (target of issue 11).  Its price is a
 * page per 256 tuples (rmap_dup_pages_peak), not rmap bytes.
 */
TEST(seed000_ksm_chain_destroy_grows_at_most_4_5x_from_250k_to_1m)
{
	struct result a, b;
	uint64_t n0 = getenv("MEMSIM_SANITIZED") ? 62500 : 250000;

	CHECK(one_frame("rmap", "ksm-chain", "seed-2012", n0, NULL, &a) == 0);
	CHECK(one_frame("rmap", "ksm-chain", "seed-2012", 4 * n0, NULL, &b) == 0);
	printf("# ksm-chain one-frame destroy: n=%llu %.3f s, n=%llu %.3f s, ratio %.3f; "
	       "rmap peak %.0f / %.0f bytes, dup pages %.0f / %.0f\n",
	       (unsigned long long)n0, a.destroy_ns / 1e9, (unsigned long long)(4 * n0),
	       b.destroy_ns / 1e9, b.destroy_ns / a.destroy_ns, a.rmap_bytes_peak,
	       b.rmap_bytes_peak, a.dup_pages_peak, b.dup_pages_peak);
	CHECK(b.destroy_ns / a.destroy_ns <= 4.5);
	CHECK(b.destroy_ns / a.destroy_ns >= 3.5);   /* linear, not better than linear */
	/* one dup page per 256 tuples beyond the frame's own */
	CHECK(b.dup_pages_peak == (double)((4 * n0 + 255) / 256 - 1));
	/* 11 s at 1M (the fixed hash: 170 s, docs/models/rmap.md): no watchdog fires */
	CHECK(b.dom0_softlockups == 0);
}

TEST(seed000_runs_are_deterministic)
{
	struct result a, b;

	CHECK(one_frame("rmap", "hash", "seed-2012", 5000, "writes=1000", &a) == 0);
	CHECK(one_frame("rmap", "hash", "seed-2012", 5000, "writes=1000", &b) == 0);
	CHECK_EQ_U64(a.digest, b.digest);
	CHECK(a.destroy_ns == b.destroy_ns);
}

int main(void) { return test_main(); }

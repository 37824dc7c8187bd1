/* SPDX-License-Identifier: MIT */
/*
 * sim/run.h — one simulation run, from options to a stored result.
 *
 * run_prepare() resolves everything that identifies a run (model, policy, parameters, trace
 * and its digest, seed, profile and its digest, memsim version) into a canonical JSON
 * configuration whose digest is the run id: the same inputs give the same id on any machine,
 * which is what lets sweeps skip points already stored and shards merge.
 * run_execute() then replays the trace through the model and fills the metrics.
 */
#ifndef MEMSIM_SIM_RUN_H
#define MEMSIM_SIM_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "driver.h"
#include "metrics.h"
#include "param.h"
#include "profile.h"

#define RUN_MAX_SETS 64

struct run_opts {
	const char *model;        /* default "rmap" */
	const char *policy;       /* default: the driver's first policy */
	const char *trace;        /* a trace file, or NULL */
	const char *scenario;     /* a generated scenario, or NULL (one of trace/scenario) */
	const char *profile;      /* default "seed-2012" */
	uint64_t seed;            /* default 1 */
	const char *sets[RUN_MAX_SETS];
	unsigned nsets;
	/* Most bytes the models may hold (0: no limit).  Not part of the configuration: it
	 * decides whether a run may go on, never what it computes.  See sim/memlimit.h. */
	uint64_t max_mem;
	const char *max_mem_how;  /* where max_mem comes from, for messages ("--max-mem") */
};

struct run {
	struct run_opts opts;
	const struct model_driver *drv;
	const char *policy;
	struct param_set params;
	struct cost_profile profile;
	const struct scenario *scen;
	uint64_t trace_digest;
	char trace_name[512];     /* path or scenario:NAME */
	char *config_json;        /* canonical configuration (malloc'd) */
	char run_id[17];
	/* results */
	uint64_t event_digest;
	int64_t wall_ns;
	struct metrics mx;
	/* the trace file as it was digested: the replay must read the same file, unchanged */
	uint64_t trace_stat[5];
};

/* Exit statuses shared by every command. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/*
 * The trace's name in a run's (and a sweep's) identity: "scenario:NAME", or a file's base
 * name (its digest identifies the contents), so ./a.mst, a.mst and /data/a.mst are one trace.
 */
const char *run_trace_id_name(const struct run *r);

/*
 * Resolves and validates; EXIT_OK, or EXIT_USAGE with a one-line message in err.  A run
 * whose scenario estimates more memory than o->max_mem is refused here, before anything
 * runs: EXIT_FAIL, or EXIT_USAGE when the estimate exceeds what any machine can address.
 */
int run_prepare(struct run *r, const struct run_opts *o, char *err, size_t errlen);
/*
 * The scenario's memory estimate for r's model with the parameter values ps, against
 * max_mem (0: no limit; `how` says where it comes from).  EXIT_OK, EXIT_FAIL (above the
 * limit) or EXIT_USAGE (above what any machine addresses), message in err.  O(1).
 */
int run_check_memory(const struct run *r, const struct param_set *ps, uint64_t max_mem,
		     const char *how, char *err, size_t errlen);
/* Replays; EXIT_OK, EXIT_USAGE (bad trace content) or EXIT_FAIL, message in err (also when
 * the trace file was modified or replaced since run_prepare() digested it).  A host
 * allocation failure or the max_mem cap reached during the run is EXIT_FAIL. */
int run_execute(struct run *r, char *err, size_t errlen);
void run_free(struct run *r);
/* {"run_id":..., "config":..., "metrics":..., "event_digest":...} on one line. */
void run_write_json(const struct run *r, FILE *out);

struct store;
/*
 * Stores an executed run in st, in one transaction, tagged with sweep_id (NULL: none).
 * 0 stored, 1 already stored with the same event digest (nothing written), -1 + message.
 */
int run_store(const struct run *r, struct store *st, const char *sweep_id,
	      char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * sim/cmds.h — the `memsim` sub-commands that sim/main.c dispatches to.
 *
 * Each takes the sub-command's own argv (argv[0] is its name, e.g. "db") and returns the
 * process exit status: 0, 1 for a failure, 2 for bad input or usage.
 */
#ifndef MEMSIM_SIM_CMDS_H
#define MEMSIM_SIM_CMDS_H

/* memsim db ls|show|export|merge|init ... (sim/cmd_db.c) */
int cmd_db(int argc, char **argv);

/* memsim run ... (sim/cmd_run.c) */
int cmd_run(int argc, char **argv);

/* memsim trace record ... (sim/cmd_record.c); argv[0] is "record" */
int cmd_trace_record(int argc, char **argv);

/* memsim trace info|validate|dump|gen ... (sim/cmd_trace.c); `record` goes to cmd_trace_record */
int cmd_trace(int argc, char **argv);

/* memsim sweep ... (sim/cmd_sweep.c) */
int cmd_sweep(int argc, char **argv);

/* memsim plot KIND ... (analysis/cmd_plot.c) */
int cmd_plot(int argc, char **argv);

/* memsim compare A B ... (sim/cmd_compare.c) */
int cmd_compare(int argc, char **argv);

/* memsim report ... (analysis/cmd_report.c) */
int cmd_report(int argc, char **argv);

/* memsim calibrate ... and memsim validate ... (sim/cmd_calibrate.c) */
int cmd_calibrate(int argc, char **argv);
int cmd_validate(int argc, char **argv);
/* sim/cmd_metrics.c: memsim metrics [MODEL] */
int cmd_metrics(int argc, char **argv);

#endif

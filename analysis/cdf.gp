# analysis/cdf.gp — empirical cumulative distributions, one per policy (memsim plot cdf): of a
# metric across runs, or of the samples of a series pooled over runs.
#
# Data, from analysis/plot-cdf-metric.sql or plot-cdf-series.sql: one block per policy, rows
# "value fraction" sorted by value (fraction = share of samples <= value).
load adir.'/common.gp'
set yrange [0:1.02]
set key inside right bottom
plot for [i=1:n] datafile index (i-1) using 1:2 with steps lt i lc rgb pc[i] title names[i]

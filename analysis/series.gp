# analysis/series.gp — a time series of one or more runs (memsim plot series), e.g. shadow
# page occupancy over time (the saw-tooth) or the scrub backlog.
#
# Data, from analysis/plot-series.sql: one block per run, rows "t value" (t in the unit of
# xlabel; each point is the maximum of its bucket, so peaks survive).
load adir.'/common.gp'
plot for [i=1:n] datafile index (i-1) using 1:2 with steps lt i title names[i]

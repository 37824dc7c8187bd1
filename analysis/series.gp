# analysis/series.gp — a time series of one or more runs (memsim plot series), e.g. shadow
# page occupancy over time (the saw-tooth) or the scrub backlog.
#
# Data, from analysis/plot-series.sql: one block per run, rows "t value" (t in the unit of
# xlabel; each point is the maximum of its bucket, so peaks survive).  A run with more
# points than 2 per pixel column is decimated by memsim to the minimum and the maximum of
# each column, in time order, so a saw-tooth keeps its teeth.  pc[i]: the colour of run i's
# policy; dts[i]: its dash type (2, 3, ... for further runs of one policy).
load adir.'/common.gp'
plot for [i=1:n] datafile index (i-1) using 1:2 with steps lt i lc rgb pc[i] dt dts[i] title names[i]

# analysis/pareto.gp — memory against latency (memsim plot pareto): every configuration
# (mean over its repetitions) coloured by policy, and the front of those that no other
# configuration beats on both axes, labelled with their parameters.
#
# Data, from analysis/plot-pareto.sql: blocks 1..n, one per policy, rows "x y"; block n+1,
# the front sorted by x, rows "x y label".
load adir.'/common.gp'
plot for [i=1:n] datafile index (i-1) using 1:2 with points lt i lc rgb pc[i] title names[i], \
     datafile index n using 1:2 with steps lc rgb '#444444' dt 2 lw 1.5 title 'Pareto front', \
     datafile index n using 1:2:3 with labels left offset 0.6,0.6 font ',8' tc rgb '#333333' notitle

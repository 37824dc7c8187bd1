# analysis/line.gp — a metric against a parameter, one line per policy (memsim plot line):
# the mean over the repetitions of each point, and its 95 % confidence interval (Student t,
# computed by memsim with GSL) as a shaded band.
#
# Data, written by memsim from analysis/plot-line.sql: one block per line (two blank lines
# between blocks), rows "x mean ci_low ci_high n".  With a categorical parameter, x is the
# index of the value and xl[1..nx] holds the tick labels.  Line i has the colour of its
# policy, lc_of[i], and with --by the dash and point type of its value, dt_of[i].
load adir.'/common.gp'
if (exists('nx') && nx > 0) {
    set xtics ()
    do for [i=1:nx] { set xtics add (xl[i] i-1) }
    set xrange [-0.5:nx-0.5]
}
set style fill transparent solid 0.18 noborder
plot for [i=1:n] datafile index (i-1) using 1:3:4 with filledcurves lt lc_of[i] lc rgb pc[i] notitle, \
     for [i=1:n] datafile index (i-1) using 1:2 with linespoints lt lc_of[i] lc rgb pc[i] dt dt_of[i] \
         pt (5 + 2 * (dt_of[i] - 1)) title names[i]

# analysis/validate.gp — memsim validate --plot: predicted against measured, per scenario.
#
# memsim validate writes a prelude that sets, before this file is loaded:
#   adir, termtype, outfile, width, height   as for every memsim plot (common.gp)
#   datafile   one row per scenario: "label" measured predicted_units predicted_sim
#              err_units_pct err_sim_pct
#   plottitle, ylabel (instructions, cycles or time (ns): what was measured)
#   nrows      number of scenarios;  tol  the error band drawn (percent, default 15)
#
# Top: the three figures side by side for every scenario (log scale: a list destroy and a
# hash destroy differ by orders of magnitude).  Bottom: the two errors in percent, with the
# +-tol band.
load adir.'/common.gp'
unset logscale
set multiplot title plottitle noenhanced font ',11'
unset title
set lmargin 12
set rmargin 4

set style data histograms
set style histogram clustered gap 1.5
set style fill solid 0.85 border rgb '#555555'
set boxwidth 0.9
set xtics nomirror rotate by 0 scale 0 noenhanced font ',8'
set key inside left top horizontal noenhanced box lc rgb '#cccccc'

set origin 0, 0.5
set size 1, 0.45
set tmargin 1
set bmargin 1
unset xtics
set logscale y 10
set format y '10^%T'
set ylabel ylabel noenhanced
set xlabel ''
set yrange [*:*]
plot datafile using 2 title 'measured' lc rgb '#7f7f7f', \
     ''       using 3 title 'predicted: module work x profile' lc rgb '#1f77b4', \
     ''       using 4 title 'predicted: simulator' lc rgb '#ff7f0e'

unset logscale y
set format y '%g'
set origin 0, 0
set size 1, 0.5
set tmargin 1
set bmargin 4
set xtics nomirror rotate by 0 scale 0 noenhanced font ',8'
set ylabel 'error (%)'
set key inside left bottom horizontal
set yrange [-(tol * 2 > 30 ? tol * 2 : 30):(tol * 2 > 30 ? tol * 2 : 30)]
set arrow 1 from graph 0, first tol to graph 1, first tol nohead lc rgb '#d62728' dt 2
set arrow 2 from graph 0, first -tol to graph 1, first -tol nohead lc rgb '#d62728' dt 2
set arrow 3 from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#555555'
plot datafile using 5:xtic(1) title 'module work x profile' lc rgb '#1f77b4', \
     ''       using 6 title sprintf('simulator   (dashed: +-%g %%)', tol) lc rgb '#ff7f0e'
unset multiplot

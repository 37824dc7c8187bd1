# analysis/heatmap.gp — a metric over two parameters (memsim plot heatmap), e.g. the rmap's
# heavy x light hysteresis pair: one panel per policy, the mean over repetitions in each cell.
#
# Data, from analysis/plot-heatmap.sql: one block per panel, rows "xi yi value" over the full
# grid (NaN where no run); xl[1..nx] and yl[1..ny] are the parameter values; zlabel names the
# metric and its unit; zmin/zmax span every panel so colours compare across them.
load adir.'/common.gp'
unset grid
set key off
set xtics () rotate by -45
set ytics ()
do for [i=1:nx] { set xtics add (xl[i] i-1) }
do for [i=1:ny] { set ytics add (yl[i] i-1) }
set xrange [-0.5:nx-0.5]
set yrange [-0.5:ny-0.5]
set cblabel zlabel noenhanced
set palette defined (0 '#ffffe5', 1 '#fec44f', 2 '#ec7014', 3 '#993404')
if (zmin < zmax) { set cbrange [zmin:zmax] }
if (logz) { set logscale cb }
set multiplot layout 1,n title plottitle noenhanced font ',11'
do for [i=1:n] {
    set title names[i] noenhanced tc rgb pc[i]
    # one colour scale for all panels: shown once, beside the last
    if (i < n) { unset colorbox } else { set colorbox }
    if (showlabels) {
        plot datafile index (i-1) using 1:2:3 with image, \
             '' index (i-1) using 1:2:(valid(3) ? sprintf('%.3g', $3) : '') with labels font ',8' tc rgb '#000000'
    } else {
        plot datafile index (i-1) using 1:2:3 with image
    }
}
unset multiplot

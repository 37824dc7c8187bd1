# analysis/common.gp — terminal, output and style shared by memsim's plot scripts.
#
# memsim plot writes a prelude that sets, before this file is loaded:
#   adir      this directory            termtype  'pngcairo' or 'svg'
#   outfile   the image to write        width, height  in pixels
#   datafile  the data memsim wrote     plottitle, xlabel, ylabel  (units in the labels)
#   n         number of data blocks     names[1..n]  the title of each block
#   logx, logy  1 for a logarithmic axis (memsim picks it when the values span decades)
if (termtype eq 'svg') {
    set terminal svg size width,height dynamic noenhanced font 'Helvetica,12' background rgb 'white'
} else {
    set terminal pngcairo size width,height noenhanced font 'Helvetica,10' background rgb 'white'
}
set output outfile
set encoding utf8
set border 3 lc rgb '#555555'
set tics nomirror
set grid back lc rgb '#e0e0e0' lw 1
set key outside right top noenhanced box lc rgb '#cccccc'

# Line styles; memsim gives each block its policy's colour, pc[i] (the same in every plot:
# fixed by the policy's place in its model, analysis/plot_common.c plot_policy_colour).
set linetype 1 lc rgb '#1f77b4' lw 2 pt 7 ps 0.9
set linetype 2 lc rgb '#d62728' lw 2 pt 5 ps 0.9
set linetype 3 lc rgb '#2ca02c' lw 2 pt 9 ps 1.0
set linetype 4 lc rgb '#ff7f0e' lw 2 pt 11 ps 1.0
set linetype 5 lc rgb '#9467bd' lw 2 pt 13 ps 1.0
set linetype 6 lc rgb '#8c564b' lw 2 pt 7 ps 0.9
set linetype 7 lc rgb '#e377c2' lw 2 pt 5 ps 0.9
set linetype 8 lc rgb '#7f7f7f' lw 2 pt 9 ps 1.0
set linetype 9 lc rgb '#bcbd22' lw 2 pt 11 ps 1.0
set linetype 10 lc rgb '#17becf' lw 2 pt 13 ps 1.0
set linetype cycle 10

set title plottitle noenhanced font ',11'
set xlabel xlabel noenhanced
set ylabel ylabel noenhanced
if (logx) { set logscale x 2 }
if (logy) { set logscale y 10 }

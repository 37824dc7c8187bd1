-- analysis/plot-series.sql — `memsim plot series`: the points of time series :series of the
-- selected runs (memsim keeps the first few runs and labels each by its parameters).
SELECT v.run_id, r.policy, v.t_ns, v.value
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN series v ON v.run_id = r.run_id AND v.name = :series
ORDER BY v.run_id, v.idx;

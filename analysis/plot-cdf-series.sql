-- analysis/plot-cdf-series.sql — `memsim plot cdf --series S`: the distribution of the samples
-- of a time series (e.g. per-operation latencies) pooled over the selected runs, per policy.
SELECT r.policy AS line, v.value
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN series v ON v.run_id = r.run_id AND v.name = :series
WHERE v.value IS NOT NULL
ORDER BY r.policy, v.value;

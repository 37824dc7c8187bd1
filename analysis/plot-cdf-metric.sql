-- analysis/plot-cdf-metric.sql — `memsim plot cdf --metric M`: the distribution of a metric
-- across the selected runs, one curve per policy.
SELECT r.policy AS line, m.value
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN metrics m ON m.run_id = r.run_id AND m.name = :metric
WHERE m.value IS NOT NULL
ORDER BY r.policy, m.value;

-- analysis/metrics-varying.sql — the metrics that take more than one value in the selection,
-- in the order the model reports them (default metric of a plot, report plots).
SELECT m.name, count(DISTINCT m.value) AS n
FROM temp.sel s
JOIN metrics m ON m.run_id = s.run_id
GROUP BY m.name
HAVING n > 1
ORDER BY min(m.ord);

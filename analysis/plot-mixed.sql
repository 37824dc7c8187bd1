-- analysis/plot-mixed.sql — a parameter other than :x and :by that takes several values among
-- the runs of one (policy, :by, :x) cell of a line plot: averaging over it would mix
-- configurations, so `memsim plot` warns and names it.
SELECT p.key, count(DISTINCT p.value) AS n
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN params px ON px.run_id = r.run_id AND px.key = :x
LEFT JOIN params pb ON pb.run_id = r.run_id AND pb.key = :by
JOIN params p ON p.run_id = r.run_id AND p.key <> :x AND p.key <> coalesce(:by, '')
GROUP BY r.model, r.trace, r.policy, pb.value, px.value, p.key
HAVING n > 1
ORDER BY min(p.ord)
LIMIT 1;

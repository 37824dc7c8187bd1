-- analysis/varying.sql — the parameters that take more than one value in the selection, in
-- the order of the model's parameter table (labels, default axes, report tables).
SELECT p.key, count(DISTINCT p.value) AS n
FROM temp.sel s
JOIN params p ON p.run_id = s.run_id
GROUP BY p.key
HAVING n > 1
ORDER BY min(p.ord);

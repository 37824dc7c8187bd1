-- analysis/plot-heatmap.sql — `memsim plot heatmap`: metric :metric of each selected run at
-- parameters :x and :y; memsim averages the repetitions of each cell, one panel per policy.
SELECT r.policy, px.value AS x, py.value AS y, m.value
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN params px ON px.run_id = r.run_id AND px.key = :x
JOIN params py ON py.run_id = r.run_id AND py.key = :y
JOIN metrics m ON m.run_id = r.run_id AND m.name = :metric
WHERE m.value IS NOT NULL
ORDER BY r.policy, CAST(px.value AS REAL), px.value, CAST(py.value AS REAL), py.value;

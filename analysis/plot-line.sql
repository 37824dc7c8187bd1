-- analysis/plot-line.sql — `memsim plot line`: one row per selected run.
--   line  the line the run belongs to: its policy, and the value of parameter :by if given
--   x     the value of parameter :x (text: memsim decides whether it is numeric)
--   y     the value of metric :metric
--   policy, byv  the two parts of line (colour by policy, dash by the :by value)
-- temp.sel holds the selected run ids (--sweep, --where); memsim computes the mean and the
-- 95 % confidence interval of y over the runs sharing (line, x) — the repetitions.
SELECT r.policy ||
         CASE WHEN :by IS NULL THEN '' ELSE ' ' || :by || '=' || coalesce(pb.value, '?') END
         AS line,
       px.value AS x,
       m.value AS y,
       r.policy AS policy,
       pb.value AS byv
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN params px ON px.run_id = r.run_id AND px.key = :x
JOIN metrics m ON m.run_id = r.run_id AND m.name = :metric
LEFT JOIN params pb ON pb.run_id = r.run_id AND pb.key = :by
WHERE m.value IS NOT NULL
ORDER BY r.policy, CAST(pb.value AS REAL), pb.value, CAST(px.value AS REAL), px.value;

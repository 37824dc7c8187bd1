-- analysis/plot-pareto.sql — `memsim plot pareto`: each configuration of the selection
-- (model, policy, trace and every parameter: the repetitions of a sweep point share one) with
-- the mean of metrics :x (e.g. memory) and :y (e.g. latency).  memsim draws them all and the
-- front of the configurations no other beats in both.
SELECT r.policy, min(r.run_id) AS example_run, avg(mx.value) AS x, avg(my.value) AS y,
       count(*) AS n
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN run_params_wide w ON w.run_id = r.run_id
JOIN metrics mx ON mx.run_id = r.run_id AND mx.name = :x
JOIN metrics my ON my.run_id = r.run_id AND my.name = :y
WHERE mx.value IS NOT NULL AND my.value IS NOT NULL
GROUP BY r.model, r.policy, r.trace, r.profile_digest, w.params
ORDER BY r.policy, x, y;

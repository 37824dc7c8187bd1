-- analysis/best.sql — `memsim report`: every run of the selection with its configuration key
-- (the repetitions of one sweep point share it) and the value of metric :metric; memsim
-- averages each configuration (GSL: mean, 95 % CI) and lists the best.
SELECT r.model || '|' || r.policy || '|' || r.trace || '|' || w.params AS config,
       r.run_id, r.policy, m.value
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id
JOIN run_params_wide w ON w.run_id = r.run_id
JOIN metrics m ON m.run_id = r.run_id AND m.name = :metric
WHERE m.value IS NOT NULL
ORDER BY config, r.run_id;

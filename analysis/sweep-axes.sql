-- analysis/sweep-axes.sql — the list axes of sweep :sweep in the order they were given
-- (derived axes and the policy axis left out): the default x and y of its plots.
SELECT json_extract(a.value, '$.name') AS name
FROM sweeps w, json_each(w.spec, '$.axes') a
WHERE w.sweep_id = :sweep
  AND json_extract(a.value, '$.values') IS NOT NULL
  AND json_extract(a.value, '$.name') <> 'policy'
ORDER BY a.key;

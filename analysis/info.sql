-- analysis/info.sql — what a plot title names: models, traces, profiles, and counts.
SELECT group_concat(DISTINCT r.model), group_concat(DISTINCT r.trace),
       group_concat(DISTINCT r.profile_name), count(*), count(DISTINCT r.seed)
FROM temp.sel s
JOIN runs r ON r.run_id = s.run_id;

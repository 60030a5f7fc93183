-- Schema version 3: per-stage figures for the closing-plan generator (sql/stage_stats.sql),
-- derived and rebuilt at every write that changes what they rest on. Which as-of, revisit
-- rule, comparable dimension and stage list they were built for is kept in meta
-- ('stage_stats_key'); a reader asking for anything else computes them live.
create table stage_stats (
    grp         varchar,            -- a value of the comparable dimension (null: missing)
    all_deals   boolean not null,   -- true: every deal (grp is then null)
    stage       varchar not null,
    stage_order integer not null,
    deals       bigint not null,    -- deals with a completed time in the stage
    visits      bigint not null,    -- their completed visits
    mean_days   double,
    p25_days    double,
    median_days double,
    p75_days    double,
    p90_days    double,
    won_passed  bigint not null,    -- won deals (as of the key's as-of) that passed through it
    won_deals   bigint not null     -- won deals in the group
);

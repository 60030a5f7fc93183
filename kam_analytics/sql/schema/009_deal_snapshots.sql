-- Schema version 9: every deals export seen as a snapshot, per deal and snapshot date (docs/data.md
-- "Deal history", successive snapshots). The snapshot rows of deal_history are rebuilt from these
-- observations for every deal a batch observes, so that any order of the files and any split
-- into batches gives the same history; a deal's current fields come from its latest-dated
-- snapshot, whatever the order of import.
create table deal_snapshots (
    deal_id           varchar not null,
    snapshot_at       timestamp not null,
    stage             varchar,
    amount            double,
    close_date        date,
    forecast_category varchar,
    created_date      date,
    closed_date       date,
    source            varchar,           -- the file, and where its date came from
    batch_id          bigint not null
);

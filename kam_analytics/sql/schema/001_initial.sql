-- Schema version 1: every canonical table of docs/data.md "Canonical tables".
-- Every data row carries the batch_id of the import or app action that wrote it.
-- Migrations are numbered files in this folder, applied in order by db.migrate().

create table import_batches (
    batch_id      bigint primary key,
    action        varchar not null,          -- import | demo | settings | undo | ...
    description   varchar,
    started_at    timestamp not null,
    finished_at   timestamp,
    status        varchar not null,          -- loaded | rejected | undone
    rows_loaded   bigint not null default 0,
    rows_rejected bigint not null default 0,
    undone_by     bigint
);

create table import_files (
    batch_id      bigint not null,
    file_name     varchar not null,
    sha256        varchar,
    sheet         varchar,
    target_table  varchar,
    rows_loaded   bigint not null default 0,
    rows_rejected bigint not null default 0
);

create table import_rejects (
    batch_id    bigint not null,
    file_name   varchar,
    sheet       varchar,
    row_number  bigint,
    column_name varchar,
    value       varchar,
    reason      varchar not null
);

-- Prior images of rows a batch overwrote or deleted, so that undo restores them exactly.
create table undo_log (
    batch_id   bigint not null,
    table_name varchar not null,
    row_json   json not null
);

create table settings (
    key      varchar primary key,
    value    json not null,
    batch_id bigint
);

create table meta (
    key   varchar primary key,
    value varchar not null
);

create table accounts (
    account_id            varchar primary key,
    account_name          varchar not null,
    industry              varchar,
    segment               varchar,
    region                varchar,
    annual_revenue        double,
    revenue_potential     double,
    relationship_strength integer,
    account_owner         varchar,
    tier                  varchar,
    batch_id              bigint not null
);

create table account_plans (
    account_id             varchar not null,
    plan_date              date not null,
    created_by             varchar,
    version                varchar,
    objective              varchar,
    annual_target          double,
    next_review_date       date,
    customer_profile       varchar,
    situation_analysis     varchar,
    strategies             varchar,
    resource_allocation    varchar,
    performance_monitoring varchar,
    batch_id               bigint not null,
    primary key (account_id, plan_date)
);

create table account_goals (
    account_id   varchar not null,
    goal         varchar not null,
    metric       varchar,
    target_value double,
    due_date     date,
    status       varchar,
    batch_id     bigint not null,
    primary key (account_id, goal)
);

create table stakeholders (
    account_id              varchar not null,
    name                    varchar not null,
    title                   varchar,
    role                    varchar,
    reports_to              varchar,
    influence               integer,
    sentiment               varchar,
    preferred_communication varchar,
    batch_id                bigint not null,
    primary key (account_id, name)
);

create table account_actions (
    account_id            varchar not null,
    action_step           varchar not null,
    owner                 varchar,
    description           varchar,
    status                varchar,
    external_stakeholders varchar,
    due_date              date,
    completed_date        date,
    notes                 varchar,
    batch_id              bigint not null,
    primary key (account_id, action_step)
);

create table deals (
    deal_id           varchar primary key,
    account_id        varchar,
    deal_name         varchar,
    owner             varchar,
    segment           varchar,
    region            varchar,
    source            varchar,
    product           varchar,
    amount            double,
    currency          varchar,
    created_date      date,
    close_date        date,
    stage             varchar,
    forecast_category varchar,
    status            varchar,       -- open | won | lost, derived from the stage by settings
    closed_date       date,
    loss_reason       varchar,
    competitor        varchar,
    champion          varchar,
    economic_buyer    varchar,
    batch_id          bigint not null
);

-- One row per change of a deal, holding the deal's state after the change.
-- seq is the import order: rows sharing a changed_at keep it, the last one wins.
create table deal_history (
    deal_id           varchar not null,
    changed_at        timestamp not null,
    stage             varchar,
    amount            double,
    close_date        date,
    forecast_category varchar,
    probability       double,
    seq               bigint not null,
    batch_id          bigint not null
);

create table plans (
    deal_id           varchar not null,
    plan_type         varchar not null,  -- closing | mutual
    created_date      date,
    converted_date    date,
    seller_owner      varchar,
    buyer_owner       varchar,
    problem           varchar,
    proposed_solution varchar,
    target_date       date,
    seller_signed_date date,
    buyer_signed_date  date,
    batch_id          bigint not null,
    primary key (deal_id, plan_type)
);

create table plan_steps (
    deal_id           varchar not null,
    plan_type         varchar not null,
    step_no           integer not null,
    step              varchar not null,
    stage             varchar,
    owner             varchar,
    side              varchar,           -- buyer | seller | joint
    original_due_date date,
    due_date          date,
    completed_date    date,
    status            varchar,
    batch_id          bigint not null,
    primary key (deal_id, plan_type, step_no)
);

create table owners (
    owner    varchar primary key,
    manager  varchar,
    team     varchar,
    region   varchar,
    batch_id bigint not null
);

create table products (
    product        varchar primary key,
    product_family varchar,
    list_price     double,
    batch_id       bigint not null
);

create table forecast_calls (
    owner        varchar not null,
    period       varchar not null,
    submitted_at timestamp not null,
    "commit"     double,
    best_case    double,
    batch_id     bigint not null,
    primary key (owner, period, submitted_at)
);

create table quotas (
    owner    varchar not null,
    period   varchar not null,
    amount   double not null,
    batch_id bigint not null,
    primary key (owner, period)
);

create table fx_rates (
    currency   varchar not null,
    rate       double not null,
    valid_from date not null,
    batch_id   bigint not null,
    primary key (currency, valid_from)
);

-- Derived: one row per stage visit (docs/metrics.md "Time in stage"), rebuilt in the same
-- transaction as every write to deals or deal_history. See sql/stage_visits.sql.
create table stage_visits (
    deal_id    varchar not null,
    visit_no   integer not null,
    stage      varchar not null,
    started_at timestamp not null,
    ended_at   timestamp,          -- null: the visit is open (no later row with another stage)
    has_history boolean not null   -- false: a deal with no history, one visit from created_date
);

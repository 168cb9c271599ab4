"""Schema history: named migration functions applied in order, each in a transaction with its record.

A migration, once released, is never edited: change the schema by appending a new one.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "fieldatlas"
migrations = Migrations(MIGRATION_SET)

# Every table a user edits carries these columns: a global uid for sync, audit times, and a
# tombstone (deleted_at) because sync must learn about deletes, so rows are never removed.
SYNCED = """
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT"""


def run_sql(db: sqlite_utils.Database, script: str) -> None:
    """Run ';'-separated statements inside the caller's transaction (executescript would commit)."""
    for statement in script.split(";\n"):
        if statement.strip():
            db.conn.execute(statement)


@migrations()
def m0001_initial(db: sqlite_utils.Database) -> None:
    run_sql(db, f"""
CREATE TABLE reps ({SYNCED},
    name TEXT NOT NULL,
    email TEXT,
    role TEXT NOT NULL DEFAULT 'rep' CHECK (role IN ('rep', 'manager', 'finance', 'admin')),
    manager_id INTEGER REFERENCES reps(id),
    home_city TEXT, home_state TEXT, home_postal_code TEXT,
    home_lat REAL, home_lon REAL,
    capacity_hours_week REAL NOT NULL DEFAULT 40,
    working_weeks INTEGER NOT NULL DEFAULT 46,
    work_start TEXT NOT NULL DEFAULT '08:00',
    work_end TEXT NOT NULL DEFAULT '17:00',
    time_zone TEXT NOT NULL DEFAULT 'America/Chicago',
    color TEXT,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE territories ({SYNCED},
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('geographic', 'industry', 'customer_size', 'customer_type',
        'product', 'channel', 'named', 'dynamic')),
    level TEXT NOT NULL DEFAULT 'territory' CHECK (level IN ('region', 'district', 'territory')),
    parent_id INTEGER REFERENCES territories(id),
    rule TEXT NOT NULL DEFAULT '{{}}',
    precedence INTEGER NOT NULL DEFAULT 0,
    owner_id INTEGER REFERENCES reps(id),
    goal_cents INTEGER,
    color TEXT
);
CREATE TABLE territory_members ({SYNCED},
    territory_id INTEGER NOT NULL REFERENCES territories(id),
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    role TEXT NOT NULL DEFAULT 'overlay' CHECK (role IN ('primary', 'overlay'))
);
CREATE TABLE accounts ({SYNCED},
    external_id TEXT,
    source TEXT,
    name TEXT NOT NULL,
    street TEXT, city TEXT, state TEXT, postal_code TEXT, country TEXT DEFAULT 'US',
    phone TEXT, website TEXT,
    lat REAL CHECK (lat IS NULL OR lat BETWEEN -90 AND 90),
    lon REAL CHECK (lon IS NULL OR lon BETWEEN -180 AND 180),
    geocode_precision TEXT CHECK (geocode_precision IS NULL OR
        geocode_precision IN ('rooftop', 'street', 'zip', 'city', 'manual')),
    geocoded_at TEXT,
    industry TEXT,
    employees INTEGER CHECK (employees IS NULL OR employees >= 0),
    annual_revenue_cents INTEGER CHECK (annual_revenue_cents IS NULL OR annual_revenue_cents >= 0),
    segment TEXT,
    customer_type TEXT,
    products TEXT NOT NULL DEFAULT '[]',
    channel TEXT,
    tier TEXT CHECK (tier IS NULL OR tier IN ('A', 'B', 'C')),
    potential_cents INTEGER CHECK (potential_cents IS NULL OR potential_cents >= 0),
    visit_frequency TEXT NOT NULL DEFAULT 'monthly'
        CHECK (visit_frequency IN ('weekly', 'biweekly', 'monthly', 'quarterly', 'none')),
    visit_minutes INTEGER NOT NULL DEFAULT 45 CHECK (visit_minutes BETWEEN 0 AND 1440),
    opening_hours TEXT,
    allowed_weekdays TEXT,
    owner_id INTEGER REFERENCES reps(id),
    territory_id INTEGER REFERENCES territories(id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'prospect', 'inactive')),
    locked INTEGER NOT NULL DEFAULT 0,
    last_visit_at TEXT,
    notes TEXT
);
CREATE UNIQUE INDEX accounts_external_id ON accounts(external_id) WHERE external_id IS NOT NULL;
CREATE INDEX accounts_owner ON accounts(owner_id);
CREATE INDEX accounts_territory ON accounts(territory_id);
CREATE INDEX accounts_name ON accounts(name COLLATE NOCASE);
CREATE INDEX accounts_postal_code ON accounts(postal_code);
CREATE TABLE assignments ({SYNCED},
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    rep_id INTEGER REFERENCES reps(id),
    territory_id INTEGER REFERENCES territories(id),
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    reason TEXT,
    scenario_id INTEGER REFERENCES scenarios(id)
);
CREATE INDEX assignments_account ON assignments(account_id, valid_from);
CREATE TABLE routes ({SYNCED},
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    day TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'accepted', 'done')),
    start_lat REAL, start_lon REAL, end_lat REAL, end_lon REAL,
    distance_m INTEGER, drive_minutes INTEGER,
    rotation_plan_id INTEGER REFERENCES rotation_plans(id)
);
CREATE TABLE route_stops ({SYNCED},
    route_id INTEGER NOT NULL REFERENCES routes(id),
    seq INTEGER NOT NULL,
    account_id INTEGER REFERENCES accounts(id),
    arrive_at TEXT, depart_at TEXT,
    locked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX route_stops_route ON route_stops(route_id, seq);
CREATE TABLE visits ({SYNCED},
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    route_id INTEGER REFERENCES routes(id),
    planned_start TEXT,
    planned_minutes INTEGER,
    time_zone TEXT,
    status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'done', 'missed', 'cancelled')),
    check_in_at TEXT, check_out_at TEXT,
    outcome TEXT,
    notes TEXT
);
CREATE INDEX visits_account ON visits(account_id);
CREATE INDEX visits_rep_start ON visits(rep_id, planned_start);
CREATE TABLE rotation_plans ({SYNCED},
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    start_date TEXT NOT NULL,
    weeks INTEGER NOT NULL CHECK (weeks BETWEEN 1 AND 13),
    params TEXT NOT NULL DEFAULT '{{}}',
    status TEXT NOT NULL DEFAULT 'draft'
);
CREATE TABLE rotation_slots ({SYNCED},
    plan_id INTEGER NOT NULL REFERENCES rotation_plans(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    day TEXT NOT NULL,
    seq INTEGER
);
CREATE TABLE time_off ({SYNCED},
    rep_id INTEGER REFERENCES reps(id),
    day TEXT NOT NULL,
    reason TEXT
);
CREATE TABLE expense_reports ({SYNCED},
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    period TEXT NOT NULL,
    title TEXT,
    state TEXT NOT NULL DEFAULT 'draft'
        CHECK (state IN ('draft', 'submitted', 'approved', 'rejected', 'exported')),
    submitted_at TEXT, decided_at TEXT,
    decided_by INTEGER REFERENCES reps(id),
    decision_note TEXT,
    exported_at TEXT
);
CREATE TABLE rate_tables ({SYNCED},
    kind TEXT NOT NULL DEFAULT 'mileage',
    effective_from TEXT NOT NULL,
    effective_to TEXT,
    cents_per_mile_x10 INTEGER NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    source TEXT
);
CREATE TABLE trips ({SYNCED},
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    day TEXT NOT NULL,
    purpose TEXT,
    start_place TEXT, end_place TEXT,
    start_odometer REAL, end_odometer REAL,
    distance_m INTEGER NOT NULL CHECK (distance_m >= 0),
    route_id INTEGER REFERENCES routes(id),
    account_id INTEGER REFERENCES accounts(id),
    vehicle TEXT,
    business INTEGER NOT NULL DEFAULT 1,
    report_id INTEGER REFERENCES expense_reports(id)
);
CREATE INDEX trips_rep_day ON trips(rep_id, day);
CREATE TABLE attachments ({SYNCED},
    sha256 TEXT NOT NULL UNIQUE,
    filename TEXT,
    mime TEXT,
    size INTEGER
);
CREATE TABLE expenses ({SYNCED},
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    day TEXT NOT NULL,
    category TEXT NOT NULL,
    merchant TEXT,
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    business_purpose TEXT,
    attendees TEXT,
    place TEXT,
    account_id INTEGER REFERENCES accounts(id),
    receipt_id INTEGER REFERENCES attachments(id),
    report_id INTEGER REFERENCES expense_reports(id)
);
CREATE INDEX expenses_rep_day ON expenses(rep_id, day);
CREATE TABLE lead_queues ({SYNCED},
    name TEXT NOT NULL,
    rule TEXT NOT NULL DEFAULT '{{}}',
    strategy TEXT NOT NULL DEFAULT 'round_robin'
);
CREATE TABLE queue_members ({SYNCED},
    queue_id INTEGER NOT NULL REFERENCES lead_queues(id),
    rep_id INTEGER NOT NULL REFERENCES reps(id),
    weight INTEGER NOT NULL DEFAULT 1,
    position INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE leads ({SYNCED},
    external_id TEXT,
    name TEXT NOT NULL,
    company TEXT, email TEXT, phone TEXT,
    city TEXT, state TEXT, postal_code TEXT,
    lat REAL, lon REAL,
    source TEXT,
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'assigned', 'converted', 'rejected')),
    queue_id INTEGER REFERENCES lead_queues(id),
    rep_id INTEGER REFERENCES reps(id),
    assigned_at TEXT,
    account_id INTEGER REFERENCES accounts(id)
);
CREATE TABLE routing_decisions ({SYNCED},
    lead_id INTEGER NOT NULL REFERENCES leads(id),
    queue_id INTEGER REFERENCES lead_queues(id),
    rep_id INTEGER REFERENCES reps(id),
    reason TEXT
);
CREATE TABLE goals ({SYNCED},
    rep_id INTEGER REFERENCES reps(id),
    territory_id INTEGER REFERENCES territories(id),
    period TEXT NOT NULL,
    metric TEXT NOT NULL,
    target INTEGER NOT NULL
);
CREATE TABLE scenarios ({SYNCED},
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'balance',
    params TEXT NOT NULL DEFAULT '{{}}',
    summary TEXT NOT NULL DEFAULT '{{}}',
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'applied', 'discarded')),
    applied_at TEXT
);
CREATE TABLE scenario_moves ({SYNCED},
    scenario_id INTEGER NOT NULL REFERENCES scenarios(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    from_rep_id INTEGER REFERENCES reps(id),
    to_rep_id INTEGER REFERENCES reps(id),
    from_territory_id INTEGER REFERENCES territories(id),
    to_territory_id INTEGER REFERENCES territories(id)
);
CREATE INDEX scenario_moves_scenario ON scenario_moves(scenario_id);
CREATE TABLE import_mappings ({SYNCED},
    name TEXT NOT NULL,
    source TEXT,
    mapping TEXT NOT NULL
);
CREATE TABLE geocode_cache (
    query TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    lat REAL, lon REAL,
    precision TEXT,
    raw TEXT,
    fetched_at TEXT NOT NULL
);
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    table_name TEXT NOT NULL,
    row_id INTEGER NOT NULL,
    row_uid TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    column_name TEXT,
    value TEXT,
    hlc TEXT NOT NULL,
    node_id TEXT NOT NULL,
    pushed_at TEXT
);
CREATE INDEX change_log_hlc ON change_log(hlc);
CREATE INDEX change_log_unpushed ON change_log(seq) WHERE pushed_at IS NULL;
CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY,
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    column_name TEXT,
    local_value TEXT, remote_value TEXT,
    local_hlc TEXT, remote_hlc TEXT,
    resolved_at TEXT,
    created_at TEXT NOT NULL
)
""")


@migrations()
def m0002_accounts_list_indexes(db: sqlite_utils.Database) -> None:
    # The Accounts view lists live accounts by name; a covering partial index makes the first
    # screen of 100,000 accounts an index walk instead of a sort.
    run_sql(db, """
CREATE INDEX accounts_live_by_name ON accounts(name COLLATE NOCASE, id) WHERE deleted_at IS NULL;
CREATE INDEX accounts_state ON accounts(state);
CREATE INDEX accounts_unlocated ON accounts(id) WHERE lat IS NULL AND deleted_at IS NULL
""")



@migrations()
def m0003_drop_redundant_name_index(db: sqlite_utils.Database) -> None:
    # accounts_live_by_name serves every by-name lookup and listing; the older full index only cost
    # time on each insert (about 5 % of a 100,000-row import).
    run_sql(db, "DROP INDEX IF EXISTS accounts_name")


@migrations()
def m0005_rotation_visits(db: sqlite_utils.Database) -> None:
    # Applying a call rotation books visits that belong to it, so applying it again (after an edit, a missed
    # visit or time off) can replace only that plan's future planned visits and leave every other visit alone.
    run_sql(db, """
ALTER TABLE visits ADD COLUMN rotation_plan_id INTEGER REFERENCES rotation_plans(id);
CREATE INDEX visits_rotation_plan ON visits(rotation_plan_id, planned_start) WHERE rotation_plan_id IS NOT NULL
""")


@migrations()
def m0006_expenses(db: sqlite_utils.Database) -> None:
    # Mileage and expenses (#10). Trips keep how their distance was found and what kind of trip it
    # was (commute and personal trips are logged but not paid); the rate and amount are frozen when
    # the report is submitted, so an approved report never changes under finance. Rate rows name
    # their scheme (IRS, CRA, HMRC), unit and tier (CRA and HMRC pay less after a yearly distance
    # counted from the tax year's start). The audit trail is append-only: triggers refuse updates
    # and deletes, so not even a logged tombstone can rewrite it.
    run_sql(db, f"""
ALTER TABLE trips ADD COLUMN kind TEXT NOT NULL DEFAULT 'business'
    CHECK (kind IN ('business', 'commute', 'personal'));
ALTER TABLE trips ADD COLUMN distance_source TEXT NOT NULL DEFAULT 'typed'
    CHECK (distance_source IN ('route', 'visits', 'odometer', 'typed'));
ALTER TABLE trips ADD COLUMN entered_unit TEXT NOT NULL DEFAULT 'mi' CHECK (entered_unit IN ('mi', 'km'));
ALTER TABLE trips ADD COLUMN rate_scheme TEXT NOT NULL DEFAULT 'IRS';
ALTER TABLE trips ADD COLUMN rate_x10 INTEGER;
ALTER TABLE trips ADD COLUMN amount_cents INTEGER;
ALTER TABLE trips ADD COLUMN currency TEXT;
ALTER TABLE trips ADD COLUMN visit_id INTEGER REFERENCES visits(id);
CREATE INDEX trips_report ON trips(report_id);
ALTER TABLE expenses ADD COLUMN notes TEXT;
ALTER TABLE expenses ADD COLUMN per_diem INTEGER NOT NULL DEFAULT 0;
ALTER TABLE expenses ADD COLUMN duplicate_of INTEGER REFERENCES expenses(id);
CREATE INDEX expenses_report ON expenses(report_id);
CREATE INDEX expenses_receipt ON expenses(receipt_id);
ALTER TABLE rate_tables ADD COLUMN scheme TEXT NOT NULL DEFAULT 'IRS';
ALTER TABLE rate_tables ADD COLUMN unit TEXT NOT NULL DEFAULT 'mi' CHECK (unit IN ('mi', 'km'));
ALTER TABLE rate_tables ADD COLUMN tier_limit INTEGER;
ALTER TABLE rate_tables ADD COLUMN above_x10 INTEGER;
ALTER TABLE rate_tables ADD COLUMN year_start TEXT NOT NULL DEFAULT '01-01';
ALTER TABLE reps ADD COLUMN mileage_scheme TEXT NOT NULL DEFAULT 'IRS';
CREATE INDEX expense_reports_rep_period ON expense_reports(rep_id, period);
CREATE TABLE per_diem_rates ({SYNCED},
    place TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_to TEXT,
    meals_cents INTEGER NOT NULL CHECK (meals_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    source TEXT
);
CREATE TABLE expense_audit ({SYNCED},
    report_id INTEGER REFERENCES expense_reports(id),
    actor_id INTEGER REFERENCES reps(id),
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    item_table TEXT,
    item_id INTEGER,
    detail TEXT
);
CREATE INDEX expense_audit_report ON expense_audit(report_id, id);
CREATE TRIGGER expense_audit_no_update BEFORE UPDATE ON expense_audit
BEGIN SELECT RAISE(ABORT, 'the expense audit trail is append-only'); END;
CREATE TRIGGER expense_audit_no_delete BEFORE DELETE ON expense_audit
BEGIN SELECT RAISE(ABORT, 'the expense audit trail is append-only'); END
""")


@migrations()
def m0007_sync(db: sqlite_utils.Database) -> None:
    # Sync bookkeeping on the laptop. sync_versions holds, per synced row, the hybrid-clock reading of
    # the newest value of each column the server has confirmed (what a remote edit must beat).
    # sync_parked keeps pulled rows that could not be applied yet (a parent row not here), so nothing
    # pulled is dropped. The first schema's conflicts table was never written; it is remade with the
    # winning and the losing value side by side, the server's id (conflicts come from the server, once),
    # and why the value lost.
    run_sql(db, """
CREATE TABLE sync_versions (
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    versions TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (table_name, row_uid)
) WITHOUT ROWID;
CREATE TABLE sync_parked (
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL,
    parked_at TEXT NOT NULL,
    PRIMARY KEY (table_name, row_uid)
);
DROP TABLE conflicts;
CREATE TABLE conflicts (
    id INTEGER PRIMARY KEY,
    server_id INTEGER UNIQUE,
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    column_name TEXT NOT NULL,
    kept_value TEXT, kept_hlc TEXT,
    lost_value TEXT, lost_hlc TEXT,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    restored_at TEXT
);
CREATE INDEX conflicts_open ON conflicts(id) WHERE restored_at IS NULL
""")


@migrations()
def m0008_leads(db: sqlite_utils.Database) -> None:
    # Leads carry what scoring, matching and skills routing read; the contact's name stays in
    # leads.name. Queues gain a mode, an order, daily caps and an "only in working hours" switch;
    # a member's baseline is where a rep joining late starts, so nobody's earlier leads move.
    # Reps gain skills (industries or products) and a book capacity; accounts gain the fit and
    # timing scores and pool dates dynamic books use. Closed deals feed goal results.
    run_sql(db, f"""
ALTER TABLE leads ADD COLUMN industry TEXT;
ALTER TABLE leads ADD COLUMN employees INTEGER;
ALTER TABLE leads ADD COLUMN product TEXT;
ALTER TABLE leads ADD COLUMN score INTEGER;
ALTER TABLE leads ADD COLUMN grade TEXT;
ALTER TABLE leads ADD COLUMN received_at TEXT;
ALTER TABLE leads ADD COLUMN match_reason TEXT;
CREATE INDEX leads_status ON leads(status, id);
ALTER TABLE lead_queues ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lead_queues ADD COLUMN hours_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lead_queues ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE queue_members ADD COLUMN daily_cap INTEGER;
ALTER TABLE queue_members ADD COLUMN baseline INTEGER NOT NULL DEFAULT 0;
ALTER TABLE routing_decisions ADD COLUMN kind TEXT;
ALTER TABLE routing_decisions ADD COLUMN day TEXT;
CREATE INDEX routing_decisions_queue ON routing_decisions(queue_id, rep_id, kind);
CREATE INDEX routing_decisions_lead ON routing_decisions(lead_id);
ALTER TABLE reps ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reps ADD COLUMN book_min INTEGER;
ALTER TABLE reps ADD COLUMN book_max INTEGER;
ALTER TABLE accounts ADD COLUMN fit_score INTEGER;
ALTER TABLE accounts ADD COLUMN timing_score INTEGER;
ALTER TABLE accounts ADD COLUMN pooled_at TEXT;
ALTER TABLE accounts ADD COLUMN pool_until TEXT;
ALTER TABLE accounts ADD COLUMN pooled_from INTEGER REFERENCES reps(id);
CREATE TABLE lead_rules ({SYNCED},
    kind TEXT NOT NULL CHECK (kind IN ('industry', 'employees', 'source', 'grade')),
    match TEXT NOT NULL,
    points INTEGER NOT NULL
);
CREATE TABLE segments ({SYNCED},
    name TEXT NOT NULL,
    rule TEXT NOT NULL DEFAULT '{{}}'
);
CREATE TABLE deals ({SYNCED},
    external_id TEXT,
    name TEXT,
    account_id INTEGER REFERENCES accounts(id),
    rep_id INTEGER REFERENCES reps(id),
    amount_cents INTEGER NOT NULL CHECK (amount_cents >= 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    stage TEXT NOT NULL DEFAULT 'won',
    closed_on TEXT NOT NULL,
    new_account INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX deals_external_id ON deals(external_id) WHERE external_id IS NOT NULL;
CREATE INDEX deals_closed ON deals(closed_on)
""")


@migrations()
def m0004_travel_times(db: sqlite_utils.Database) -> None:
    # Travel times from a routing service, kept per provider (e.g. 'osrm:https://…') so a re-plan of a
    # known week, after a restart too, asks the service nothing. A cache like geocode_cache: derived
    # data, rebuilt by asking again, so not change-logged or synced. Points are 'lat,lon' to 6 decimals.
    run_sql(db, """
CREATE TABLE travel_times (
    provider TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    distance_m REAL NOT NULL,
    minutes REAL NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (provider, a, b)
) WITHOUT ROWID
""")


_OLD_FREQUENCY_CHECK = "CHECK (visit_frequency IN ('weekly', 'biweekly', 'monthly', 'quarterly', 'none'))"
_NEW_FREQUENCY_CHECK = ("CHECK (visit_frequency IN ('weekly', 'biweekly', 'monthly', 'quarterly', 'none')\n"
                        "        OR visit_frequency GLOB '[1-9]/cycle' OR visit_frequency GLOB '[1-9][0-9]/cycle')")


@migrations(transactional=False)
def m0009_account_visit_fields(db: sqlite_utils.Database) -> None:
    # "N per cycle" visits are stored in visit_frequency itself ('3/cycle', see core/visit_frequency.py),
    # so the column's CHECK must allow them. SQLite cannot alter a CHECK: the accounts table is rebuilt
    # (new table, copy, drop, rename) from its own stored SQL, so every column later migrations added is
    # kept, and its indexes and triggers are made again from sqlite_master. Other tables reference
    # accounts, so foreign keys are off for the rebuild (a pragma that only works outside a
    # transaction, hence transactional=False) and checked before the commit.
    conn = db.conn
    table_sql = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").fetchone()[0]
    if "/cycle" in table_sql:
        return  # rebuilt already (the run stopped after its commit, before its record)
    if _OLD_FREQUENCY_CHECK not in table_sql:
        raise RuntimeError("m0009: the accounts table's visit_frequency CHECK is not the one this migration replaces")
    extras = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'accounts' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL ORDER BY type, name")]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = set(conn.execute("PRAGMA foreign_key_check").fetchall())
            new_sql = table_sql.replace(_OLD_FREQUENCY_CHECK, _NEW_FREQUENCY_CHECK)
            new_sql = new_sql.replace("CREATE TABLE accounts", "CREATE TABLE accounts_m0009", 1)
            conn.execute(new_sql)
            conn.execute("INSERT INTO accounts_m0009 SELECT * FROM accounts")
            conn.execute("DROP TABLE accounts")
            conn.execute("ALTER TABLE accounts_m0009 RENAME TO accounts")
            for sql in extras:
                conn.execute(sql)
            broken = set(conn.execute("PRAGMA foreign_key_check").fetchall()) - before
            if broken:
                raise RuntimeError(f"m0009: rebuilding accounts broke {len(broken)} references, e.g. {sorted(broken)[0]}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


@migrations()
def m0010_sync_files(db: sqlite_utils.Database) -> None:
    # Receipt files travel with sync by their SHA-256. sync_files records, per file, when the server
    # confirmed it holds the bytes (uploaded here or downloaded from it), or why the server refused
    # it, so a sync neither sends a file twice nor retries one the server will never take.
    run_sql(db, """
CREATE TABLE sync_files (
    sha256 TEXT PRIMARY KEY,
    on_server_at TEXT,
    refused TEXT
) WITHOUT ROWID
""")


@migrations()
def m0011_sync_gone(db: sqlite_utils.Database) -> None:
    # Rows the server says went out of this user's sight (an account a manager gave to another rep, or
    # took back to the pool). They are hidden by their tombstone, not removed: this user's past visits,
    # trips and expenses still point at them (NOT NULL foreign keys, and finance needs them). The hiding
    # is not logged (it is no delete of anyone's), so this table is what tells it from a real delete, what
    # the summary counts, and what a pull undoes when the row comes back.
    run_sql(db, """
CREATE TABLE sync_gone (
    table_name TEXT NOT NULL,
    row_uid TEXT NOT NULL,
    owner_uid TEXT,
    gone_at TEXT NOT NULL,
    PRIMARY KEY (table_name, row_uid)
) WITHOUT ROWID
""")


def known_migration_names() -> list[str]:
    """Names of every migration this version knows, in order."""
    return [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]

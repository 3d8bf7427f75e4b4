"""The cluster store's tables, made on first use, and the version they are at.

Every table is prefixed ``saline_`` so the store can share a database. The
schema is made inside one transaction holding an advisory lock, so masters
starting together do not trip over each other's CREATE statements; a
``saline_schema`` row says which version is in place.
"""

from __future__ import annotations

from master.store.pglink import PgLink, StoreError

VERSION = 1
# Any constant: the advisory lock that serialises schema set-up.
SCHEMA_LOCK = 0x5A11E
KEYS_CHANNEL = "saline_keys"
STATES_SQL = "('accepted', 'pending', 'rejected', 'denied')"

TABLES = f"""
CREATE TABLE IF NOT EXISTS saline_schema (
    version integer PRIMARY KEY, applied double precision NOT NULL);
CREATE TABLE IF NOT EXISTS saline_keys (
    minion text NOT NULL, state text NOT NULL CHECK (state IN {STATES_SQL}),
    pub text NOT NULL, changed double precision NOT NULL,
    PRIMARY KEY (state, minion));
CREATE INDEX IF NOT EXISTS saline_keys_by_minion ON saline_keys (minion);
CREATE TABLE IF NOT EXISTS saline_tokens (
    id text PRIMARY KEY, hash text NOT NULL, created double precision NOT NULL,
    expires double precision NOT NULL, uses integer, used integer NOT NULL DEFAULT 0,
    match text NOT NULL);
CREATE TABLE IF NOT EXISTS saline_jobs (
    jid text PRIMARY KEY, fun text NOT NULL, arg bytea, kwarg bytea, tgt bytea,
    tgt_type text, expected bytea, started double precision, "user" text, master text);
CREATE INDEX IF NOT EXISTS saline_jobs_by_start ON saline_jobs (started);
CREATE TABLE IF NOT EXISTS saline_returns (
    jid text NOT NULL REFERENCES saline_jobs (jid) ON DELETE CASCADE,
    minion text NOT NULL, ret bytea, success boolean, retcode integer,
    ts double precision, PRIMARY KEY (jid, minion));
CREATE TABLE IF NOT EXISTS saline_minions (
    id text PRIMARY KEY, grains bytea, seen double precision);
CREATE TABLE IF NOT EXISTS saline_master_key (
    name text PRIMARY KEY, private text NOT NULL, public text NOT NULL,
    created double precision NOT NULL);
CREATE TABLE IF NOT EXISTS saline_masters (
    id text PRIMARY KEY, host text NOT NULL, publish text NOT NULL, ret text NOT NULL,
    fingerprint text NOT NULL, connected integer NOT NULL DEFAULT 0,
    started double precision NOT NULL, heartbeat double precision NOT NULL);
"""

# Every change to a key row, by any master or by hand, is told on one channel
# with the minion id as payload: listening masters reload just that id.
TRIGGER = f"""
CREATE OR REPLACE FUNCTION saline_keys_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('{KEYS_CHANNEL}', COALESCE(NEW.minion, OLD.minion));
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER saline_keys_changed
    AFTER INSERT OR UPDATE OR DELETE ON saline_keys
    FOR EACH ROW EXECUTE FUNCTION saline_keys_notify();
"""


def ensure(link: PgLink) -> None:
    """Make the tables if they are missing; refuse a store made by a newer saline."""
    with link.transaction() as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute(TABLES)
        row = conn.execute("SELECT max(version) FROM saline_schema").fetchone()
        found = row[0] if row else None
        if found is not None and found > VERSION:
            raise StoreError(f"the cluster store is at schema version {found}, newer than "
                             f"this master's ({VERSION}): upgrade saline on this master")
        if found is None:
            conn.execute(TRIGGER)
            conn.execute("INSERT INTO saline_schema VALUES (%s, extract(epoch from now()))",
                         (VERSION,))

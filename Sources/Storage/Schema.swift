import Foundation

/// The SQLite schema of a replica file and its forward migrations.
///
/// `PRAGMA application_id` marks the file as ours; `PRAGMA user_version` holds
/// the schema version. A file with another application id is refused; one
/// with a newer version is refused; an older one is migrated forward, one
/// version per transaction.
enum Schema {
    /// "SLNK": the application id stamped in every replica file's header.
    static let applicationID: Int32 = 0x534C_4E4B
    /// The schema version this build writes.
    static let version: Int32 = Int32(migrations.count)

    /// Migrations: index `i` brings a file from version `i` to `i + 1`.
    static let migrations: [String] = [
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        -- Interned replica ids, so the dots index and the clock store small integers.
        CREATE TABLE replicas(rix INTEGER PRIMARY KEY, rid TEXT NOT NULL UNIQUE);
        -- The replica clock: for each replica, the counter up to which this replica has all its changes.
        CREATE TABLE clock(rix INTEGER PRIMARY KEY, counter INTEGER NOT NULL);
        -- Every record, tombstones included: its canonical encoding plus columns for queries.
        -- A rowid table: new rows append, and only the small id index takes random inserts
        -- (measured twice as fast as a WITHOUT ROWID table of these ~600-byte rows).
        CREATE TABLE records(
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            kind INTEGER NOT NULL,
            live INTEGER NOT NULL,
            lookup TEXT,
            body BLOB NOT NULL
        );
        CREATE INDEX records_lookup ON records(lookup) WHERE lookup IS NOT NULL;
        -- Tombstones, so purging does not scan live records.
        CREATE INDEX records_dead ON records(rid) WHERE live=0;
        -- The dots index: every dot held by a record's registers. Answers "what does a peer lack".
        CREATE TABLE dots(
            rix INTEGER NOT NULL,
            counter INTEGER NOT NULL,
            rid INTEGER NOT NULL,
            PRIMARY KEY(rix, counter, rid)
        ) WITHOUT ROWID;
        -- Peers this replica syncs with, and the clock each last acknowledged.
        CREATE TABLE peers(
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            token TEXT,
            acked TEXT NOT NULL DEFAULT '',
            last_sync REAL,
            last_error TEXT
        ) WITHOUT ROWID;
        -- Replicas that synced with this one as a server, and the clock each last acknowledged.
        CREATE TABLE clients(
            rid TEXT PRIMARY KEY,
            acked TEXT NOT NULL DEFAULT '',
            last_seen REAL
        ) WITHOUT ROWID;
        """,
        // 1 → 2: secondary indexes declared by the domain (IndexSpec) replace the link-token column.
        """
        DROP INDEX records_lookup;
        ALTER TABLE records DROP COLUMN lookup;
        -- Index keys of live records: `ix` numbers the installed IndexSpec, `key` is its UTF-8 bytes.
        CREATE TABLE keys(
            ix INTEGER NOT NULL,
            key BLOB NOT NULL,
            rid INTEGER NOT NULL,
            PRIMARY KEY(ix, key, rid)
        ) WITHOUT ROWID;
        INSERT INTO meta(key, value) VALUES('index_signature', 'stale')
            ON CONFLICT(key) DO UPDATE SET value=excluded.value;
        """,
        // 2 → 3: a peer's private CA (PEM text) for https:// peers (`--cacert`).
        """
        ALTER TABLE peers ADD COLUMN cacert TEXT;
        """,
        // 3 → 4: the id index is keyed by an integer (see RecordKeyHasher) instead of the text id,
        // so it stays in the page cache at a million records. Needs `setuplink_idkey` registered.
        """
        INSERT INTO meta(key, value) VALUES('id_key', lower(hex(randomblob(16)))) ON CONFLICT(key) DO NOTHING;
        CREATE TABLE records_v4(
            rid INTEGER PRIMARY KEY,
            idk INTEGER NOT NULL,
            id TEXT NOT NULL,
            kind INTEGER NOT NULL,
            live INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        INSERT INTO records_v4(rid, idk, id, kind, live, body)
            SELECT rid, setuplink_idkey((SELECT value FROM meta WHERE key='id_key'), id), id, kind, live, body FROM records;
        DROP TABLE records;
        ALTER TABLE records_v4 RENAME TO records;
        -- Not unique: ids are unique by the merge's lookup (`idk = ? AND id = ?`), and keys may collide.
        CREATE INDEX records_idk ON records(idk);
        CREATE INDEX records_dead ON records(rid) WHERE live=0;
        """,
        // 4 → 5: the webhook outbox, local to this replica (never synced): the events of the
        // SCIM changes this replica accepted, written in the change's transaction, and their
        // delivery state. `seq` (the rowid) is the delivery order; it is never reused, since
        // housekeeping always keeps the newest row. No secondary index: every page a SCIM
        // write dirties is written to the WAL at its commit, and an append to this table is
        // one page. Readers walk it in seq order from where they know to start (the sender
        // keeps each directory's first pending seq; a listing reads a week of events).
        // `IF NOT EXISTS`: re-running it (a test that steps a file back) changes nothing.
        """
        CREATE TABLE IF NOT EXISTS outbox(
            seq INTEGER PRIMARY KEY,
            directory TEXT NOT NULL,
            event TEXT NOT NULL,
            body BLOB NOT NULL,
            created INTEGER NOT NULL,
            status INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt INTEGER NOT NULL,
            last_attempt INTEGER,
            last_status INTEGER,
            last_error TEXT,
            finished INTEGER
        );
        """,
        // 5 → 6: tombstone purge by replicated membership (Storage.docc/Tombstones.md).
        """
        -- Member records (kind 6, one per replica that exists), read whenever the stable point is computed.
        CREATE INDEX IF NOT EXISTS records_members ON records(rid) WHERE kind=6;
        -- Acknowledgements recorded by earlier versions could be pipelined clocks that ran ahead
        -- of what the replica had applied: forget them; they come back, applied, on the next sync.
        UPDATE clients SET acked='';
        -- A replica that already exchanged with others has joined (it never rebases its own records).
        INSERT INTO meta(key, value) SELECT 'joined', '1'
            WHERE EXISTS(SELECT 1 FROM clients) OR EXISTS(SELECT 1 FROM peers) OR (SELECT count(*) FROM clock WHERE rix > 0) > 1
            ON CONFLICT(key) DO NOTHING;
        """,
        // 6 → 7: the hybrid logical clock moves from `meta` to row 0 of the clock table (a
        // replica's number is never 0: `replicas` numbers from 1), beside this replica's own
        // counter, so a local write changes one page for both (a SCIM create wrote nine pages).
        // Re-running it (a test that steps a file back) finds no `hlc` in meta and changes nothing.
        """
        INSERT INTO clock(rix, counter) SELECT 0, CAST(value AS INTEGER) FROM meta WHERE key='hlc'
            ON CONFLICT(rix) DO UPDATE SET counter=max(counter, excluded.counter);
        DELETE FROM meta WHERE key='hlc';
        """,
        // 7 → 8: what replicas said of lies about their writes (Replica.docc/Corrections.md),
        // local and small (one row per replica ever lied about); the records a
        // resync has received, to tell what the peer no longer holds; and the parts of a
        // change too large for one page, kept until its last part arrives
        // (Storage.docc/LargeChanges.md). `IF NOT EXISTS`: re-running it changes nothing.
        """
        CREATE TABLE IF NOT EXISTS corrections(
            rid TEXT PRIMARY KEY,
            made INTEGER NOT NULL,
            lie INTEGER NOT NULL,
            learned INTEGER NOT NULL DEFAULT 0,
            forgot INTEGER NOT NULL DEFAULT 0,
            retired INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS resync_seen(rid INTEGER PRIMARY KEY);
        CREATE TABLE IF NOT EXISTS staged(
            session TEXT NOT NULL,
            id TEXT NOT NULL,
            replica TEXT NOT NULL,
            counter INTEGER NOT NULL,
            at INTEGER NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY(session, id)
        );
        """,
        // 8 → 9: the outbox names the replicated event record (kind `event`) of each event, so
        // the sender can write the delivery's outcome into it (the app API's event list).
        // The line below is run by `addMissingColumns` (SQLite has no ADD COLUMN IF NOT EXISTS).
        """
        -- add column outbox event_id TEXT
        """,
        // 9 → 10: peers this replica follows (`serve` keeps syncing with them), and the
        // credentials other replicas sync with this one by (`serve peer-token`), local to
        // this replica: only a SHA-256 of each token is kept.
        """
        -- add column peers follow INTEGER NOT NULL DEFAULT 0
        CREATE TABLE IF NOT EXISTS peer_tokens(
            name TEXT PRIMARY KEY,
            hash TEXT NOT NULL UNIQUE,
            read_only INTEGER NOT NULL DEFAULT 0,
            created INTEGER NOT NULL,
            last_used INTEGER
        ) WITHOUT ROWID;
        """,
        // 10 → 11: the state summary (counts and sum of the live records, per kind) that triggers
        // keep as records are written (StateSums). Needs `setuplink_state_add` registered; the
        // migration step then fills it from the records, once.
        StateSums.migration,
    ]
}

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
    static let version: Int32 = 2

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
        // 2: tombstone purge by replicated membership (README "Tombstones").
        """
        -- Member records (kind 6, one per replica that exists), read whenever the stable point is computed.
        CREATE INDEX records_members ON records(rid) WHERE kind=6;
        -- Acknowledgements recorded by earlier versions could be pipelined clocks that ran ahead
        -- of what the replica had applied: forget them; they come back, applied, on the next sync.
        UPDATE clients SET acked='';
        -- A replica that already exchanged with others has joined (it never rebases its own records).
        INSERT INTO meta(key, value) SELECT 'joined', '1'
            WHERE EXISTS(SELECT 1 FROM clients) OR EXISTS(SELECT 1 FROM peers) OR (SELECT count(*) FROM clock) > 1
            ON CONFLICT(key) DO NOTHING;
        """,
    ]
}

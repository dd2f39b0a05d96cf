/// This replica's local settings (the external URL, the default expiry, the
/// stored peer token, the setup page's CSRF key, …): rows of the file's `meta`
/// table under `setting.`, never records, never synced; over the store's
/// connection and lock.
public struct LocalSettings: Sendable {
    /// The replica file whose connection and lock the settings use.
    let store: ReplicaStore

    /// The `meta` key of setting `name`.
    private static func key(_ name: String) -> String { "setting." + name }

    /// The setting `name`, or `nil` when it is not set.
    public func value(_ name: String) throws -> String? { try store.wrap { try store.meta(Self.key(name)) } }

    /// Sets `name` to `value`; `nil` removes it.
    public func set(_ name: String, to value: String?) throws {
        try store.wrap {
            if let value { try store.setMeta(Self.key(name), value) } else {
                try store.db.run("DELETE FROM meta WHERE key=?", .text(Self.key(name)))
            }
        }
    }
}

extension ReplicaStore {
    /// This replica's local settings (never synced).
    public var settings: LocalSettings { LocalSettings(store: self) }
}

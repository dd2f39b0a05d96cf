import Foundation
import Replica

/// A peer this replica syncs with, and what it last acknowledged.
public struct Peer: Sendable, Equatable {
    /// The name used in `sync NAME`.
    public var name: String
    /// The peer's base URL (`http://host:port`).
    public var url: String
    /// The bearer token for its sync routes.
    public var token: String?
    /// The CA certificate (PEM) its TLS certificate is checked against, for a
    /// private CA; `nil` uses the system's CAs.
    public var cacert: String?
    /// The peer's replica clock after the last successful sync: what it has acknowledged.
    public var acked: VectorClock
    /// When the last sync succeeded.
    public var lastSync: Date?
    /// The last sync's error, if it failed.
    public var lastError: String?
    /// Whether `serve` keeps syncing with it (`peer add --follow`, `peer update --follow`).
    public var follow: Bool = false
}

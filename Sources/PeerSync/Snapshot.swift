import Foundation
import Glibc
import HTTP

/// What `SyncClient.downloadSnapshot` received.
public struct SnapshotDownload: Sendable {
    /// Bytes of the replica file written.
    public var fileBytes: Int
    /// Bytes received on the wire (status line, headers and body).
    public var bytesReceived: Int
    /// Bytes sent (the request).
    public var bytesSent: Int
}

extension SyncClient {
    /// `GET /sync/v1/snapshot` from the peer at `url` (PeerProtocol.md): writes the replica file the
    /// peer answers into the open descriptor `fd` as it arrives (never held in memory), and checks
    /// that all of it came (`Content-Length`). A peer without the route (an older version: 404) is
    /// `notAPeer` with a sentence saying to use `sync`; a wrong token is `unauthorized`; a peer
    /// already making a snapshot answers 503 (`peerError`, its message says to retry).
    public func downloadSnapshot(url: String, token: String?, to fd: Int32) throws(SyncError) -> SnapshotDownload {
        let base = try Self.baseURL(url)
        var session = Session(http: http, base: base, token: token, peer: nil)
        let r = try session.send("GET", "/sync/v1/snapshot", nil, bodyFile: fd)
        let text = Session.errorText(r.body)
        switch r.status {
        case 200: break
        case 401 where text != nil: throw .unauthorized(peer: nil, url: base, tokenGiven: !(token ?? "").isEmpty)
        case 404:
            throw .notAPeer(url: base, reason: "it answers 404 to GET /sync/v1/snapshot: give the hub's base URL as its serve banner prints it, not a page of it;"
                                + " a hub older than clone has no snapshot, and a new replica of it is made with sync")
        default:
            throw .peerError(peer: nil, url: base, status: r.status,
                             message: text ?? "GET /sync/v1/snapshot answered \(r.status) without an error message")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .local("cannot read the size of the downloaded snapshot") }
        let size = Int(info.st_size)
        if let declared = r.headers["content-length"].flatMap({ Int($0) }), declared != size {
            throw session.invalid("the snapshot was cut off: \(size) of \(declared) bytes")
        }
        guard size > 0 else { throw session.invalid("the snapshot is empty") }
        return SnapshotDownload(fileBytes: size, bytesReceived: r.bytesReceived, bytesSent: r.bytesSent)
    }
}

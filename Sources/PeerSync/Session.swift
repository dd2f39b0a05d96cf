import HTTP
import JSON
import Replica

/// The HTTP exchanges of one sync, with their byte counts.
struct Session: Sendable {
    let http: HTTPClient
    let transport: SyncTransport?
    let base: String
    let token: String?
    let peer: String?
    var requests = 0
    var bytesSent = 0
    var bytesReceived = 0

    init(http: HTTPClient, transport: SyncTransport? = nil, base: String, token: String?, peer: String?) {
        self.http = http
        self.transport = transport
        self.base = base
        self.token = token
        self.peer = peer
    }

    /// A session to the same peer with its own counts (for the pull fetcher).
    func fresh() -> Session { Session(http: http, transport: transport, base: base, token: token, peer: peer) }

    func invalid(_ reason: String) -> SyncError { .invalidAnswer(peer: peer, url: base, reason: reason) }

    /// Adds the requests and bytes of another session of the same sync (the pull fetcher's).
    mutating func absorb(_ other: Session) {
        requests += other.requests
        bytesSent += other.bytesSent
        bytesReceived += other.bytesReceived
    }

    /// Decodes a pull answer in the encoding its `Content-Type` names: the page,
    /// the server's clock and its purge floor. The answer must come from the
    /// replica the summary named and declare its clock.
    func decodePull(_ response: HTTPClientResponse, from peerReplica: ReplicaID) throws(SyncError) -> PullPipeline.Item {
        let encoding = PageEncoding.of(contentType: response.headers["content-type"])
        let message: PageMessage
        do throws(WireFormatError) {
            switch encoding {
            case .binary: message = try BinaryPage.decode(response.body)
            case .json: message = try WireFormat.decodeMessage(response.body)
            }
        } catch {
            throw invalid("/sync/v1/pull: \(error)")
        }
        guard message.sender == peerReplica else {
            throw invalid("/sync/v1/pull was answered by replica \(message.sender.hex), not \(peerReplica.hex) as its summary said")
        }
        guard let clock = message.clock else { throw invalid("/sync/v1/pull: clock: missing") }
        return (message.page, clock, message.purgeFloor, encoding, nil, message.corrections)
    }

    /// Sends one request; transport failures become `SyncError`s.
    mutating func send(_ method: String, _ path: String, _ body: [UInt8]?, contentType: String = "application/json",
                       accept: String? = nil, bodyFile: Int32? = nil) throws(SyncError) -> HTTPClientResponse {
        var headers: [String: String] = [:]
        if let token, !token.isEmpty { headers["Authorization"] = "Bearer \(token)" }
        if body != nil { headers["Content-Type"] = contentType }
        if let accept { headers["Accept"] = accept }
        let response: HTTPClientResponse
        do {
            if let transport {
                response = try transport(method, base + path, headers, body)
            } else {
                response = try http.send(method: method, url: base + path, headers: headers, body: body, bodyFile: bodyFile)
            }
        } catch {
            switch error {
            case .invalidURL: throw .invalidURL(base)
            case .timedOut: throw .timedOut(peer: peer, url: base, reason: error.reason)
            case .cancelled: throw .cancelled(peer: peer, url: base)
            case .responseTooLarge, .invalidAnswer: throw invalid(error.reason)
            case .localFile(let m): throw .local(m)
            case .invalidRequest(let m): throw .local("cannot build the request: \(m)")
            case .connectionRefused, .couldNotResolve, .other:
                throw .unreachable(peer: peer, url: base, reason: error.reason)
            case .noAnswerToPlainHTTP:
                // Suggest the peer's https:// base URL, not the route's.
                throw .transport(peer: peer, url: base, reason: HTTPClientError.noAnswerToPlainHTTP(url: base).reason)
            case .tlsNotSpoken, .certificateNotTrusted, .certificateNameMismatch, .invalidCACertificate, .tls:
                throw .transport(peer: peer, url: base, reason: error.reason)
            }
        }
        requests += 1
        bytesSent += response.bytesSent
        bytesReceived += response.bytesReceived
        return response
    }

    /// The `error` text of a JSON error body, if it is one.
    static func errorText(_ body: [UInt8]) -> String? {
        guard let v = try? JSONParser.parse(body), let e = v["error"]?.stringValue else { return nil }
        return e
    }

    /// `GET /sync/v1/summary`: the peer's replica id, clock, purge floor and corrections, or why it is not a setuplink peer.
    mutating func summary() throws(SyncError) -> (ReplicaID, VectorClock, VectorClock, Corrections) {
        let r = try send("GET", "/sync/v1/summary", nil)
        let errorText = Self.errorText(r.body)
        switch r.status {
        case 200: break
        case 401 where errorText != nil: throw .unauthorized(peer: peer, url: base, tokenGiven: !(token ?? "").isEmpty)
        case 500... where errorText != nil: throw .peerError(peer: peer, url: base, status: r.status, message: errorText!)
        default: throw .notAPeer(url: base, reason: "GET /sync/v1/summary answered \(r.status)")
        }
        guard let v = try? JSONParser.parse(r.body) else {
            throw .notAPeer(url: base, reason: "its summary is not JSON")
        }
        do throws(WireFormatError) {
            let floor = v["purge_floor"] == nil ? VectorClock() : try WireFormat.clock(v["purge_floor"], "purge_floor")
            return (try WireFormat.replicaID(v["replica"], "replica"), try WireFormat.clock(v["clock"], "clock"), floor,
                    try WireFormat.corrections(v["corrections"], "corrections"))
        } catch {
            throw .notAPeer(url: base, reason: "its summary has no valid \(error.field)")
        }
    }

    /// POSTs a body and returns the JSON object answered, or the peer's refusal.
    mutating func post(_ path: String, _ body: [UInt8], contentType: String = "application/json") throws(SyncError) -> JSONValue {
        let bytes = try postRaw(path, body, contentType: contentType).body
        let v: JSONValue
        do { v = try JSONParser.parse(bytes, maxDepth: WireFormat.maxDepth) } catch { throw invalid("\(path): \(error)") }
        guard case .object = v else { throw invalid("\(path): the answer is not a JSON object") }
        return v
    }

    /// POSTs a body and returns the answer, or the peer's refusal.
    mutating func postRaw(_ path: String, _ body: [UInt8], contentType: String = "application/json",
                          accept: String? = nil, bodyFile: Int32? = nil) throws(SyncError) -> HTTPClientResponse {
        let r = try send("POST", path, body, contentType: contentType, accept: accept)
        guard r.status == 200 else {
            let text = Self.errorText(r.body)
            if r.status == 401 { throw .unauthorized(peer: peer, url: base, tokenGiven: !(token ?? "").isEmpty) }
            // A claim this request made is a lie the peer knows of: its corrections say what to drop.
            if r.status == 409, let v = try? JSONParser.parse(r.body, maxDepth: WireFormat.maxDepth), v["corrections"] != nil,
               let corrections = try? WireFormat.corrections(v["corrections"], "corrections") {
                throw .corrected(peer: peer, url: base, reason: text ?? "\(path) answered 409", corrections: corrections)
            }
            throw .peerError(peer: peer, url: base, status: r.status,
                             message: text ?? "\(path) answered without an error message")
        }
        return r
    }
}

// The C callbacks libmicrohttpd calls on its worker threads. They are global
// functions (not closures) so they convert to C function pointers, and they
// reach the server only through `cls` (a retained `ServerCore`) and a request's
// state only through `*con_cls` (a retained `RequestState`).
import CMicroHTTPD
import Foundation
import Glibc

/// One request's state between the access handler's calls. Touched only by
/// the worker thread that owns the connection.
final class RequestState {
    let started = ContinuousClock.now
    let connection: UInt
    var head: HTTPHead?
    var route: (any HTTPRoutes)?
    var limit = 0
    var expectedLength: Int?
    var body: [UInt8] = []
    /// Bytes reserved in the server's body budget for this request, and under which address.
    var reserved = 0
    var budgetAddress = ""
    var answered = false
    /// The answer to a parked request (`LongPoll`), set by the waiting room before it resumes the connection.
    var parkedAnswer: HTTPResponse?
    /// The route's logged path of a parked request.
    var parkedPath = ""

    init(connection: UInt) { self.connection = connection }
}

/// `MHD_AccessHandlerCallback`: called once when the head is complete, once
/// per body chunk, and once more (with no data) when the request is complete.
func httpAccessHandler(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?, _ url: UnsafePointer<CChar>?,
                       _ method: UnsafePointer<CChar>?, _ version: UnsafePointer<CChar>?,
                       _ uploadData: UnsafePointer<CChar>?, _ uploadDataSize: UnsafeMutablePointer<Int>?,
                       _ conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> MHD_Result {
    guard let cls, let connection, let conCls, let uploadDataSize else { return MHD_NO_RESULT }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    guard let existing = conCls.pointee else {
        let state = RequestState(connection: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection))))
        conCls.pointee = Unmanaged.passRetained(state).toOpaque()
        return admit(core, connection, state, url: url, method: method, version: version)
    }
    let state = Unmanaged<RequestState>.fromOpaque(existing).takeUnretainedValue()
    let size = uploadDataSize.pointee
    if let parked = state.parkedAnswer {
        // A parked request, resumed with its answer.
        state.parkedAnswer = nil
        return answer(core, connection, state, parked, path: state.parkedPath, closing: core.stopping.load(ordering: .relaxed))
    }
    if state.answered {
        // Refused at the head: whatever body arrives is not ours to keep.
        uploadDataSize.pointee = 0
        return MHD_YES_RESULT
    }
    if size > 0 {
        guard state.body.count + size <= state.limit else {
            core.log(HTTPLogEntry(clientAddress: state.head?.clientAddress ?? "-",
                                  event: .closed(reason: "request body passed the limit of \(state.limit) bytes")))
            return MHD_NO_RESULT
        }
        let needed = state.body.count + size
        if needed > core.budget.smallBody, needed > state.reserved {
            // A chunked body is reserved as it arrives, once it is no longer small.
            if state.budgetAddress.isEmpty { state.budgetAddress = BodyBudget.host(state.head?.clientAddress ?? "-") }
            guard core.budget.reserve(needed - state.reserved, address: state.budgetAddress) else {
                core.log(HTTPLogEntry(clientAddress: state.head?.clientAddress ?? "-",
                                      event: .closed(reason: "request body would pass the server's budget for buffered bodies")))
                return MHD_NO_RESULT
            }
            state.reserved = needed
        }
        if let uploadData {
            uploadData.withMemoryRebound(to: UInt8.self, capacity: size) {
                state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: size))
            }
        }
        core.bufferedBodyBytes.add(size, ordering: .relaxed)
        uploadDataSize.pointee = 0
        return MHD_YES_RESULT
    }
    if let expected = state.expectedLength, state.body.count < expected { return MHD_YES_RESULT }
    guard let head = state.head, let route = state.route else { return MHD_NO_RESULT }
    core.registry.enter(.handling, state.connection)
    // The body moves to the route: the request state no longer holds it.
    let body = state.body
    state.body = []
    core.bufferedBodyBytes.subtract(body.count, ordering: .relaxed)
    var response = route.respond(HTTPRequest(head: head, body: body))
    if let poll = response.longPoll {
        state.parkedPath = route.loggedPath(head)
        // Suspended first, then parked: the room may resume it at once.
        MHD_suspend_connection(connection)
        let parked = WaitingRoom.Parked(connection: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection))), state: state, poll: poll)
        if core.waiting.park(parked) { return MHD_YES_RESULT }
        MHD_resume_connection(connection)
        response = poll.check(true) ?? .error(status: 503, message: "the server is stopping; retry later")
    }
    if !(100...599).contains(response.status) {
        response = .internalError("route returned status \(response.status) for \(route.loggedPath(head))")
    }
    return answer(core, connection, state, response, path: route.loggedPath(head), closing: core.stopping.load(ordering: .relaxed))
}

/// The first call: build the head, find the route, let it admit or refuse.
private func admit(_ core: ServerCore, _ connection: OpaquePointer, _ state: RequestState,
                   url: UnsafePointer<CChar>?, method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?) -> MHD_Result {
    let rawPath = url.map { String(cString: $0) } ?? "/"
    let methodText = method.map { String(cString: $0) } ?? "-"
    let address = core.registry.address(state.connection) ?? "-"
    let headers = values(connection, .HEADER_KIND)
    let rawQuery = values(connection, .GET_ARGUMENT_KIND)
    let refuse = { (response: HTTPResponse, path: String) -> MHD_Result in
        state.head = HTTPHead(method: methodText, path: path, clientAddress: address)
        return answer(core, connection, state, response, path: path, closing: true)
    }
    var query: [(name: String, value: String)] = []
    for (name, value) in rawQuery {
        guard let n = PercentDecoding.decode(name, plusIsSpace: true), let v = PercentDecoding.decode(value, plusIsSpace: true) else {
            return refuse(.error(status: 400, message: "malformed query: invalid percent-encoding"), "-")
        }
        query.append((n, v))
    }
    guard let path = PercentDecoding.decode(rawPath, plusIsSpace: false), path.hasPrefix("/") else {
        return refuse(.error(status: 400, message: "malformed request target: it must be a path starting with /, percent-encoded UTF-8"), "-")
    }
    let head = HTTPHead(method: methodText, path: path, rawPath: rawPath, query: query, headers: headers,
                        clientAddress: address, isTLS: core.configuration.tls != nil,
                        version: version.map { String(cString: $0) } ?? "HTTP/1.1")
    state.head = head
    if core.stopping.load(ordering: .relaxed) {
        let response = HTTPResponse.error(status: 503, message: "the server is stopping; retry later").setting("Retry-After", "5")
        return answer(core, connection, state, response, path: "-", closing: true)
    }
    guard let route = core.routes.first(where: { $0.handles(head) }) else {
        let shown = String(path.prefix(200))
        return answer(core, connection, state, .error(status: 404, message: "no route \(shown)"), path: shown, closing: head.hasBody)
    }
    let loggedPath = route.loggedPath(head)
    switch route.admit(head) {
    case .reject(let response):
        return answer(core, connection, state, response, path: loggedPath, closing: head.hasBody)
    case .accept(let maxBodyBytes):
        let limit = min(max(0, maxBodyBytes), core.configuration.maxBodyBytes)
        if let length = head.contentLength {
            guard length <= limit else {
                let message = limit == 0 ? "\(head.method) \(path) takes no request body"
                    : "request body of \(length) bytes exceeds the limit of \(limit) bytes"
                return answer(core, connection, state, .error(status: 413, message: message), path: loggedPath, closing: true)
            }
            state.expectedLength = length
            // Reserved now, before a byte is read: at the budget, the client is told to come back.
            let host = length > core.budget.smallBody ? BodyBudget.host(address) : ""
            guard length <= core.budget.smallBody || core.budget.reserve(length, address: host) else {
                let response = HTTPResponse.error(status: 503, message: "the server holds as many request bodies as it may; retry in a few seconds")
                    .setting("Retry-After", "5")
                return answer(core, connection, state, response, path: loggedPath, closing: true)
            }
            if length > core.budget.smallBody {
                state.reserved = length
                state.budgetAddress = host
            }
        } else if head.isChunked, limit == 0 {
            return answer(core, connection, state, .error(status: 413, message: "\(head.method) \(path) takes no request body"),
                          path: loggedPath, closing: true)
        } else if !head.isChunked, head.header("content-length") != nil {
            return answer(core, connection, state, .error(status: 400, message: "invalid Content-Length"), path: loggedPath, closing: true)
        }
        state.route = route
        state.limit = limit
        core.registry.enter(head.hasBody ? .body : .handling, state.connection)
        // Returning without a response lets libmicrohttpd send `100 Continue`
        // if the client asked for it: only now, after the route admitted the head.
        return MHD_YES_RESULT
    }
}

/// Queues `response`, logs it, and starts the answer's deadline.
private func answer(_ core: ServerCore, _ connection: OpaquePointer, _ state: RequestState, _ response: HTTPResponse,
                    path: String, closing: Bool) -> MHD_Result {
    state.answered = true
    let mhdResponse: OpaquePointer
    let count: Int
    if let file = response.file {
        // libmicrohttpd reads the file as the client takes it, and closes the descriptor.
        count = file.length
        guard let r = MHD_create_response_from_fd64(UInt64(file.length), file.descriptor) else {
            close(file.descriptor)
            return MHD_NO_RESULT
        }
        mhdResponse = r
    } else {
        count = response.body.count
        let buffer = malloc(max(count, 1))!
        if count > 0 { response.body.withUnsafeBytes { _ = memcpy(buffer, $0.baseAddress!, count) } }
        guard let r = MHD_create_response_from_buffer_with_free_callback(count, buffer, free) else {
            free(buffer)
            return MHD_NO_RESULT
        }
        mhdResponse = r
    }
    defer { MHD_destroy_response(mhdResponse) }
    for (name, value) in response.headers where HTTPResponse.isSendable(name: name, value: value) {
        _ = MHD_add_response_header(mhdResponse, name, value)
    }
    // An answer sent before the body was read must close: the unread body
    // would otherwise be taken for the next request.
    if closing { _ = MHD_add_response_header(mhdResponse, "Connection", "close") }
    let queued = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    core.registry.enter(.sending, state.connection, bytes: count)
    let elapsed = ContinuousClock.now - state.started
    let head = state.head
    core.log(HTTPLogEntry(clientAddress: head?.clientAddress ?? "-",
                          event: .request(method: head?.method ?? "-", path: path, status: response.status,
                                          bytes: count, milliseconds: elapsed.seconds * 1000),
                          note: response.logNote))
    return queued
}

/// The key/value pairs of one kind (headers lowercased and trimmed, or raw query arguments).
private func values(_ connection: OpaquePointer, _ kind: MHD_ValueKind) -> [(name: String, value: String)] {
    final class Box { var pairs: [(name: String, value: String)] = []; var lowercase = false }
    let box = Box()
    box.lowercase = kind == .HEADER_KIND
    _ = withExtendedLifetime(box) {
        MHD_get_connection_values(connection, kind, { cls, _, key, value in
            guard let cls, let key else { return MHD_YES_RESULT }
            let box = Unmanaged<Box>.fromOpaque(cls).takeUnretainedValue()
            let name = String(cString: key)
            let text = value.map { String(cString: $0) } ?? ""
            box.pairs.append(box.lowercase ? (name.lowercased(), text.trimmingASCIIWhitespace()) : (name, text))
            return MHD_YES_RESULT
        }, Unmanaged.passUnretained(box).toOpaque())
    }
    return box.pairs
}

/// `MHD_OPTION_NOTIFY_COMPLETED`: the request is over (answered, aborted or cut
/// off). Releases its state; the connection is idle until the next head.
func httpRequestCompleted(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?,
                          _ conCls: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ code: MHD_RequestTerminationCode) {
    guard let cls, let conCls, let existing = conCls.pointee else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    let state = Unmanaged<RequestState>.fromOpaque(existing).takeRetainedValue()
    conCls.pointee = nil
    core.bufferedBodyBytes.subtract(state.body.count, ordering: .relaxed)
    core.budget.release(state.reserved, address: state.budgetAddress)
    core.registry.enter(.headers, state.connection)
}

/// `MHD_OPTION_NOTIFY_CONNECTION`: a connection started or closed. "Closed" comes
/// before libmicrohttpd closes the descriptor (see `ConnectionRegistry`).
func httpConnectionNotified(_ cls: UnsafeMutableRawPointer?, _ connection: OpaquePointer?,
                            _ socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                            _ code: MHD_ConnectionNotificationCode) {
    guard let cls, let connection else { return }
    let core = Unmanaged<ServerCore>.fromOpaque(cls).takeUnretainedValue()
    let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection)))
    if code == .CONNECTION_NOTIFY_STARTED {
        var buffer = [CChar](repeating: 0, count: 64)
        let address = setuplink_mhd_client_address(connection, &buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "-"
        core.registry.started(key, fd: setuplink_mhd_connection_fd(connection), address: address)
    } else {
        core.registry.closed(key)
    }
}

/// `MHD_NO` as the imported `MHD_Result`.
let MHD_NO_RESULT = MHD_Result(rawValue: 0)!

extension String {
    /// Drops leading and trailing spaces and tabs (the HTTP notion of whitespace).
    func trimmingASCIIWhitespace() -> String {
        let bytes = Array(utf8)
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

// The only file that calls libcurl. Easy handles, header lists and the error
// buffer are acquired and released inside `HTTPClient.send`; what one transfer's
// C callbacks need (and any per-transfer hook added later, such as a progress
// or cancel callback) lives in `TransferState`, reached through libcurl's
// user-data pointer.
import CCurl
import Foundation

/// Why an HTTP request made with `HTTPClient` failed, in terms a person can act on.
public enum HTTPClientError: Error, CustomStringConvertible, Equatable {
    /// The URL is not an absolute `http://` or `https://` URL; nothing was sent.
    case invalidURL(String)
    /// The method, a header name or a header value is not valid HTTP; nothing was sent.
    case invalidRequest(String)
    /// Nothing listens at the URL's host and port.
    case connectionRefused(url: String)
    /// Connecting, or the whole exchange, took longer than the limit.
    case timedOut(url: String, seconds: Double)
    /// The host name in the URL does not resolve.
    case couldNotResolve(host: String)
    /// The response body was longer than the client's limit; the transfer was cut off.
    case responseTooLarge(limit: Int)
    /// An `https://` URL, but the peer answered in plain HTTP (or not in TLS).
    case tlsNotSpoken(url: String)
    /// An `http://` URL, but the peer closed the connection without an answer,
    /// and it completes a TLS handshake: it serves HTTPS.
    case noAnswerToPlainHTTP(url: String)
    /// The peer's certificate is not signed by a trusted CA (self-signed, or a private CA not given).
    case certificateNotTrusted(url: String)
    /// The peer's certificate is for another host name.
    case certificateNameMismatch(url: String, host: String)
    /// The CA certificate given to trust is not usable PEM.
    case invalidCACertificate(url: String)
    /// Any other TLS failure, with libcurl's message.
    case tls(url: String, message: String)
    /// The client's `monitor` asked to stop (the user pressed Ctrl-C).
    case cancelled(url: String)
    /// The peer answered, but not as an answer must be (a file's answer without its size).
    case invalidAnswer(url: String, message: String)
    /// The answer could not be written to its file here (a full disk).
    case localFile(message: String)
    /// Any other transfer failure, with libcurl's message.
    case other(url: String, message: String)

    /// The reason alone, without the URL, for messages that already name the
    /// peer: `peer "hub" unreachable at http://…: connection refused`.
    public var reason: String {
        switch self {
        case .invalidURL: "not an absolute http:// or https:// URL"
        case let .invalidRequest(message): message
        case .connectionRefused: "connection refused"
        case let .timedOut(_, seconds): "timed out after \(formatSeconds(seconds))"
        case let .couldNotResolve(host): "could not resolve host \(host)"
        case let .responseTooLarge(limit): "response larger than the limit of \(limit) bytes"
        case .tlsNotSpoken: "the peer does not speak TLS (is it a plain http:// URL?)"
        case let .noAnswerToPlainHTTP(url):
            "the peer speaks HTTPS, not plain HTTP (use \(Self.httpsVersion(of: url)))"
        case .certificateNotTrusted:
            "the peer's TLS certificate is not signed by a trusted CA (for a private CA or a self-signed certificate, give its CA with --cacert PEM)"
        case let .certificateNameMismatch(_, host): "the peer's TLS certificate is not valid for the host name \(host)"
        case .invalidCACertificate: "the CA certificate given with --cacert is not a usable PEM certificate"
        case let .tls(_, message): "TLS failed: \(message)"
        case .cancelled: "cancelled"
        case let .invalidAnswer(_, message), let .localFile(message): message
        case let .other(_, message): message
        }
    }

    /// `url` with its scheme replaced by `https`.
    static func httpsVersion(of url: String) -> String {
        guard let colon = url.firstIndex(of: ":") else { return url }
        return "https" + url[colon...]
    }

    /// One sentence naming the URL and the reason.
    public var description: String {
        switch self {
        case let .invalidURL(url): "invalid URL \"\(url)\": expected an absolute http:// or https:// URL"
        case let .invalidRequest(message): "invalid HTTP request: \(message)"
        case let .connectionRefused(url): "\(url): connection refused"
        case let .timedOut(url, _): "\(url): \(reason)"
        case .couldNotResolve: reason
        case .responseTooLarge: reason
        case let .tlsNotSpoken(url), let .noAnswerToPlainHTTP(url), let .certificateNotTrusted(url),
             let .certificateNameMismatch(url, _), let .invalidCACertificate(url), let .tls(url, _):
            "\(url): \(reason)"
        case let .cancelled(url): "\(url): cancelled"
        case let .invalidAnswer(url, message), let .other(url, message): "\(url): \(message)"
        case let .localFile(message): message
        }
    }
}

/// `2 s`, `0.5 s`.
private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
}

/// The answer to one `HTTPClient.send`, with the bytes counted on the wire.
public struct HTTPClientResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Response header fields keyed by lowercased name; repeats joined with `, `.
    public var headers: [String: String]
    /// The response body.
    public var body: [UInt8]
    /// Bytes sent: request line and headers plus body.
    public var bytesSent: Int
    /// Bytes received: status line and headers plus body.
    public var bytesReceived: Int
}

/// A request in progress, as `HTTPClient.monitor` sees it.
public struct HTTPTransfer: Sendable {
    /// The request method.
    public var method: String
    /// The request URL.
    public var url: String
    /// Seconds since the request started.
    public var seconds: Double
    /// Body bytes sent so far.
    public var bytesSent: Int
    /// Body bytes received so far.
    public var bytesReceived: Int
}

/// An HTTP client on libcurl: one easy handle per request, no redirects,
/// no signals, bounded time and response size.
///
/// Blocking: `send` returns when the exchange is over. Safe to use from many
/// threads at once.
public struct HTTPClient: Sendable {
    /// Limit on establishing the connection.
    public var connectTimeout: Duration
    /// Limit on the whole exchange, connecting included.
    public var timeout: Duration
    /// Limit on the response body; longer responses fail with `responseTooLarge`.
    public var maxResponseBytes: Int
    /// For `https://`: trust the CA certificate(s) in this PEM text (a private
    /// CA, or a self-signed certificate) instead of the system's CA bundle.
    public var caCertificatePEM: String?
    /// Watches each request: called about once a second while it waits (more often while
    /// data moves), on the thread that sends; returning `false` aborts the request with
    /// `cancelled`. For progress lines and Ctrl-C; `nil` by default.
    public var monitor: (@Sendable (HTTPTransfer) -> Bool)?
    /// Whether a request with a body over 1 KiB asks `Expect: 100-continue` (libcurl's
    /// default, so a server can refuse from the head alone). `false` sends the body at
    /// once: receivers that never answer 100 would otherwise cost a second per request.
    public var expectContinue = true

    /// Creates a client with the given limits.
    public init(connectTimeout: Duration = .seconds(5), timeout: Duration = .seconds(30),
                maxResponseBytes: Int = 16 * 1024 * 1024, caCertificatePEM: String? = nil) {
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.caCertificatePEM = caCertificatePEM
    }

    /// Sends one request and returns the response, whatever its status.
    ///
    /// Only transport failures throw; a 404 or 500 is a normal response.
    ///
    /// With `bodyFile`, the body of a 2xx answer is written to that open descriptor as it
    /// arrives instead of being kept (it is not bounded by `maxResponseBytes` but by its
    /// `Content-Length`, which it must carry: a chunked or close-delimited one is refused, as it
    /// could fill the disk; the answer's `body` is then empty); the body of any other status is
    /// kept as usual, within the limit.
    public func send(method: String, url: String, headers: [String: String] = [:],
                     body: [UInt8]? = nil, bodyFile: Int32? = nil) throws(HTTPClientError) -> HTTPClientResponse {
        let host = try validate(url: url)
        guard !method.isEmpty, method.utf8.allSatisfy(isTokenByte) else {
            throw .invalidRequest("invalid method \"\(method)\"")
        }
        var lines: [String] = []
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
                throw .invalidRequest("invalid header name \"\(name)\"")
            }
            guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
                throw .invalidRequest("header \(name) contains a line break")
            }
            // "Name:" would tell curl to remove the header; "Name;" sends it empty.
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        // "Name:" with no value removes a header libcurl would add.
        if !expectContinue { lines.append("Expect:") }
        guard CurlGlobal.initialized else {
            throw .other(url: url, message: "libcurl could not be initialised")
        }

        guard let handle = curl_easy_init() else {
            throw .other(url: url, message: "libcurl could not create a handle (out of memory)")
        }
        defer { curl_easy_cleanup(handle) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        let state = TransferState(limit: maxResponseBytes)
        state.monitor = monitor
        state.file = bodyFile ?? -1
        state.method = method
        state.url = url
        let options = CurlOptions(handle: handle)
        let code: CURLcode = try withExtendedLifetime(state) { () throws(HTTPClientError) -> CURLcode in
            let user = Unmanaged.passUnretained(state).toOpaque()
            try options.set(CURLOPT_ERRORBUFFER, pointer: errorBuffer)
            try options.set(CURLOPT_URL, url)
            try options.set(CURLOPT_NOSIGNAL, 1)
            try options.set(CURLOPT_FOLLOWLOCATION, 0)
            try options.set(CURLOPT_CONNECTTIMEOUT_MS, milliseconds(connectTimeout))
            try options.set(CURLOPT_TIMEOUT_MS, milliseconds(timeout))
            // Lets curl refuse early when Content-Length already exceeds the limit;
            // the write callback covers responses without one.
            if bodyFile == nil { try options.set(CURLOPT_MAXFILESIZE_LARGE, offset: curl_off_t(maxResponseBytes)) }
            try options.set(CURLOPT_WRITEFUNCTION, writer: { data, size, count, user in
                guard let user else { return 0 }
                let state = Unmanaged<TransferState>.fromOpaque(user).takeUnretainedValue()
                let n = size * count
                if state.file >= 0, (200...299).contains(state.status) {
                    // Unbounded by `limit`, so bounded by what the answer announced (curl stops there):
                    // a chunked or close-delimited answer could fill the disk.
                    guard state.headers["content-length"] != nil, state.headers["transfer-encoding"] == nil else { state.unannounced = true; return 0 }
                    guard let data else { return n }
                    var done = 0
                    while done < n {
                        let w = write(state.file, data + done, n - done)
                        if w < 0 && errno == EINTR { continue }
                        guard w > 0 else { state.fileError = errno; return 0 }
                        done += w
                    }
                    return n
                }
                guard state.body.count + n <= state.limit else {
                    state.exceeded = true
                    return 0   // any other count than n makes curl abort with CURLE_WRITE_ERROR
                }
                if n > 0, let data {
                    data.withMemoryRebound(to: UInt8.self, capacity: n) {
                        state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n))
                    }
                }
                return n
            })
            try options.set(CURLOPT_WRITEDATA, pointer: user)
            try options.set(CURLOPT_HEADERFUNCTION, writer: { data, size, count, user in
                let n = size * count
                guard let user, let data else { return n }
                let state = Unmanaged<TransferState>.fromOpaque(user).takeUnretainedValue()
                let line = data.withMemoryRebound(to: UInt8.self, capacity: n) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
                }
                state.addHeaderLine(line)
                return n
            })
            try options.set(CURLOPT_HEADERDATA, pointer: user)
            if let pem = caCertificatePEM {
                // CURL_BLOB_COPY: libcurl copies the PEM now, so the buffer need not outlive this call.
                var bytes = Array(pem.utf8)
                let set = bytes.withUnsafeMutableBytes { raw in
                    var blob = curl_blob(data: raw.baseAddress, len: raw.count, flags: UInt32(CURL_BLOB_COPY))
                    return setuplink_curl_setopt_pointer(handle, CURLOPT_CAINFO_BLOB, &blob)
                }
                try options.check(set, CURLOPT_CAINFO_BLOB)
            }
            if monitor != nil {
                try options.set(CURLOPT_NOPROGRESS, 0)
                try options.set(CURLOPT_XFERINFODATA, pointer: user)
                try options.check(setuplink_curl_setopt_xferinfofn(handle) { user, _, downloaded, _, uploaded in
                    guard let user else { return 0 }
                    let state = Unmanaged<TransferState>.fromOpaque(user).takeUnretainedValue()
                    guard let monitor = state.monitor else { return 0 }
                    let transfer = HTTPTransfer(method: state.method, url: state.url,
                                                seconds: Date().timeIntervalSince(state.started),
                                                bytesSent: Int(uploaded), bytesReceived: Int(downloaded))
                    return monitor(transfer) ? 0 : 1   // non-zero: CURLE_ABORTED_BY_CALLBACK
                }, CURLOPT_XFERINFOFUNCTION)
            }

            switch method {
            case "GET" where body == nil:
                try options.set(CURLOPT_HTTPGET, 1)
            case "HEAD":
                try options.set(CURLOPT_NOBODY, 1)
            default:
                try options.set(CURLOPT_CUSTOMREQUEST, method)
            }
            if let body, method != "HEAD" {
                try options.set(CURLOPT_POSTFIELDSIZE_LARGE, offset: curl_off_t(body.count))
                let copied = body.withUnsafeBytes { raw in
                    // COPYPOSTFIELDS copies POSTFIELDSIZE bytes now, so the buffer
                    // need not outlive this call.
                    if let base = raw.baseAddress {
                        return setuplink_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base))
                    }
                    return setuplink_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
                }
                try options.check(copied, CURLOPT_COPYPOSTFIELDS)
            }
            for line in lines { headerList = curl_slist_append(headerList, line) }
            if headerList != nil { try options.set(CURLOPT_HTTPHEADER, list: headerList) }

            return curl_easy_perform(handle)
        }

        guard code == CURLE_OK else {
            throw classify(code, handle: handle, url: url, host: host, state: state,
                           message: String(cString: errorBuffer))
        }
        var status = 0, headerSize = 0, requestSize = 0
        var uploaded: curl_off_t = 0, downloaded: curl_off_t = 0
        var value = 0
        if setuplink_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &value) == CURLE_OK { status = value }
        if setuplink_curl_getinfo_long(handle, CURLINFO_HEADER_SIZE, &value) == CURLE_OK { headerSize = value }
        if setuplink_curl_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &value) == CURLE_OK { requestSize = value }
        _ = setuplink_curl_getinfo_off(handle, CURLINFO_SIZE_UPLOAD_T, &uploaded)
        _ = setuplink_curl_getinfo_off(handle, CURLINFO_SIZE_DOWNLOAD_T, &downloaded)
        return HTTPClientResponse(status: status, headers: state.headers, body: state.body,
                                  bytesSent: requestSize + Int(uploaded),
                                  bytesReceived: headerSize + Int(downloaded))
    }

    /// Checks `url` is an absolute http(s) URL with a host; returns the host.
    private func validate(url: String) throws(HTTPClientError) -> String {
        guard !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
              let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else { throw .invalidURL(url) }
        return host
    }

    /// Maps a failed transfer to the error a person can act on.
    private func classify(_ code: CURLcode, handle: UnsafeMutableRawPointer, url: String, host: String,
                          state: TransferState, message: String) -> HTTPClientError {
        let detail = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        switch code {
        case CURLE_WRITE_ERROR where state.unannounced:
            return .invalidAnswer(url: url, message: "its answer has no Content-Length (an answer written to a file must announce its size)")
        case CURLE_WRITE_ERROR where state.fileError != 0:
            return .localFile(message: "cannot write the answer to its file: \(String(cString: strerror(state.fileError)))")
        case CURLE_WRITE_ERROR where state.exceeded, CURLE_FILESIZE_EXCEEDED:
            return .responseTooLarge(limit: maxResponseBytes)
        case CURLE_ABORTED_BY_CALLBACK:
            return .cancelled(url: url)
        case CURLE_COULDNT_RESOLVE_HOST:
            return .couldNotResolve(host: host)
        case CURLE_COULDNT_CONNECT:
            var osErrno = 0
            _ = setuplink_curl_getinfo_long(handle, CURLINFO_OS_ERRNO, &osErrno)
            return osErrno == Int(ECONNREFUSED) ? .connectionRefused(url: url) : .other(url: url, message: detail)
        case CURLE_SSL_CONNECT_ERROR where Self.notTLS(detail) || (Self.cutMidHandshake(detail) && Self.speaksPlainHTTP(url)):
            return .tlsNotSpoken(url: url)
        case CURLE_PEER_FAILED_VERIFICATION where detail.contains("name"):
            return .certificateNameMismatch(url: url, host: host)
        case CURLE_PEER_FAILED_VERIFICATION:
            return .certificateNotTrusted(url: url)
        case CURLE_SSL_CACERT_BADFILE:
            return .invalidCACertificate(url: url)
        case CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_USE_SSL_FAILED:
            return .tls(url: url, message: detail)
        case CURLE_GOT_NOTHING where url.lowercased().hasPrefix("http://") && Self.speaksTLS(url),
             CURLE_RECV_ERROR where url.lowercased().hasPrefix("http://") && state.headers.isEmpty && Self.speaksTLS(url):
            // Closed without an answer, and a TLS handshake at the same address succeeds:
            // plain HTTP was sent to an HTTPS server.
            return .noAnswerToPlainHTTP(url: url)
        case CURLE_PARTIAL_FILE:
            // Reached, and answering, then gone: not unreachable.
            return .invalidAnswer(url: url, message: "the answer was cut off before its end (\(detail))")
        case CURLE_OPERATION_TIMEDOUT:
            var connectTime: curl_off_t = 0
            _ = setuplink_curl_getinfo_off(handle, CURLINFO_CONNECT_TIME_T, &connectTime)
            let limit = connectTime == 0 ? connectTimeout : timeout
            return .timedOut(url: url, seconds: seconds(limit))
        default:
            return .other(url: url, message: detail)
        }
    }
}

extension HTTPClient {
    /// Whether the server at `url`'s host and port completes a TLS handshake
    /// (certificate not checked: nothing is sent but the handshake). Asked only
    /// after a plain-HTTP request got no answer, to tell an HTTPS server from one
    /// that went away.
    static func speaksTLS(_ url: String) -> Bool {
        guard CurlGlobal.initialized, let handle = curl_easy_init() else { return false }
        defer { curl_easy_cleanup(handle) }
        let options = CurlOptions(handle: handle)
        do {
            try options.set(CURLOPT_URL, HTTPClientError.httpsVersion(of: url))
            try options.set(CURLOPT_NOSIGNAL, 1)
            try options.set(CURLOPT_CONNECT_ONLY, 1)
            try options.set(CURLOPT_SSL_VERIFYPEER, 0)
            try options.set(CURLOPT_SSL_VERIFYHOST, 0)
            try options.set(CURLOPT_TIMEOUT_MS, 2000)
        } catch {
            return false
        }
        return curl_easy_perform(handle) == CURLE_OK
    }

    /// Whether a TLS handshake error says the other side is not speaking TLS:
    /// OpenSSL's wording for a plain-HTTP answer to a ClientHello, or the
    /// connection closed or reset mid-handshake without a TLS alert (a plain
    /// HTTP server drops the ClientHello as garbage; a TLS server that refuses
    /// a handshake sends an alert instead).
    static func notTLS(_ message: String) -> Bool {
        let m = message.lowercased()
        return m.contains("wrong version number") || m.contains("packet length too long")
            || m.contains("http request") || m.contains("record layer failure")
    }

    /// Whether the handshake was cut off without a TLS alert (closed or reset):
    /// a plain HTTP server dropping a ClientHello, or a server that went away.
    static func cutMidHandshake(_ message: String) -> Bool {
        let m = message.lowercased()
        return m.contains("unexpected eof") || m.contains("ssl_error_syscall") || m.contains("connection reset")
    }

    /// Whether the server at `url`'s host and port answers plain HTTP (any
    /// status). Asked only after a TLS handshake was cut off, to tell a plain
    /// HTTP server from one that went away.
    static func speaksPlainHTTP(_ url: String) -> Bool {
        guard CurlGlobal.initialized, let handle = curl_easy_init() else { return false }
        defer { curl_easy_cleanup(handle) }
        let plain = url.lowercased().hasPrefix("https:") ? "http" + url.dropFirst(5) : Substring(url)
        let options = CurlOptions(handle: handle)
        do {
            try options.set(CURLOPT_URL, String(plain))
            try options.set(CURLOPT_NOSIGNAL, 1)
            try options.set(CURLOPT_NOBODY, 1)
            try options.set(CURLOPT_TIMEOUT_MS, 2000)
        } catch {
            return false
        }
        var status = 0
        return curl_easy_perform(handle) == CURLE_OK
            && setuplink_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status >= 100
    }
}

/// Sets the options of one easy handle, checking each result: libcurl refuses
/// an option it was built without (`CURLOPT_CAINFO_BLOB` before 7.77, or
/// without TLS), a value out of range, or when memory runs out. A request
/// whose options were not all taken is never sent: it would go out without a
/// timeout, a size limit or the CA it was told to trust.
struct CurlOptions {
    /// The easy handle.
    let handle: UnsafeMutableRawPointer

    /// Sets a `long` option.
    func set(_ option: CURLoption, _ value: Int) throws(HTTPClientError) {
        try check(setuplink_curl_setopt_long(handle, option, value), option)
    }

    /// Sets a string option (libcurl copies it).
    func set(_ option: CURLoption, _ value: String) throws(HTTPClientError) {
        try check(setuplink_curl_setopt_string(handle, option, value), option)
    }

    /// Sets a pointer option.
    func set(_ option: CURLoption, pointer value: UnsafeMutableRawPointer?) throws(HTTPClientError) {
        try check(setuplink_curl_setopt_pointer(handle, option, value), option)
    }

    /// Sets a `curl_off_t` option.
    func set(_ option: CURLoption, offset value: curl_off_t) throws(HTTPClientError) {
        try check(setuplink_curl_setopt_off(handle, option, value), option)
    }

    /// Sets a header list option.
    func set(_ option: CURLoption, list value: UnsafeMutablePointer<curl_slist>?) throws(HTTPClientError) {
        try check(setuplink_curl_setopt_slist(handle, option, value), option)
    }

    /// Sets a write or header callback.
    func set(_ option: CURLoption, writer value: setuplink_curl_write_fn) throws(HTTPClientError) {
        try check(setuplink_curl_setopt_writefn(handle, option, value), option)
    }

    /// Throws `invalidRequest` naming the option when libcurl did not take it.
    func check(_ code: CURLcode, _ option: CURLoption) throws(HTTPClientError) {
        guard code != CURLE_OK else { return }
        let name = curl_easy_option_by_id(option).flatMap { $0.pointee.name.map { "CURLOPT_" + String(cString: $0) } }
            ?? "option \(option.rawValue)"
        throw .invalidRequest("libcurl refused \(name): \(String(cString: curl_easy_strerror(code)))")
    }
}

/// `curl_global_init` runs once, on first use; Swift initialises a static
/// `let` exactly once even when several threads race to it.
private enum CurlGlobal {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

/// What the C callbacks write into during one transfer, reached through the
/// user-data pointer (C callbacks cannot capture). Used by one thread only:
/// `curl_easy_perform` calls back on the calling thread.
private final class TransferState {
    let limit: Int
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var exceeded = false
    /// Where a 2xx body goes (`send(bodyFile:)`), or -1; the status of the last status line; a write's errno.
    var file: Int32 = -1
    var status = 0
    var fileError: Int32 = 0
    /// A 2xx answer meant for `file` came without Content-Length: refused.
    var unannounced = false
    var monitor: (@Sendable (HTTPTransfer) -> Bool)?
    var method = ""
    var url = ""
    let started = Date()

    init(limit: Int) { self.limit = limit }

    /// Takes one raw header line; a new status line (after a 100 Continue)
    /// starts the header set again.
    func addHeaderLine(_ raw: String) {
        let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers = [:]
            let parts = line.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        headers[name] = headers[name].map { "\($0), \(value)" } ?? value
    }
}

/// Whole milliseconds, at least 1 (0 would mean "no timeout" to curl).
private func milliseconds(_ duration: Duration) -> Int {
    max(1, Int(seconds(duration) * 1000))
}

/// A duration in seconds.
private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

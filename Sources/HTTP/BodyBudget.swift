import Synchronization

/// One budget for the request bodies a server holds in memory at once.
///
/// A body larger than `smallBody` is reserved, at its declared `Content-Length`,
/// when its head is admitted (a chunked one as it arrives): a request that would
/// pass the budget (`total`), or its client address's share of it (`perAddress`),
/// is answered `503` with `Retry-After` before a byte of its body is read (a
/// chunked one is cut off). The reservation is given back when the request ends.
/// Small bodies are not counted: the connection limit bounds them (2048 × 64 KiB),
/// and the requests every client needs (a `/healthz`, a sync's pull, a SCIM change
/// of a user) always pass.
final class BodyBudget: Sendable {
    let total: Int
    let perAddress: Int
    let smallBody: Int

    private struct State {
        var reserved = 0
        var byAddress: [String: Int] = [:]
    }
    private let state = Mutex(State())

    init(total: Int, perAddress: Int, smallBody: Int) {
        self.total = total
        self.perAddress = perAddress
        self.smallBody = smallBody
    }

    /// Reserves `bytes` more for a request from `address`; `false`, reserving nothing,
    /// when the budget or the address's share would be passed. (Callers do not reserve
    /// bodies up to `smallBody`.)
    func reserve(_ bytes: Int, address: String) -> Bool {
        guard bytes > 0 else { return true }
        return state.withLock { s in
            guard s.reserved + bytes <= total, s.byAddress[address, default: 0] + bytes <= perAddress else { return false }
            s.reserved += bytes
            s.byAddress[address, default: 0] += bytes
            return true
        }
    }

    /// Gives back what a request reserved (`reserve` calls that returned true, added up).
    func release(_ bytes: Int, address: String) {
        guard bytes > 0 else { return }
        state.withLock { s in
            s.reserved -= bytes
            let left = s.byAddress[address, default: bytes] - bytes
            s.byAddress[address] = left > 0 ? left : nil
        }
    }

    /// Bytes reserved now.
    var reserved: Int { state.withLock { $0.reserved } }

    /// The address part of `host:port` or `[v6]:port`: connections of one client share its budget.
    static func host(_ address: String) -> String {
        if address.hasPrefix("["), let end = address.firstIndex(of: "]") { return String(address[address.index(after: address.startIndex)..<end]) }
        if let colon = address.lastIndex(of: ":"), address.firstIndex(of: ":") == colon { return String(address[..<colon]) }
        return address
    }
}

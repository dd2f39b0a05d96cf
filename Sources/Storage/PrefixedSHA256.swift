import CCrypto
import Crypto
import Replica

/// SHA-256 of (a fixed prefix ‖ a frame) as a `StateSum`, for hashing many small frames fast:
/// the prefix is absorbed once, and each digest starts from a copy of that state in a context
/// reused for every frame (an init per frame fetched the algorithm again each time), with the
/// frame built in one reused buffer (one digest update per frame, no allocation).
///
/// Used by the state summary (`StateSumTracker`, empty prefix: a record's hash) and by a clone's
/// check of derived data (`DerivedCheck.EntryHasher`, a random key as the prefix).
final class PrefixedSHA256: @unchecked Sendable {
    private let prefixed: OpaquePointer
    private let context: OpaquePointer
    /// The frame of the next `digest()`: cleared by `startFrame()`, filled by the caller.
    var frame: [UInt8] = []

    init(prefix: [UInt8] = [], frameCapacity: Int = 256) {
        guard let a = EVP_MD_CTX_new(), let b = EVP_MD_CTX_new() else { libcryptoFailed("EVP_MD_CTX_new") }
        prefixed = a
        context = b
        expectLibcrypto(EVP_DigestInit_ex(prefixed, EVP_sha256(), nil), "EVP_DigestInit_ex")
        if !prefix.isEmpty {
            prefix.withUnsafeBytes { expectLibcrypto(EVP_DigestUpdate(prefixed, $0.baseAddress, $0.count), "EVP_DigestUpdate") }
        }
        frame.reserveCapacity(frameCapacity)
    }

    deinit {
        EVP_MD_CTX_free(prefixed)
        EVP_MD_CTX_free(context)
    }

    /// Empties the frame (keeping its buffer).
    func startFrame() { frame.removeAll(keepingCapacity: true) }

    /// SHA-256 of the prefix and the frame.
    func digest() -> StateSum {
        expectLibcrypto(EVP_MD_CTX_copy_ex(context, prefixed), "EVP_MD_CTX_copy_ex")
        frame.withUnsafeBytes { expectLibcrypto(EVP_DigestUpdate(context, $0.baseAddress, $0.count), "EVP_DigestUpdate") }
        var out: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &out) { o in
            var len: UInt32 = 0
            expectLibcrypto(EVP_DigestFinal_ex(context, o.baseAddress!.assumingMemoryBound(to: UInt8.self), &len), "EVP_DigestFinal_ex")
            return StateSum(bytes: UnsafeRawBufferPointer(o))
        }
    }
}

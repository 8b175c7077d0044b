import CSodium

/// libsodium must be initialised once before use; `sodium_init` is safe to
/// call repeatedly and from several threads (it returns 1 when already done).
enum Sodium {
    static let ready: Bool = sodium_init() >= 0

    /// Cryptographically secure random bytes.
    static func randomBytes(_ count: Int) -> [UInt8] {
        precondition(ready, "libsodium failed to initialise")
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 { out.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, count) } }
        return out
    }

    /// Compares two byte arrays in constant time (for tokens and MACs).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in sodium_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 } }
    }

    /// BLAKE2b (`crypto_generichash`) of `input`, keyed when `key` is given.
    static func hash(_ input: [UInt8], key: [UInt8] = [], length: Int = 32) -> [UInt8] {
        precondition(ready, "libsodium failed to initialise")
        var out = [UInt8](repeating: 0, count: length)
        _ = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in
                key.withUnsafeBufferPointer { k in
                    crypto_generichash(o.baseAddress!, length, i.baseAddress, UInt64(input.count), k.baseAddress, key.count)
                }
            }
        }
        return out
    }
}

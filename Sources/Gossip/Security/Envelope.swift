import CSodium

/// Seals and opens every gossip datagram and stream frame.
///
/// Layout: `version(1) ‖ keyID(1) ‖ nonce(24) ‖ XChaCha20-Poly1305(timestamp(8) ‖ body) ‖ tag(16)`.
/// The associated data binds the cluster label, the version and the key id,
/// so a packet of another cluster (another label) never opens even under the
/// same key. Nonces are random: 24 bytes make collisions negligible
/// (libsodium's recommendation for XChaCha20). The sealed timestamp lets
/// `ReplayGuard` refuse old or replayed messages.
public struct Envelope: Sendable {
    public static let version: UInt8 = 1
    public static let nonceSize = 24
    public static let tagSize = 16
    public static let headerSize = 2 + nonceSize
    /// Bytes sealing adds to a body.
    public static let overhead = headerSize + 8 + tagSize

    public let label: String

    public init(label: String) {
        precondition(Sodium.ready, "libsodium failed to initialise")
        self.label = label
    }

    public enum OpenError: Error, Equatable, CustomStringConvertible {
        case tooShort
        case unknownVersion(UInt8)
        case authenticationFailed

        public var description: String {
            switch self {
            case .tooShort: "sealed message too short"
            case .unknownVersion(let v): "unknown envelope version \(v)"
            case .authenticationFailed: "no installed key opens the message (wrong key, wrong label, or tampered)"
            }
        }
    }

    /// An opened message: its body, the sender's timestamp (milliseconds since
    /// the Unix epoch), the nonce (for replay detection) and the key used.
    public struct Opened: Sendable {
        public var body: [UInt8]
        public var timestamp: UInt64
        public var nonce: [UInt8]
        public var key: ClusterKey
    }

    private func associatedData(keyID: UInt8) -> [UInt8] {
        Array("gossip-mirror/".utf8) + Array(label.utf8) + [0, Self.version, keyID]
    }

    /// Seals `body` with the keyring's primary key.
    public func seal(_ body: [UInt8], with keyring: Keyring, timestamp: UInt64) -> [UInt8] {
        let key = keyring.primary
        let nonce = Sodium.randomBytes(Self.nonceSize)
        var plain = [UInt8]()
        plain.reserveCapacity(8 + body.count)
        for shift in stride(from: 56, through: 0, by: -8) { plain.append(UInt8(truncatingIfNeeded: timestamp >> UInt64(shift))) }
        plain.append(contentsOf: body)
        let ad = associatedData(keyID: key.id)
        var out = [UInt8](repeating: 0, count: Self.headerSize + plain.count + Self.tagSize)
        out[0] = Self.version
        out[1] = key.id
        out.replaceSubrange(2..<Self.headerSize, with: nonce)
        var written: UInt64 = 0
        out.withUnsafeMutableBufferPointer { o in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                o.baseAddress! + Self.headerSize, &written, plain, UInt64(plain.count), ad, UInt64(ad.count), nil,
                nonce, key.bytes)
        }
        return out
    }

    /// Opens a sealed message with any installed key.
    public func open(_ sealed: [UInt8], with keyring: Keyring) throws(OpenError) -> Opened {
        guard sealed.count >= Self.overhead else { throw .tooShort }
        guard sealed[0] == Self.version else { throw .unknownVersion(sealed[0]) }
        let keyID = sealed[1]
        let nonce = Array(sealed[2..<Self.headerSize])
        let cipherCount = sealed.count - Self.headerSize
        let ad = associatedData(keyID: keyID)
        var plain = [UInt8](repeating: 0, count: cipherCount - Self.tagSize)
        for key in keyring.candidates(for: keyID) {
            var length: UInt64 = 0
            let rc = sealed.withUnsafeBufferPointer { s in
                plain.withUnsafeMutableBufferPointer { p in
                    crypto_aead_xchacha20poly1305_ietf_decrypt(
                        p.baseAddress, &length, nil, s.baseAddress! + Self.headerSize, UInt64(cipherCount), ad,
                        UInt64(ad.count), nonce, key.bytes)
                }
            }
            if rc == 0 {
                var timestamp: UInt64 = 0
                for i in 0..<8 { timestamp = timestamp << 8 | UInt64(plain[i]) }
                return Opened(body: Array(plain[8..<Int(length)]), timestamp: timestamp, nonce: nonce, key: key)
            }
        }
        throw .authenticationFailed
    }
}

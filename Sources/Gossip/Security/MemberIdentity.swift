import CSodium
import Foundation

/// A member's own Ed25519 signing key (libsodium `crypto_sign_*`): with it a
/// member signs its alive record, its payload and its leave, so that another
/// holder of the cluster key cannot speak for it (see `RecordSignature` and
/// docs/security.md, "Members speak only for themselves").
///
/// Stored as the base64 of the 32-byte seed, in the style of the cluster key
/// file. The secret never appears in logs: `description` shows the key id.
public struct MemberIdentity: Sendable, CustomStringConvertible {
    public static let seedByteCount = 32
    public static let publicKeyByteCount = 32
    public static let signatureByteCount = 64

    /// The 32-byte public key others pin to this member's name.
    public let publicKey: [UInt8]
    /// libsodium's 64-byte secret key (seed ‖ public key).
    private let secretKey: [UInt8]
    private let seed: [UInt8]

    public enum LoadError: Error, Equatable, CustomStringConvertible {
        case notBase64(path: String)
        case wrongLength(path: String, Int)
        case unreadable(path: String, reason: String)
        case unwritable(path: String, reason: String)

        public var description: String {
            switch self {
            case .notBase64(let path): "identity key file \(path) is not valid base64"
            case .wrongLength(let path, let n): "identity key file \(path) holds \(n) bytes; an identity seed has exactly 32"
            case .unreadable(let path, let reason): "cannot read identity key file \(path): \(reason)"
            case .unwritable(let path, let reason): "cannot write identity key file \(path): \(reason)"
            }
        }
    }

    /// The key pair derived from a 32-byte seed (`crypto_sign_seed_keypair`).
    public init(seed: [UInt8]) {
        precondition(seed.count == Self.seedByteCount, "an identity seed has 32 bytes")
        precondition(Sodium.ready, "libsodium failed to initialise")
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        _ = crypto_sign_seed_keypair(&pk, &sk, seed)
        self.publicKey = pk
        self.secretKey = sk
        self.seed = seed
    }

    /// A fresh random identity (the default: one per process).
    public static func generate() -> MemberIdentity { MemberIdentity(seed: Sodium.randomBytes(seedByteCount)) }

    /// Reads the identity at `path`, or, if no file is there, generates one
    /// and writes it atomically (a temporary file renamed into place) with
    /// mode 0600, so a restart under the same file keeps its identity. A
    /// missing parent folder is created with mode 0700 (a Nomad client's
    /// /var/lib/gossip-mirror on the first start, say).
    public static func loadOrCreate(path: String) throws(LoadError) -> MemberIdentity {
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty, !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .unwritable(path: path, reason: "cannot create \(folder): \((error as NSError).localizedDescription)")
            }
        }
        let identity = generate()
        let temporary = path + ".tmp-\(getpid())"
        let text = identity.base64 + "\n"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unwritable(path: path, reason: String(cString: strerror(errno))) }
        let written = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == text.utf8.count, synced == 0, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .unwritable(path: path, reason: reason)
        }
        return identity
    }

    /// Reads an identity key file (base64 of the seed, whitespace ignored).
    public static func load(path: String) throws(LoadError) -> MemberIdentity {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .notBase64(path: path)
        }
        guard data.count == seedByteCount else { throw .wrongLength(path: path, data.count) }
        return MemberIdentity(seed: Array(data))
    }

    public var base64: String { Data(seed).base64EncodedString() }

    /// The first 8 bytes of the public key: names this identity in probes
    /// (a restarted process with a new key ignores pings for its predecessor).
    public var keyID: UInt64 { Self.keyID(of: publicKey) }

    public static func keyID(of publicKey: [UInt8]) -> UInt64 {
        var id: UInt64 = 0
        for b in publicKey.prefix(8) { id = id << 8 | UInt64(b) }
        return id
    }

    public var description: String { "MemberIdentity(key id: \(String(keyID, radix: 16)))" }

    /// A detached Ed25519 signature of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Self.signatureByteCount)
        _ = crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        return signature
    }

    /// Whether `signature` is `publicKey`'s signature of `message`.
    public static func verify(_ signature: [UInt8], of message: [UInt8], by publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureByteCount, publicKey.count == publicKeyByteCount, Sodium.ready else {
            return false
        }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }
}

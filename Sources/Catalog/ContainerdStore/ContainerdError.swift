/// Why a call to containerd failed, phrased for an operator: each message names
/// the setting to check.
public enum ContainerdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing exists at the socket path.
    case socketMissing(path: String)
    /// Something exists at the socket path, but it is not a unix socket.
    case notASocket(path: String)
    /// The socket exists but this process may not connect to it.
    case permissionDenied(path: String)
    /// The socket exists but containerd does not answer on it (not running, restarting).
    case unavailable(path: String, detail: String)
    /// The configured namespace is not a valid containerd namespace name.
    case invalidNamespace(String)
    /// The namespace does not hold this blob (or image).
    case notFound(String)
    /// A blob is larger than the caller's limit for a whole read.
    case blobTooLarge(digest: Digest, size: Int64, limit: Int)
    /// containerd returned data that does not make sense (a bad digest, a short read).
    case protocolViolation(String)
    /// Any other failure, with containerd's gRPC status code and message.
    case rpcFailed(method: String, code: String, message: String)

    public var description: String {
        switch self {
        case .socketMissing(let path):
            return "containerd socket \(path) does not exist: is containerd running, and is --containerd-sock right?"
        case .notASocket(let path):
            return "\(path) is not a unix socket: check --containerd-sock"
        case .permissionDenied(let path):
            return "permission denied on containerd socket \(path): run as root or give this user access to the socket"
        case .unavailable(let path, let detail):
            return "containerd is not answering on \(path): \(detail)"
        case .invalidNamespace(let name):
            return "'\(name)' is not a valid containerd namespace (letters, digits and single . _ - between them): check --containerd-namespace"
        case .notFound(let what):
            return "\(what) is not in this containerd namespace"
        case .blobTooLarge(let digest, let size, let limit):
            return "blob \(digest) has \(size) bytes, more than the \(limit) allowed here"
        case .protocolViolation(let detail):
            return "unexpected answer from containerd: \(detail)"
        case .rpcFailed(let method, let code, let message):
            return "containerd \(method) failed (\(code)): \(message)"
        }
    }
}

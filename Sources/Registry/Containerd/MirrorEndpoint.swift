/// The URL containerd is told to try first: the local gossip-mirror registry
/// API, e.g. `http://127.0.0.1:5000`. It becomes the key of a
/// `[host."…"]` table, so only plain, unambiguous URLs are accepted.
public struct MirrorEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// Normalised: lower-case scheme, no trailing slash.
    public let url: String

    public static let defaultURL = "http://127.0.0.1:5000"

    public init(validating text: String) throws(HostsConfigError) {
        let trimmed = MirroredRegistry.trimmed(text)
        if let reason = Self.problem(with: trimmed) { throw .invalidMirrorURL(text, reason: reason) }
        var url = trimmed
        let schemeEnd = url.firstRange(of: "://")!
        url = url[..<schemeEnd.lowerBound].lowercased() + url[schemeEnd.lowerBound...]
        while url.hasSuffix("/") { url.removeLast() }
        self.url = url
    }

    /// The URL at which this node's containerd reaches a registry API bound
    /// to `listenAddress` (`HOST:PORT`): a wildcard bind (`0.0.0.0`, `::`)
    /// is reached over loopback, anything else at that address.
    public init(listenAddress: String) throws(HostsConfigError) {
        var host = Substring(listenAddress)
        var port: Substring = ""
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            port = host[host.index(after: close)...].drop(while: { $0 == ":" })
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !port.isEmpty else { throw .invalidMirrorURL(listenAddress, reason: "the registry address has no port") }
        let reachable: String
        switch host {
        case "", "0.0.0.0", "*": reachable = "127.0.0.1"
        case "::": reachable = "[::1]"
        default: reachable = host.contains(":") ? "[\(host)]" : String(host)
        }
        try self.init(validating: "http://\(reachable):\(port)")
    }

    public var description: String { url }

    private static func problem(with text: String) -> String? {
        if text.isEmpty { return "it is empty" }
        guard let schemeEnd = text.firstRange(of: "://") else { return "it must start with http:// or https://" }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return "the scheme must be http or https, not \(scheme)" }
        let rest = text[schemeEnd.upperBound...]
        for scalar in rest.unicodeScalars {
            if scalar.value <= 0x20 || scalar.value >= 0x7F { return "it contains a space, control or non-ASCII character" }
            switch scalar {
            case "\"", "\\": return "it contains a quote or backslash"
            case "?", "#": return "it may not carry a query or fragment"
            case "@": return "it may not carry user information"
            default: break
            }
        }
        let authority = rest.prefix(while: { $0 != "/" })
        if authority.isEmpty { return "it has no host" }
        if let reason = MirroredRegistry.problem(with: String(authority)) { return "its host: \(reason)" }
        if authority == Substring(MirroredRegistry.catchAllName) { return "its host '\(authority)' is not a host name" }
        let path = rest.dropFirst(authority.count)
        if path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) { return "its path may not contain '.' or '..'" }
        return nil
    }
}

/// What went wrong while configuring or restoring `hosts.toml` files. Every
/// description names the path or the input at fault.
public enum HostsConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRegistry(String, reason: String)
    case invalidMirrorURL(String, reason: String)
    case noRegistries
    case hostsDirectoryMissing(String)
    case notADirectory(String)
    case notAFile(String)
    case notWritable(String, errno: Int32)
    case io(operation: String, path: String, errno: Int32)
    /// A write failed part-way; the files written before it were restored.
    indirect case rolledBack(HostsConfigError, leftBehind: [String])

    public var description: String {
        switch self {
        case let .invalidRegistry(text, reason):
            return "invalid registry '\(text)': \(reason)"
        case let .invalidMirrorURL(text, reason):
            return "invalid mirror URL '\(text)': \(reason)"
        case .noRegistries:
            return "no registries to configure"
        case let .hostsDirectoryMissing(path):
            return "hosts directory \(path) does not exist; containerd reads hosts.toml files only from the directory its "
                + "registry config_path names (often /etc/containerd/certs.d): create it there first, or pass --hosts-dir"
        case let .notADirectory(path):
            return "\(path) exists but is not a directory"
        case let .notAFile(path):
            return "\(path) exists but is not a file"
        case let .notWritable(path, errno):
            return "cannot write in \(path): \(HostsFileSystem.message(errno)) (run as root, or check the mount is writable)"
        case let .io(operation, path, errno):
            return "\(operation) \(path): \(HostsFileSystem.message(errno))"
        case let .rolledBack(error, leftBehind):
            if leftBehind.isEmpty { return "\(error); the hosts.toml files written before it were restored" }
            return "\(error); restoring the files written before it also failed for: \(leftBehind.joined(separator: ", "))"
        }
    }
}

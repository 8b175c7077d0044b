/// The URL containerd is told to try first: the local gossip-mirror registry
/// API, e.g. `http://127.0.0.1:5000`. It becomes the key of a
/// `[host."…"]` table, so only plain, unambiguous URLs are accepted.
public struct MirrorEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// Normalised: lower-case scheme, no trailing slash.
    public let url: String

    public static let defaultURL = "http://127.0.0.1:5000"

    public init(validating text: String) throws(ClientConfigError) {
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
    public init(listenAddress: String) throws(ClientConfigError) {
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

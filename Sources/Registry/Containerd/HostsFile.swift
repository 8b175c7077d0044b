/// A `hosts.toml` written by gossip-mirror: its text, and how gossip-mirror
/// recognises its own files later (a marker comment that also records what
/// has to be undone).
///
/// containerd (1.5+, `config_path`) reads `<hosts dir>/<registry>/hosts.toml`,
/// tries the `[host."…"]` entries in file order and the `server` last. A 404
/// or a refused connection from a host makes it try the next one, so a stopped
/// mirror costs a loopback connection attempt, not a failed pull.
public struct HostsFile: Equatable, Sendable {
    /// What `cleanup` must undo, recorded in the file itself so that no
    /// other state is needed.
    public struct State: Equatable, Sendable {
        /// A file that was not ours was moved aside to `hosts.toml.gossip-mirror.bak`.
        public var backup: Bool
        /// gossip-mirror created the registry's directory.
        public var createdDirectory: Bool

        public init(backup: Bool, createdDirectory: Bool) {
            self.backup = backup
            self.createdDirectory = createdDirectory
        }
    }

    /// Docker-style certificate files found in the registry's directory.
    /// containerd reads them only when there is no `hosts.toml`, so a
    /// generated file names them explicitly to keep TLS to the server working.
    public struct Certificates: Equatable, Sendable {
        public var authorities: [String] = []
        public var clientPairs: [[String]] = []
        public var isEmpty: Bool { authorities.isEmpty && clientPairs.isEmpty }
        public init(authorities: [String] = [], clientPairs: [[String]] = []) {
            self.authorities = authorities
            self.clientPairs = clientPairs
        }

        /// The same files containerd's Docker-compatible fallback would use:
        /// `*.crt` are CAs, `X.cert` with `X.key` are client key pairs (a
        /// `.cert` without `.key` is taken to hold both).
        public init(fileNames: [String]) {
            let names = Set(fileNames)
            for name in fileNames.sorted() {
                if name.hasSuffix(".crt") {
                    authorities.append(name)
                } else if name.hasSuffix(".cert") {
                    let key = String(name.dropLast(5)) + ".key"
                    clientPairs.append([name, names.contains(key) ? key : name])
                }
            }
        }
    }

    public static let fileName = "hosts.toml"
    /// How long containerd waits to connect to the mirror before it goes
    /// to the next host (containerd 1.7 and later; 1.6 ignores the key). A
    /// mirror on this node answers or refuses at once; a mirror URL on an
    /// unreachable address would otherwise hold every pull for the default
    /// 30 s. 200 ms, as the mirror's own connect timeout to peers.
    public static let mirrorDialTimeout = "200ms"
    public static let backupFileName = "hosts.toml.gossip-mirror.bak"

    static let markerLine =
        "# Managed by gossip-mirror; do not edit. `gossip-mirror cleanup` (or stopping `gossip-mirror run --configure-containerd`) restores what was here before."
    static let statePrefix = "# gossip-mirror-state:"

    public var registry: MirroredRegistry
    public var mirror: MirrorEndpoint
    public var resolveTags: Bool
    /// The upstream speaks plain HTTP: `server` is `http://<registry>`.
    public var plainHTTP: Bool
    public var state: State
    public var certificates: Certificates

    public init(
        registry: MirroredRegistry, mirror: MirrorEndpoint, resolveTags: Bool = true, plainHTTP: Bool = false,
        state: State = State(backup: false, createdDirectory: false), certificates: Certificates = Certificates()
    ) {
        self.registry = registry
        self.mirror = mirror
        self.resolveTags = resolveTags
        self.plainHTTP = plainHTTP
        self.state = state
        self.certificates = certificates
    }

    public var capabilities: [String] { resolveTags ? ["pull", "resolve"] : ["pull"] }

    public func render() -> String {
        var lines = [
            Self.markerLine,
            "\(Self.statePrefix) backup=\(state.backup ? "yes" : "no") created-directory=\(state.createdDirectory ? "yes" : "no")",
        ]
        if let server = plainHTTP ? registry.plainHTTPServer : registry.upstreamServer {
            lines.append("server = \(Self.quoted(server))")
        } else if registry.isCatchAll {
            lines.append("# No server: each registry falls back to its own default endpoint.")
        } else {
            lines.append("# No server: containerd's default for a local registry (plain HTTP) stays in force.")
        }
        // Certificates belong to a TLS server; with plain HTTP they would only
        // make containerd (2.x) try HTTPS first.
        if !plainHTTP, !certificates.authorities.isEmpty {
            lines.append("ca = [\(certificates.authorities.map(Self.quoted).joined(separator: ", "))]")
        }
        if !plainHTTP, !certificates.clientPairs.isEmpty {
            let pairs = certificates.clientPairs.map { "[\($0.map(Self.quoted).joined(separator: ", "))]" }
            lines.append("client = [\(pairs.joined(separator: ", "))]")
        }
        lines.append("")
        lines.append("[host.\(Self.quoted(mirror.url))]")
        lines.append("  capabilities = [\(capabilities.map(Self.quoted).joined(separator: ", "))]")
        lines.append("  dial_timeout = \(Self.quoted(Self.mirrorDialTimeout))")
        return lines.joined(separator: "\n") + "\n"
    }

    public var bytes: [UInt8] { Array(render().utf8) }

    /// The state recorded in a file gossip-mirror wrote, or nil when the
    /// file is someone else's (which gossip-mirror then never modifies in
    /// place).
    public static func state(of bytes: [UInt8]) -> State? {
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        let lines = text.split(separator: "\n", maxSplits: 4, omittingEmptySubsequences: false).prefix(4)
        guard lines.first.map({ $0.hasPrefix("# Managed by gossip-mirror") }) == true,
            let line = lines.first(where: { $0.hasPrefix(statePrefix) })
        else { return nil }
        var fields: [Substring: Substring] = [:]
        for pair in line.dropFirst(statePrefix.count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return State(backup: fields["backup"] == "yes", createdDirectory: fields["created-directory"] == "yes")
    }

    /// A TOML basic string.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// A `hosts.toml` written by gossip-mirror: its bytes, and how gossip-mirror
/// recognises its own files later (a marker comment that also records what
/// has to be undone).
///
/// containerd (1.5+, `config_path`) reads `<hosts dir>/<registry>/hosts.toml`,
/// tries the `[host."…"]` entries in file order and the `server` last. A 404
/// or a refused connection from a host makes it try the next one, so a stopped
/// mirror costs a connection attempt, not a failed pull. The mirrors come
/// first, in the order given (this node first); the hosts of a file that was
/// there before follow them, byte for byte (`ExistingHostsFile`).
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

    public static let fileName = "hosts.toml"
    public static let backupFileName = "hosts.toml.gossip-mirror.bak"
    /// How long containerd waits to connect to a mirror before it goes to
    /// the next host (containerd 1.7 and later; 1.6 ignores the key). A
    /// mirror on this node answers or refuses at once, one on the same LAN
    /// within a millisecond; a mirror URL on an unreachable address would
    /// otherwise hold every pull for the default 30 s. 200 ms, as the
    /// mirror's own connect timeout to peers.
    public static let mirrorDialTimeout = "200ms"

    static let markerLine =
        "# Managed by gossip-mirror; do not edit. `gossip-mirror cleanup` (or stopping `gossip-mirror run --configure-containerd`) restores what was here before."
    static let statePrefix = "# gossip-mirror-state:"

    public var registry: MirroredRegistry
    /// Tried in this order, before any host of `existing`.
    public var mirrors: [MirrorEndpoint]
    public var resolveTags: Bool
    /// The upstream speaks plain HTTP: `server` is `http://<registry>`.
    public var plainHTTP: Bool
    public var state: State
    /// Named as `ca`/`client` when there is no `existing` file.
    public var certificates: DockerCertificates
    /// The file this one replaces, kept after the mirrors.
    public var existing: ExistingHostsFile?

    public init(
        registry: MirroredRegistry, mirrors: [MirrorEndpoint], resolveTags: Bool = true, plainHTTP: Bool = false,
        state: State = State(backup: false, createdDirectory: false), certificates: DockerCertificates = DockerCertificates(),
        existing: ExistingHostsFile? = nil
    ) {
        self.registry = registry
        self.mirrors = mirrors
        self.resolveTags = resolveTags
        self.plainHTTP = plainHTTP
        self.state = state
        self.certificates = certificates
        self.existing = existing
    }

    public var capabilities: [String] { resolveTags ? ["pull", "resolve"] : ["pull"] }

    /// The `server` gossip-mirror writes: none when the kept file names its
    /// own, or where containerd's default is right (see `MirroredRegistry`).
    var server: String? {
        if existing?.hasServer == true { return nil }
        return plainHTTP ? registry.plainHTTPServer : registry.upstreamServer
    }

    public var bytes: [UInt8] {
        var head = [
            Self.markerLine,
            "\(Self.statePrefix) backup=\(state.backup ? "yes" : "no") created-directory=\(state.createdDirectory ? "yes" : "no")",
        ]
        if let server {
            head.append("server = \(Self.quoted(server))")
        } else if existing?.hasServer != true {
            head.append(
                registry.isCatchAll
                    ? "# No server: each registry falls back to its own default endpoint."
                    : "# No server: containerd's default for a local registry (plain HTTP) stays in force.")
        }
        // Certificates belong to a TLS server; with plain HTTP they would only
        // make containerd (2.x) try HTTPS first.
        if existing == nil, !plainHTTP, !certificates.authorities.isEmpty {
            head.append("ca = [\(certificates.authorities.map(Self.quoted).joined(separator: ", "))]")
        }
        if existing == nil, !plainHTTP, !certificates.clientPairs.isEmpty {
            let pairs = certificates.clientPairs.map { "[\($0.map(Self.quoted).joined(separator: ", "))]" }
            head.append("client = [\(pairs.joined(separator: ", "))]")
        }
        var out = Array((head.joined(separator: "\n") + "\n").utf8)
        if let existing, !existing.root.isEmpty {
            out += Array("# Kept from the file this one replaced (\(Self.backupFileName)), byte for byte: its top-level keys,\n".utf8)
            out += existing.root
            if existing.root.last != 0x0A { out.append(0x0A) }
        }
        if !out.suffix(2).elementsEqual([0x0A, 0x0A]) { out.append(0x0A) }
        out += Array(mirrors.map(hostTable).joined(separator: "\n").utf8)
        if let existing, !existing.tables.isEmpty {
            out += Array("\n# Kept from the file this one replaced, byte for byte: its hosts, tried after the mirror.\n".utf8)
            out += existing.tables
        }
        return out
    }

    private func hostTable(_ mirror: MirrorEndpoint) -> String {
        """
        [host.\(Self.quoted(mirror.url))]
          capabilities = [\(capabilities.map(Self.quoted).joined(separator: ", "))]
          dial_timeout = \(Self.quoted(Self.mirrorDialTimeout))

        """
    }

    /// The file as text, for printing (a kept file's bytes need not be UTF-8).
    public func render() -> String { String(decoding: bytes, as: UTF8.self) }

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

/// The drop-in gossip-mirror writes into `registries.conf.d` for
/// containers/image clients (Podman, Buildah, Skopeo, CRI-O): one
/// `[[registry]]` per mirrored registry with the mirrors as
/// `[[registry.mirror]]` locations of the prefixed form
/// `HOST:PORT/<registry>`, so one node mirrors every registry (these
/// clients send no `?ns=`; the registry is the first path component).
///
/// A registry's existing entry, where there is one, is carried byte for
/// byte with gossip-mirror's mirrors placed before its own (containers/image
/// tries mirrors in order, then the registry itself).
public struct RegistriesDropIn: Sendable, Equatable {
    public struct State: Sendable, Equatable {
        /// gossip-mirror created the drop-in directory.
        public var createdDirectory: Bool
        public init(createdDirectory: Bool) { self.createdDirectory = createdDirectory }
    }

    /// Loaded after the usual drop-ins (alphanumeric order), so its entries
    /// win for their prefixes; it carries what it replaces.
    public static let fileName = "zz-gossip-mirror.conf"
    static let markerLine = "# Managed by gossip-mirror; do not edit. `gossip-mirror cleanup` removes this file."
    static let statePrefix = "# gossip-mirror-state:"

    public var registries: [MirroredRegistry]
    public var mirrors: [MirrorEndpoint]
    /// Without it the mirrors are used for pulls by digest only (`pull-from-mirror = "digest-only"`).
    public var resolveTags: Bool
    public var state: State
    /// Existing entries carried, by prefix.
    var carried: [String: ExistingRegistryEntries.Entry] = [:]

    public init(registries: [MirroredRegistry], mirrors: [MirrorEndpoint], resolveTags: Bool = true, state: State) {
        self.registries = registries
        self.mirrors = mirrors
        self.resolveTags = resolveTags
        self.state = state
    }

    /// `127.0.0.1:5000/docker.io` for `http://127.0.0.1:5000` and docker.io.
    static func location(of mirror: MirrorEndpoint, for registry: MirroredRegistry) -> String {
        let rest = mirror.url[mirror.url.firstRange(of: "://")!.upperBound...]
        return "\(rest)/\(registry.name)"
    }

    public var bytes: [UInt8] {
        var out = Array("""
            \(Self.markerLine)
            \(Self.statePrefix) created-directory=\(state.createdDirectory ? "yes" : "no")
            # Mirrors are tried in order, then the registry itself; a miss costs one quick 404.

            """.utf8)
        for registry in registries {
            out.append(0x0A)
            if let entry = carried[registry.name] {
                out += Array("# \(registry): the entry in force before (\(entry.source)), byte for byte, after gossip-mirror's mirrors\n".utf8)
                out += entry.registry
                if out.last != 0x0A { out.append(0x0A) }
                out += mirrorTables(for: registry)
                if !entry.mirrors.isEmpty {
                    out.append(0x0A)
                    out += entry.mirrors
                    if out.last != 0x0A { out.append(0x0A) }
                }
            } else {
                out += Array("""
                    [[registry]]
                    prefix = \(HostsFile.quoted(registry.name))
                    location = \(HostsFile.quoted(registry.name))

                    """.utf8)
                out += mirrorTables(for: registry)
            }
        }
        return out
    }

    private func mirrorTables(for registry: MirroredRegistry) -> [UInt8] {
        var text = ""
        for mirror in mirrors {
            text += "\n[[registry.mirror]]\n"
            text += "location = \(HostsFile.quoted(Self.location(of: mirror, for: registry)))\n"
            text += "insecure = \(mirror.url.hasPrefix("http://"))\n"
            if !resolveTags { text += "pull-from-mirror = \"digest-only\"\n" }
        }
        return Array(text.utf8)
    }

    /// The state recorded in a drop-in gossip-mirror wrote, or nil for any other file.
    public static func state(of bytes: [UInt8]) -> State? {
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        let lines = text.split(separator: "\n", maxSplits: 3, omittingEmptySubsequences: false).prefix(2)
        guard lines.first == Substring(markerLine), let line = lines.last, line.hasPrefix(statePrefix) else { return nil }
        return State(createdDirectory: line.contains("created-directory=yes"))
    }
}

extension MirroredRegistry {
    /// Why this registry cannot be the first path component of a mirror
    /// location for containers/image (its references allow only lower-case
    /// letters, digits and separators there), or nil if it can.
    var containersPathProblem: String? {
        if isCatchAll { return "containers/image has no catch-all registry; name each registry" }
        if port != nil || name.hasPrefix("[") {
            return "a registry with a port or an IPv6 address cannot be named in a containers/image mirror path"
        }
        if name != name.lowercased() { return "write the registry in lower case" }
        return nil
    }
}

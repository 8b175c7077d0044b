import ArgumentParser
import Catalog
import Registry

/// Which content is advertised and fetched through peers, and who may ask.
struct RoutingOptions: ParsableArguments {
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "allow-registry", repeatable: true), .init(name: "exclude-reference", repeatable: true),
        .init(name: "resolve-tags", flag: true), .init(name: "resolve-latest", flag: true),
        .init(name: "trusted-network", repeatable: true), .init(name: "peer-sharing"),
        .init(name: "public-registry", repeatable: true), .init(name: "tag-quorum"),
    ]

    @Option(name: .customLong("allow-registry"), help: "Mirror only these registries (repeatable; default: all).")
    var allowRegistry: [String] = []

    @Option(
        name: .customLong("exclude-reference"),
        help: "Regular expression of references never advertised or fetched through peers, e.g. ':latest$' (repeatable).")
    var excludeReference: [String] = []

    @Flag(
        name: .customLong("resolve-tags"), inversion: .prefixedNo,
        help: "Resolve tags through peers (digests always are).")
    var resolveTags = true

    @Flag(
        name: .customLong("resolve-latest"), inversion: .prefixedNo,
        help: "Also resolve the tag 'latest' through peers (it moves the most upstream).")
    var resolveLatest = false

    @Option(
        name: .customLong("trusted-network"),
        help: """
            CIDR whose requests need no cluster token, on the registry port and for the status port's /status, \
            /status.json and /locate (repeatable; loopback never needs one).
            """)
    var trustedNetwork: [String] = []

    @Option(
        name: .customLong("peer-sharing"),
        help: "What goes through peers: all, public (only --public-registry registries) or digests (never tags).")
    var peerSharing = "all"

    @Option(
        name: .customLong("public-registry"),
        help: "A registry whose images are public, shared through peers with --peer-sharing public (repeatable).")
    var publicRegistry: [String] = []

    @Option(
        name: .customLong("tag-quorum"),
        help: "Holders that must name the same digest before a tag is answered through peers.")
    var tagQuorum = 1

    func validate() throws {
        guard PeerSharing.Mode(rawValue: peerSharing) != nil else {
            throw ValidationError("--peer-sharing must be all, public or digests, not \(peerSharing)")
        }
        guard (1...16).contains(tagQuorum) else { throw ValidationError("--tag-quorum must be 1 to 16") }
    }

    func peerSharingPolicy() throws -> PeerSharing {
        var registries = Set<String>()
        for text in publicRegistry {
            do { registries.insert(try RegistryRoute.registry(fromNamespace: text)) } catch {
                throw ValidationError("--public-registry \(text) is not a registry host")
            }
        }
        let mode = PeerSharing.Mode(rawValue: peerSharing) ?? .all
        if mode == .publicRegistries, registries.isEmpty {
            throw ValidationError("--peer-sharing public needs at least one --public-registry")
        }
        return PeerSharing(mode: mode, publicRegistries: registries)
    }

    /// The peer path's settings the options change (the rest keep their defaults).
    var routerSettings: PeerRouterSettings {
        var settings = PeerRouterSettings()
        settings.tagQuorum = tagQuorum
        return settings
    }

    func registryFilter() throws -> RegistryFilter {
        do {
            return try RegistryFilter(mirroredRegistries: allowRegistry, excludedReferencePatterns: excludeReference)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func registryConfiguration() throws -> RegistryHandler.Configuration {
        var configuration = RegistryHandler.Configuration()
        configuration.tagPolicy = TagPolicy(resolveThroughPeers: resolveTags, includeLatest: resolveLatest, filter: try registryFilter())
        configuration.sharing = try peerSharingPolicy()
        configuration.trustedNetworks = try trustedNetwork.map { text in
            guard let cidr = CIDR(text) else { throw ValidationError("--trusted-network \(text) is not a CIDR such as 10.0.0.0/8") }
            return cidr
        }
        return configuration
    }
}

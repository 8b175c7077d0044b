/// What the `hosts.toml` writer is asked to do: which registries to point
/// at which mirrors, under which hosts directory.
public struct HostsSettings: Sendable, Equatable {
    /// containerd's registry `config_path`.
    public var hostsDirectory: String
    public var registries: [MirroredRegistry]
    /// Tried in this order (this node first), before any host a replaced file had.
    public var mirrors: [MirrorEndpoint]
    public var resolveTags: Bool
    /// Registries whose upstream speaks plain HTTP (they are mirrored too).
    public var plainHTTPRegistries: Set<MirroredRegistry>

    public init(
        hostsDirectory: String, registries: [MirroredRegistry] = MirroredRegistry.defaults, mirrors: [MirrorEndpoint],
        resolveTags: Bool = true, plainHTTPRegistries: [MirroredRegistry] = []
    ) {
        self.hostsDirectory = hostsDirectory
        var seen = Set<MirroredRegistry>()
        self.registries = (registries + plainHTTPRegistries).filter { seen.insert($0).inserted }
        self.mirrors = mirrors
        self.resolveTags = resolveTags
        self.plainHTTPRegistries = Set(plainHTTPRegistries)
    }

    /// The registries named on a command line, validated: `names` (the
    /// common public registries when none are named) and `plainHTTPNames`
    /// (see `MirroredRegistry.init(validatingPlainHTTP:)`).
    public static func registries(
        named names: [String], plainHTTP plainHTTPNames: [String]
    ) throws(ClientConfigError) -> (registries: [MirroredRegistry], plainHTTP: [MirroredRegistry]) {
        let named = try names.map { name throws(ClientConfigError) in try MirroredRegistry(validating: name) }
        let plainHTTP = try plainHTTPNames.map { name throws(ClientConfigError) in try MirroredRegistry(validatingPlainHTTP: name) }
        return (named.isEmpty ? MirroredRegistry.defaults : named, plainHTTP)
    }

    /// Mirror URLs as given on a command line, validated, in order; each once.
    public static func mirrors(_ urls: [String]) throws(ClientConfigError) -> [MirrorEndpoint] {
        var mirrors: [MirrorEndpoint] = []
        for url in urls {
            let mirror = try MirrorEndpoint(validating: url)
            if mirrors.contains(mirror) { throw .duplicateMirrorURL(mirror.url) }
            mirrors.append(mirror)
        }
        return mirrors
    }

    /// The file for `registry`, before the directory has been looked at.
    func file(for registry: MirroredRegistry) -> HostsFile {
        HostsFile(
            registry: registry, mirrors: mirrors, resolveTags: resolveTags, plainHTTP: plainHTTPRegistries.contains(registry))
    }
}

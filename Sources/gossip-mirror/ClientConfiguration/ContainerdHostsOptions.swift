import ArgumentParser
import Logging
import Registry
import ServiceLifecycle

/// The `run` options that make a node point containerd at itself while it
/// runs: `hosts.toml` files written on start and restored on SIGTERM/SIGINT.
/// The file logic is `Registry`'s hosts.toml writer (`HostsPlan`,
/// `HostsTransaction`, `HostsCleanup`); this is the CLI surface and the glue
/// to the service group.
struct ContainerdHostsOptions: ParsableArguments {
    @Flag(
        name: .customLong("configure-containerd"), inversion: .prefixedNo,
        help: ArgumentHelp(
            "On start, write <hosts-dir>/<registry>/hosts.toml pointing containerd at this node's mirror; on SIGTERM/SIGINT, put back what was there.",
            discussion: "Same files and rules as `gossip-mirror configure-containerd` (see its --help, also for Docker Engine)."))
    var configureContainerd = false

    @Option(
        name: .customLong("hosts-dir"),
        help: ArgumentHelp(
            "Directory of hosts.toml files: containerd's registry config_path (with --configure-containerd).",
            discussion: "Docker Engine 28+ with the containerd image store reads /etc/docker/certs.d instead."))
    var hostsDir = "/etc/containerd/certs.d"

    @Option(
        name: .customLong("mirror-registry"),
        help: ArgumentHelp(
            "Registry host to mirror (with --configure-containerd). Repeatable; `_default` is containerd's catch-all.",
            discussion: "Default: \(MirroredRegistry.defaults.map(\.name).joined(separator: ", "))."))
    var mirrorRegistry: [String] = []

    @Option(
        name: .customLong("plain-http-registry"),
        help: "Registry host whose upstream speaks plain HTTP: mirrored in addition to --mirror-registry (or its default), with http:// as its server. Repeatable.")
    var plainHTTPRegistry: [String] = []

    @Option(
        name: .customLong("mirror-url"),
        help: "URL containerd uses to reach a mirror. Repeatable, tried in order: name this node first (default: one URL, from --registry-addr; 0.0.0.0 becomes 127.0.0.1).")
    var mirrorURL: [String] = []

    @Option(name: .customLong("containerd-config"), help: "containerd's config.toml, read (never written) to check its registry config_path.")
    var containerdConfig = ContainerdConfigCheck.defaultConfigFile

    /// For `ConfigurationSources`: the same names as environment variables
    /// (`GOSSIP_MIRROR_CONFIGURE_CONTAINERD=true`, `GOSSIP_MIRROR_HOSTS_DIR`,
    /// `GOSSIP_MIRROR_MIRROR_REGISTRY=docker.io,ghcr.io`, `GOSSIP_MIRROR_PLAIN_HTTP_REGISTRY`,
    /// `GOSSIP_MIRROR_MIRROR_URL`, `GOSSIP_MIRROR_CONTAINERD_CONFIG`) and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "configure-containerd", flag: true),
        .init(name: "hosts-dir"),
        .init(name: "mirror-registry", repeatable: true),
        .init(name: "plain-http-registry", repeatable: true),
        .init(name: "mirror-url", repeatable: true),
        .init(name: "containerd-config"),
    ]

    func validate() throws {
        do {
            _ = try HostsSettings.registries(named: mirrorRegistry, plainHTTP: plainHTTPRegistry)
            _ = try HostsSettings.mirrors(mirrorURL)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The writer's settings for this run, or nil without `--configure-containerd`.
    /// `resolveTags` is `run`'s `--[no-]resolve-tags`: a node that does not
    /// resolve tags through peers tells containerd so (capability `pull` only).
    func settings(registryAddr: String, resolveTags: Bool) throws(ClientConfigError) -> HostsSettings? {
        guard configureContainerd else { return nil }
        let mirrors = mirrorURL.isEmpty ? [try MirrorEndpoint(listenAddress: registryAddr)] : try HostsSettings.mirrors(mirrorURL)
        let (registries, plainHTTP) = try HostsSettings.registries(named: mirrorRegistry, plainHTTP: plainHTTPRegistry)
        return HostsSettings(
            hostsDirectory: hostsDir, registries: registries, mirrors: mirrors, resolveTags: resolveTags,
            plainHTTPRegistries: plainHTTP)
    }

    /// Services to append to `run`'s service group: none, or one that
    /// configures on start and restores on graceful shutdown. Appended last,
    /// it is shut down first, so containerd stops using the mirror before
    /// the registry and the gossip node stop.
    func services(_ settings: HostsSettings?, logger: Logger) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let settings else { return [] }
        // Fail before starting anything when the directory is unusable.
        _ = try HostsPlan(settings)
        for note in ContainerdConfigCheck.notes(configFile: containerdConfig, hostsDirectory: hostsDir) {
            logger.notice("containerd hosts.toml: \(note)")
        }
        return [
            .init(
                service: HostsConfigurationService(settings: settings, logger: logger),
                successTerminationBehavior: .ignore)
        ]
    }
}

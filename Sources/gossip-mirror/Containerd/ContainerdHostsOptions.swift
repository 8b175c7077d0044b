import ArgumentParser
import Logging
import Registry
import ServiceLifecycle

/// The `run` options that make a node point containerd at itself while it
/// runs: `hosts.toml` files written on start and restored on SIGTERM/SIGINT.
/// The file logic is `Registry.HostsConfigurator`; this is the CLI surface
/// and the glue to the service group.
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
        help: "URL containerd uses to reach this node's registry API (default: from --registry-addr; 0.0.0.0 becomes 127.0.0.1).")
    var mirrorURL: String?

    /// For `ConfigurationSources`: the same names as environment variables
    /// (`GOSSIP_MIRROR_CONFIGURE_CONTAINERD=true`, `GOSSIP_MIRROR_HOSTS_DIR`,
    /// `GOSSIP_MIRROR_MIRROR_REGISTRY=docker.io,ghcr.io`, `GOSSIP_MIRROR_PLAIN_HTTP_REGISTRY`,
    /// `GOSSIP_MIRROR_MIRROR_URL`) and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "configure-containerd", flag: true),
        .init(name: "hosts-dir"),
        .init(name: "mirror-registry", repeatable: true),
        .init(name: "plain-http-registry", repeatable: true),
        .init(name: "mirror-url"),
    ]

    func validate() throws {
        do {
            _ = try HostsConfigurator.registries(named: mirrorRegistry, plainHTTP: plainHTTPRegistry)
            if let mirrorURL { _ = try MirrorEndpoint(validating: mirrorURL) }
        } catch {
            throw ValidationError(error.description)
        }
    }


    /// The configurator for this run, or nil without `--configure-containerd`.
    func configurator(registryAddr: String) throws(HostsConfigError) -> HostsConfigurator? {
        guard configureContainerd else { return nil }
        let mirror: MirrorEndpoint
        if let mirrorURL {
            mirror = try MirrorEndpoint(validating: mirrorURL)
        } else {
            mirror = try MirrorEndpoint(listenAddress: registryAddr)
        }
        let (registries, plainHTTP) = try HostsConfigurator.registries(named: mirrorRegistry, plainHTTP: plainHTTPRegistry)
        return HostsConfigurator(hostsDirectory: hostsDir, registries: registries, mirror: mirror, plainHTTPRegistries: plainHTTP)
    }

    /// Services to append to `run`'s service group: none, or one that
    /// configures on start and restores on graceful shutdown. Appended last,
    /// it is shut down first, so containerd stops using the mirror before
    /// the registry and the gossip node stop.
    func services(registryAddr: String, logger: Logger) throws -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let configurator = try configurator(registryAddr: registryAddr) else { return [] }
        // Fail before starting anything when the directory is unusable.
        _ = try configurator.plan()
        return [
            .init(
                service: HostsConfigurationService(configurator: configurator, logger: logger),
                successTerminationBehavior: .ignore)
        ]
    }
}

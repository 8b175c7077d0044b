import ArgumentParser
import Catalog
import Foundation
import Gossip
import Logging
import Metrics
import Prometheus
import Registry
import ServiceLifecycle

/// `gossip-mirror run`: start a node.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a mirror node: join the cluster and serve the registry API.",
        discussion: """
            Every option can also be set as GOSSIP_MIRROR_<OPTION> in the environment (e.g. \
            GOSSIP_MIRROR_GOSSIP_ADDR; repeatable options take comma-separated values) or in the YAML file \
            given with --config. The cluster key comes only from files (--key-file) or the environment \
            (GOSSIP_MIRROR_KEY, base64); there is no unencrypted mode.
            """
    )

    /// Options that may come from the environment or the config file.
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "name"), .init(name: "gossip-addr"), .init(name: "advertise-addr"), .init(name: "join", repeatable: true),
        .init(name: "key-file", repeatable: true), .init(name: "profile"), .init(name: "registry-addr"),
        .init(name: "status-addr"), .init(name: "store"), .init(name: "containerd-sock"),
        .init(name: "containerd-namespace"), .init(name: "containerd-content-root"), .init(name: "oci-layout"),
        .init(name: "oci-layout-repository"),
        .init(name: "cluster-label"), .init(name: "log-level"), .init(name: "log-format"), .init(name: "access-log", flag: true),
    ]

    @Option(help: "Member name, unique in the cluster (default: the host name).")
    var name: String?

    @Option(name: .customLong("gossip-addr"), help: "Bind address for gossip, UDP and TCP.")
    var gossipAddr = "0.0.0.0:7946"

    @Option(name: .customLong("advertise-addr"), help: "Address other members dial (default: derived from --gossip-addr).")
    var advertiseAddr: String?

    @Option(help: "Seed to join: HOST:PORT or a DNS name (port 7946 by default). Repeatable.")
    var join: [String] = []

    @Option(name: .customLong("key-file"), help: "Cluster key file. Repeatable: the first encrypts, all decrypt.")
    var keyFile: [String] = []

    @Option(help: "Protocol timing profile: lan or wan.")
    var profile = "lan"

    @Option(name: .customLong("registry-addr"), help: "OCI registry API address.")
    var registryAddr = "0.0.0.0:5000"

    @Option(name: .customLong("status-addr"), help: "Address of /metrics, /healthz, /readyz, /status and /status.json.")
    var statusAddr = "127.0.0.1:9090"

    @Option(help: "Content store: containerd or oci-layout.")
    var store = "containerd"

    @Option(name: .customLong("containerd-sock"), help: "containerd's gRPC socket.")
    var containerdSock = "/run/containerd/containerd.sock"

    @Option(name: .customLong("containerd-namespace"), help: "containerd namespace: k8s.io, moby or default.")
    var containerdNamespace = "k8s.io"

    @Option(name: .customLong("containerd-content-root"), help: "containerd's root directory (for reading blobs from disk).")
    var containerdContentRoot = "/var/lib/containerd"

    @Option(name: .customLong("oci-layout"), help: "OCI image layout directory (with --store oci-layout).")
    var ociLayout: String?

    @Option(
        name: .customLong("oci-layout-repository"),
        help: ArgumentHelp(
            "Repository that OCI layout entries named by a bare tag (or not named) belong to, e.g. docker.io/library/app.",
            discussion: "`skopeo copy ... oci:DIR:TAG` names its image by a bare tag; without this option such entries are skipped (the status page and `locate` say so)."))
    var ociLayoutRepository: String?

    @Option(name: .customLong("cluster-label"), help: "Cluster label bound into every sealed message.")
    var clusterLabel = "gossip-mirror"

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(name: .customLong("log-format"), help: "text, or json for one JSON object a line.")
    var logFormat = "text"

    @Flag(
        name: .customLong("check-config"),
        help: "Check every option and load the keys, print the result, and exit without binding or joining anything.")
    var checkConfig = false

    @Flag(
        name: .customLong("access-log"), inversion: .prefixedNo,
        help: "Log one line per registry request: path, status, source (local, peer, miss), peer, bytes, milliseconds.")
    var accessLog = true

    @Option(help: "YAML file with options (keys are option names).")
    var config: String?

    // containerd hosts.toml (--configure-containerd, --hosts-dir, --mirror-registry, --mirror-url):
    // see ClientConfiguration/ContainerdHostsOptions.swift.
    @OptionGroup(title: "Routing policy")
    var routing: RoutingOptions

    @OptionGroup(title: "containerd hosts.toml")
    var containerdHosts: ContainerdHostsOptions

    @OptionGroup(title: "HTTP limits (registry and status ports)")
    var http: HTTPOptions

    @OptionGroup(title: "Cold pulls (one upstream fetch per blob for the cluster)")
    var coldPullOptions: ColdPullOptions

    @OptionGroup(title: "Gossip limits (what a peer may make this node hold)")
    var gossipLimits: GossipLimitsOptions

    /// The profile's protocol settings with the configured limits.
    var gossipSettings: SWIM.Settings {
        var settings = SWIM.Settings.profile(named: profile) ?? .lan
        settings.limits = gossipLimits.limits
        return settings
    }

    func validate() throws {
        guard SWIM.Settings.profile(named: profile) != nil else { throw ValidationError("--profile must be lan or wan") }
        guard ["containerd", "oci-layout"].contains(store) else { throw ValidationError("--store must be containerd or oci-layout") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a log level") }
        guard LoggingSetup.Format(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json") }
        for (flag, value) in [("--gossip-addr", gossipAddr), ("--registry-addr", registryAddr), ("--status-addr", statusAddr)] {
            guard SWIM.Endpoint(parsing: value) != nil else { throw ValidationError("\(flag) must be HOST:PORT, not \(value)") }
        }
        if let advertiseAddr, SWIM.Endpoint(parsing: advertiseAddr, defaultPort: bindEndpoint.port) == nil {
            throw ValidationError("--advertise-addr must be HOST[:PORT], not \(advertiseAddr)")
        }
        _ = try ociLayoutDefaultRepository()
        if let name, !SWIM.MemberName.isValid(name) {
            throw ValidationError("--name \"\(LogText.escaped(name))\" is not a valid member name: \(SWIM.MemberName.rule)")
        }
    }

    private var bindEndpoint: SWIM.Endpoint { SWIM.Endpoint(parsing: gossipAddr)! }

    /// What `--configure-containerd` writes, or nil without it. The mirror
    /// resolves tags for containerd only if it resolves them through peers.
    func containerdHostsSettings() throws -> HostsSettings? {
        do { return try containerdHosts.settings(registryAddr: registryAddr, resolveTags: routing.resolveTags) } catch {
            throw ValidationError(error.description)
        }
    }

    /// `--oci-layout-repository` as a reference (its tag is ignored), or nil.
    func ociLayoutDefaultRepository() throws -> ImageReference? {
        guard let ociLayoutRepository else { return nil }
        guard !ociLayoutRepository.contains("@"), let reference = try? ImageReference(ociLayoutRepository) else {
            throw ValidationError("--oci-layout-repository \(ociLayoutRepository) is not a repository such as registry.local/preloaded/app")
        }
        return reference
    }

    /// The keyring from key files, then `GOSSIP_MIRROR_KEY` (comma-separated
    /// base64 keys). Of several key files, those that do not exist are
    /// skipped (removing a file is how a key is retired, and a restarted node
    /// must not fail on it); on a reload (`skipMissing`) even a single one is.
    func loadKeyring(environment: [String: String], skipMissing: Bool = false) throws -> Keyring {
        var keys: [ClusterKey] = []
        do {
            for path in keyFile {
                // A second key path may be empty until a rotation installs a
                // key there; at least one key must load (checked below).
                if keyFile.count > 1 || skipMissing, !FileManager.default.fileExists(atPath: path) { continue }
                keys.append(try ClusterKey(contentsOfFile: path))
            }
            if let inline = environment["GOSSIP_MIRROR_KEY"] {
                for text in inline.split(separator: ",") { keys.append(try ClusterKey(base64: String(text))) }
            }
        } catch {
            throw ValidationError("\(error)")
        }
        guard !keys.isEmpty else {
            throw ValidationError(
                "no cluster key: pass --key-file FILE (create one with `gossip-mirror keygen --out FILE`) or set GOSSIP_MIRROR_KEY")
        }
        return try Keyring(keys)
    }

    /// The content store the options name.
    func makeStore(logger: Logger) throws -> any ContentStore {
        switch store {
        case "oci-layout":
            guard let ociLayout else { throw ValidationError("--store oci-layout needs --oci-layout DIR") }
            do {
                return try OCILayoutStore(
                    path: ociLayout, configuration: .init(defaultRepository: try ociLayoutDefaultRepository()), logger: logger)
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("--oci-layout \(ociLayout): \(error)")
            }
        default:
            let configuration = ContainerdConfiguration(
                socketPath: containerdSock, namespace: containerdNamespace, contentRoot: containerdContentRoot)
            do { return try ContainerdStore(configuration: configuration, logger: logger) } catch {
                throw ValidationError("\(error)")
            }
        }
    }

    func run() async throws {
        if checkConfig { return try check() }
        let recent = RecentActivity()
        LoggingSetup.bootstrap(level: Logger.Level(rawValue: logLevel)!, format: LoggingSetup.Format(rawValue: logFormat)!, recent: recent)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(DocumentedMetricsFactory(registry: registry))
        BuildInfoMetric.register(in: registry)
        let logger = Logger(label: "gossip-mirror")

        let descriptors = DescriptorLimit.raiseToHardLimit()
        let environment = ProcessInfo.processInfo.environment
        let keyring = try loadKeyring(environment: environment)
        let memberName = name ?? ProcessInfo.processInfo.hostName
        guard SWIM.MemberName.isValid(memberName) else {
            throw ValidationError(
                "the host name \"\(LogText.escaped(memberName))\" is not a valid member name (\(SWIM.MemberName.rule)); pass --name")
        }
        let bind = bindEndpoint
        let advertise = advertiseAddr.flatMap { SWIM.Endpoint(parsing: $0, defaultPort: bind.port) }
        let store = try makeStore(logger: logger)
        let registryConfiguration = try routing.registryConfiguration()
        let catalog = LocalCatalog(
            store: store, configuration: .init(registryFilter: registryConfiguration.tagPolicy.filter), logger: logger)
        let configuration = GossipConfiguration(
            name: memberName, bindAddress: bind, advertiseAddress: advertise, seeds: join,
            settings: gossipSettings, keyring: keyring, label: clusterLabel,
            metadata: ["registry": registryAddr],
            merge: { base, delta in SummaryDelta.apply(delta, to: base) })
        let node: GossipNode
        do { node = try GossipNode(configuration: configuration, logger: logger) } catch {
            throw ValidationError("\(error)")
        }
        let registryMetrics = RegistryMetrics()
        let credentials = PeerCredentials(nodeName: memberName) { await node.keys }
        let router = PeerRouter(
            credentials: credentials, settings: routing.routerSettings,
            metrics: registryMetrics, logger: logger)
        let peers = router.directory
        let coldPull = ColdPull(
            settings: coldPullOptions.settings, store: store, router: router, logger: logger,
            announce: { fetching in await ColdPullService.announce(fetching, on: node) })
        let registryEndpoint = SWIM.Endpoint(parsing: registryAddr)!
        let registryServer = HTTPServer(
            host: registryEndpoint.host, port: Int(registryEndpoint.port),
            handler: RegistryHandler(
                catalog: catalog, store: store, router: router, coldPull: coldPull, metrics: registryMetrics,
                configuration: registryConfiguration, logger: logger),
            logger: logger, accessLog: accessLog, limits: http.limits, observers: [registryMetrics, recent])
        let status = SWIM.Endpoint(parsing: statusAddr)!
        let statusServer = HTTPServer(
            host: status.host, port: Int(status.port),
            handler: StatusHandler(
                node: node, catalog: catalog, locator: Locator(catalog: catalog, peers: peers),
                registryMetrics: registryMetrics, coldPull: coldPull, metrics: registry,
                access: StatusAccess(trustedNetworks: registryConfiguration.trustedNetworks, credentials: credentials),
                peers: peers, recent: recent),
            logger: logger, limits: http.limits)
        // containerd hosts.toml: last in the group, so on SIGTERM it restores the files first.
        let containerdHostsServices = try containerdHosts.services(try containerdHostsSettings(), logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: MembershipService(node: node), successTerminationBehavior: .gracefullyShutdownGroup),
                    .init(
                        service: SummaryBridge(catalog: catalog, node: node, peers: peers, logger: logger),
                        successTerminationBehavior: .ignore),
                    .init(service: ColdPullService(coldPull: coldPull, node: node), successTerminationBehavior: .ignore),
                    .init(
                        service: KeyReloadService(node: node, logger: logger) {
                            try loadKeyring(environment: ProcessInfo.processInfo.environment, skipMissing: true)
                        }, successTerminationBehavior: .ignore),
                    .init(service: HTTPService(server: registryServer), successTerminationBehavior: .ignore),
                    .init(service: HTTPService(server: statusServer), successTerminationBehavior: .ignore),
                ] + containerdHostsServices,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info(
            "starting",
            metadata: [
                "name": "\(memberName)", "keys": "\(keyring.keys.count)", "open-files": "\(descriptors)",
                "version": "\(BuildInfo.version)", "commit": "\(BuildInfo.commit ?? "unknown")",
            ])
        try await group.run()
    }

    /// `--check-config`: everything `run` checks before it binds a port,
    /// joins or reads the store; a line per setting on success.
    private func check() throws {
        let keyring = try loadKeyring(environment: ProcessInfo.processInfo.environment)
        let routing = try routing.registryConfiguration()
        _ = try containerdHosts.services(try containerdHostsSettings(), logger: Logger(label: "gossip-mirror.check"))
        _ = try ociLayoutDefaultRepository()
        if store == "oci-layout", ociLayout == nil { throw ValidationError("--store oci-layout needs --oci-layout DIR") }
        print(
            """
            configuration ok (gossip-mirror \(BuildInfo.description))
            name: \(name ?? ProcessInfo.processInfo.hostName)
            gossip: \(gossipAddr), advertised as \(advertiseAddr ?? "derived"), profile \(profile), label \(clusterLabel)
            gossip limits: \(gossipLimits.limits.maximumMembers) members, payloads up to \(gossipLimits.limits.maximumPayloadSize) bytes
            join: \(join.isEmpty ? "none" : join.joined(separator: ", "))
            keys: \(keyring.keys.count) (ids \(keyring.keys.map { String($0.id) }.joined(separator: ", ")))
            registry: \(registryAddr); status: \(statusAddr); trusted networks: \(routing.trustedNetworks.map(\.description).joined(separator: ", "))
            store: \(store == "oci-layout" ? "oci-layout \(ociLayout ?? "")" : "containerd \(containerdSock) namespace \(containerdNamespace), content \(containerdContentRoot)")
            log: \(logLevel), \(logFormat)\(accessLog ? ", access log" : "")
            """)
    }
}

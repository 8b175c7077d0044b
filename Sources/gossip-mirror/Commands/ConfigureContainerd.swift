import ArgumentParser
import Foundation
import Registry

/// `gossip-mirror configure-containerd`: point containerd at the local mirror.
struct ConfigureContainerd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configure-containerd",
        abstract: "Point containerd at the local mirror: write <hosts-dir>/<registry>/hosts.toml for each mirrored registry.",
        discussion: """
            Each file lists the mirror first (capabilities pull and resolve, or only pull with --no-resolve-tags) and \
            keeps the real registry as `server` (docker.io: https://registry-1.docker.io; others: https://<host>, or \
            http://<host> for those given with --plain-http-registry). \
            containerd tries the mirror first and falls back to the server on a 404 or a closed port, so a stopped \
            mirror does not break pulls (containerd 1.7+ also gives up connecting to the mirror after dial_timeout, 200ms). Changes apply to the next pull; containerd needs no restart.

            containerd reads these files only if its CRI registry `config_path` names --hosts-dir. In \
            /etc/containerd/config.toml (version 2): [plugins."io.containerd.grpc.v1.cri".registry] \
            config_path = "/etc/containerd/certs.d" (containerd 1.6 refuses `config_path` together with the old \
            `mirrors`/`configs` tables). `ctr images pull --hosts-dir DIR` reads them directly.

            Writes are atomic. A hosts.toml that gossip-mirror did not write is kept as hosts.toml.gossip-mirror.bak \
            and put back by `gossip-mirror cleanup`; its settings (other mirrors, ca, client, headers) do not apply \
            meanwhile. Files gossip-mirror wrote carry a marker comment, so re-running is idempotent. Invalid input or \
            an unusable directory is reported before anything is written.

            Docker Engine with the containerd image store (Engine 28.0 or later with "features": \
            {"containerd-snapshotter": true} in /etc/docker/daemon.json, or where it is already the default: see \
            `docker info`) reads this same hosts.toml format from /etc/docker/certs.d/<registry>/ for every registry: \
            use --hosts-dir /etc/docker/certs.d, and run the mirror with --containerd-namespace moby.

            Docker Engine with the classic image store ignores hosts.toml and mirrors Docker Hub only: add \
            "registry-mirrors": ["http://127.0.0.1:5000"] to /etc/docker/daemon.json and restart dockerd (loopback \
            registries may use plain HTTP without "insecure-registries"). Those requests carry no ?ns= and mean docker.io.
            """
    )

    @Option(name: .customLong("hosts-dir"), help: "containerd's registry config_path (Docker Engine with the containerd image store: /etc/docker/certs.d).")
    var hostsDir = "/etc/containerd/certs.d"

    @Option(name: .customLong("mirror-url"), help: "URL at which containerd reaches this node's mirror.")
    var mirrorURL = MirrorEndpoint.defaultURL

    @Option(
        name: .customLong("registry"),
        help: ArgumentHelp(
            "Registry host to mirror, as in image references (e.g. ghcr.io, registry.example.com:5000). Repeatable.",
            discussion: "Default: \(MirroredRegistry.defaults.map(\.name).joined(separator: ", "))."))
    var registry: [String] = []

    @Option(
        name: .customLong("plain-http-registry"),
        help: "Registry host whose upstream speaks plain HTTP, e.g. an edge site's own registry at 10.0.0.5:5000: mirrored in addition to --registry (or its default), with http:// as its server. Repeatable.")
    var plainHTTPRegistry: [String] = []

    @Flag(
        name: .customLong("include-default"), inversion: .prefixedNo,
        help: "Also write _default/hosts.toml, containerd's catch-all for registries without a directory of their own.")
    var includeDefault = false

    @Flag(
        name: .customLong("resolve-tags"), inversion: .prefixedNo,
        help: "Let the mirror resolve tags (capability `resolve`); without it containerd resolves tags upstream and fetches only by digest from the mirror.")
    var resolveTags = true

    @Flag(name: .customLong("dry-run"), help: "Print what would be written, and change nothing.")
    var dryRun = false

    @Option(help: "YAML file with options (keys are option names).")
    var config: String?

    /// For `ConfigurationSources`: environment variables and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "hosts-dir"), .init(name: "mirror-url"), .init(name: "registry", repeatable: true),
        .init(name: "plain-http-registry", repeatable: true), .init(name: "include-default", flag: true),
        .init(name: "resolve-tags", flag: true),
    ]

    func makeConfigurator() throws -> HostsConfigurator {
        do {
            var (registries, plainHTTP) = try HostsConfigurator.registries(named: registry, plainHTTP: plainHTTPRegistry)
            if includeDefault { registries.append(.catchAll) }
            return HostsConfigurator(
                hostsDirectory: hostsDir, registries: registries,
                mirror: try MirrorEndpoint(validating: mirrorURL), resolveTags: resolveTags, plainHTTPRegistries: plainHTTP)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func validate() throws { _ = try makeConfigurator() }

    func run() throws {
        let configurator = try makeConfigurator()
        if dryRun {
            for change in try configurator.plan() {
                print("dry run: would \(change.summary)")
                for note in change.notes { print("  note: \(note)") }
                if change.action != .unchanged {
                    for line in change.file.render().split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                        print("  | \(line)")
                    }
                }
            }
            return
        }
        let restoration = try configurator.apply()
        for change in restoration.changes {
            print(change.action == .unchanged ? change.summary : "\(change.summary): done")
            for note in change.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        }
    }
}

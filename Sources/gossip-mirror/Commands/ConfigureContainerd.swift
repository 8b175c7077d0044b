import ArgumentParser
import Foundation
import Registry

/// `gossip-mirror configure-containerd`: point containerd at the local mirror.
struct ConfigureContainerd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configure-containerd",
        abstract: "Point containerd at the local mirror: write <hosts-dir>/<registry>/hosts.toml for each mirrored registry.",
        discussion: """
            Each file lists the mirrors first, in the order of --mirror-url (this node first; capabilities pull and \
            resolve, or only pull with --no-resolve-tags), and keeps the real registry as `server` (docker.io: \
            https://registry-1.docker.io; others: https://<host>, or http://<host> for those given with \
            --plain-http-registry). containerd tries the mirrors in order and falls back to the server on a 404 or a \
            closed port, so a stopped mirror does not break pulls (containerd 1.7+ also gives up connecting to a \
            mirror after dial_timeout, 200ms). Changes apply to the next pull; containerd needs no restart.

            containerd reads these files only if its CRI registry `config_path` names --hosts-dir. In \
            /etc/containerd/config.toml: version 2 (containerd 1.x): [plugins."io.containerd.grpc.v1.cri".registry] \
            config_path = "/etc/containerd/certs.d"; version 3 (containerd 2.x): \
            [plugins.'io.containerd.cri.v1.images'.registry] config_path = '/etc/containerd/certs.d'. The command \
            reads --containerd-config (never writes it) and says when that key is missing. `ctr images pull \
            --hosts-dir DIR` reads the files directly.

            A hosts.toml that gossip-mirror did not write (a site mirror, TLS settings) is kept: its top-level keys \
            and its [host] entries stay in the new file, byte for byte, after the mirrors, and the file itself is \
            kept as hosts.toml.gossip-mirror.bak, which `gossip-mirror cleanup` puts back. Writes are atomic; files \
            gossip-mirror wrote carry a marker comment, so re-running is idempotent. Invalid input or an unusable \
            directory is reported before anything is written.

            Docker Engine with the containerd image store reads this same format from /etc/docker/certs.d: use \
            --hosts-dir /etc/docker/certs.d (and run the mirror with --containerd-namespace moby). Docker Engine \
            with its classic image store ignores hosts.toml and mirrors Docker Hub only: add "registry-mirrors": \
            ["http://127.0.0.1:5000"] to /etc/docker/daemon.json. Podman, Buildah, Skopeo and CRI-O: see \
            `gossip-mirror configure-containers`.
            """
    )

    @Option(name: .customLong("hosts-dir"), help: "containerd's registry config_path (Docker Engine with the containerd image store: /etc/docker/certs.d).")
    var hostsDir = "/etc/containerd/certs.d"

    @Option(
        name: .customLong("mirror-url"),
        help: ArgumentHelp(
            "URL at which containerd reaches a mirror. Repeatable: tried in this order, this node first (default \(MirrorEndpoint.defaultURL)).",
            discussion: "Further URLs can name other gossip-mirror nodes or a site cache."))
    var mirrorURL: [String] = []

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

    @Option(name: .customLong("containerd-config"), help: "containerd's config.toml, read (never written) to check its registry config_path.")
    var containerdConfig = ContainerdConfigCheck.defaultConfigFile

    @Flag(name: .customLong("dry-run"), help: "Print what would be written, and change nothing.")
    var dryRun = false

    @Option(help: "YAML file with options (keys are option names).")
    var config: String?

    /// For `ConfigurationSources`: environment variables and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "hosts-dir"), .init(name: "mirror-url", repeatable: true), .init(name: "registry", repeatable: true),
        .init(name: "plain-http-registry", repeatable: true), .init(name: "include-default", flag: true),
        .init(name: "resolve-tags", flag: true), .init(name: "containerd-config"),
    ]

    func makeSettings() throws -> HostsSettings {
        do {
            var (registries, plainHTTP) = try HostsSettings.registries(named: registry, plainHTTP: plainHTTPRegistry)
            if includeDefault { registries.append(.catchAll) }
            return HostsSettings(
                hostsDirectory: hostsDir, registries: registries,
                mirrors: try HostsSettings.mirrors(mirrorURL.isEmpty ? [MirrorEndpoint.defaultURL] : mirrorURL),
                resolveTags: resolveTags, plainHTTPRegistries: plainHTTP)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func validate() throws { _ = try makeSettings() }

    func run() throws {
        let settings = try makeSettings()
        if dryRun {
            for change in try HostsPlan(settings).changes {
                print("dry run: \(change.summary(.planned))")
                for note in change.notes { print("  note: \(note)") }
                if change.action != .unchanged {
                    for line in change.file.render().split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                        print("  | \(line)")
                    }
                }
            }
        } else {
            let restoration = try HostsTransaction.apply(settings)
            for change in restoration.changes {
                print(change.summary(.done))
                for note in change.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
            }
        }
        for note in ContainerdConfigCheck.notes(configFile: containerdConfig, hostsDirectory: hostsDir) {
            FileHandle.standardError.write(Data("note: \(note)\n".utf8))
        }
    }
}

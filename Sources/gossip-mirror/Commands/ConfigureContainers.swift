import ArgumentParser
import Foundation
import Registry

/// `gossip-mirror configure-containers`: point Podman, Buildah, Skopeo and
/// CRI-O (containers/image) at the local mirror.
struct ConfigureContainers: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configure-containers",
        abstract: "Point Podman, Buildah, Skopeo and CRI-O at the local mirror: write a registries.conf drop-in.",
        discussion: """
            Writes <registries-dir>/\(RegistriesDropIn.fileName): for each mirrored registry a [[registry]] entry whose \
            [[registry.mirror]] locations are HOST:PORT/<registry> for each --mirror-url, in order. These clients send \
            no ?ns=; the mirror reads the registry from the first path component, so one node mirrors every \
            registry. containers/image tries the mirrors in order, then the registry itself, so a stopped mirror \
            does not break pulls. No restart is needed (CRI-O reloads registries.conf on SIGHUP).

            A drop-in entry replaces the whole entry of the same prefix, so the entry in force before (from \
            --registries-conf or an earlier drop-in) is carried into the drop-in byte for byte, its mirrors after \
            gossip-mirror's; re-run this command after editing it. The file is written atomically; `gossip-mirror \
            cleanup` removes it. A file of that name that gossip-mirror did not write is left alone.

            Such a node consumes what the cluster holds but does not contribute: containers-storage keeps \
            unpacked layers, not the registry blobs with their digests.
            """
    )

    @Option(
        name: .customLong("registries-dir"),
        help: "The drop-in directory (one user's: $HOME/.config/containers/registries.conf.d).")
    var registriesDir = "/etc/containers/registries.conf.d"

    @Option(
        name: .customLong("registries-conf"),
        help: "The main registries.conf, read (never written) for entries to carry.")
    var registriesConf = "/etc/containers/registries.conf"

    @Option(
        name: .customLong("mirror-url"),
        help: "URL of a gossip-mirror node (http:// means insecure = true). Repeatable: tried in this order, this node first (default \(MirrorEndpoint.defaultURL)).")
    var mirrorURL: [String] = []

    @Option(
        name: .customLong("registry"),
        help: ArgumentHelp(
            "Registry host to mirror, as in image references (no port). Repeatable.",
            discussion: "Default: \(MirroredRegistry.defaults.map(\.name).joined(separator: ", "))."))
    var registry: [String] = []

    @Flag(
        name: .customLong("resolve-tags"), inversion: .prefixedNo,
        help: "Let the mirror resolve tags; without it the mirrors serve pulls by digest only (pull-from-mirror = \"digest-only\").")
    var resolveTags = true

    @Flag(name: .customLong("dry-run"), help: "Print what would be written, and change nothing.")
    var dryRun = false

    @Option(help: "YAML file with options (keys are option names).")
    var config: String?

    /// For `ConfigurationSources`: environment variables and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [
        .init(name: "registries-dir"), .init(name: "registries-conf"), .init(name: "mirror-url", repeatable: true),
        .init(name: "registry", repeatable: true), .init(name: "resolve-tags", flag: true),
    ]

    func makeSettings() throws -> RegistriesDropInWriter.Settings {
        do {
            let (registries, _) = try HostsSettings.registries(named: registry, plainHTTP: [])
            return RegistriesDropInWriter.Settings(
                directory: registriesDir, mainFile: registriesConf, registries: registries,
                mirrors: try HostsSettings.mirrors(mirrorURL.isEmpty ? [MirrorEndpoint.defaultURL] : mirrorURL),
                resolveTags: resolveTags)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func validate() throws { _ = try makeSettings() }

    func run() throws {
        let settings = try makeSettings()
        let change = dryRun ? try RegistriesDropInWriter.plan(settings) : try RegistriesDropInWriter.apply(settings)
        print(dryRun ? "dry run: \(change.summary(.planned))" : change.summary(.done))
        for note in change.notes {
            if dryRun { print("  note: \(note)") } else { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        }
        if dryRun, change.action != .unchanged {
            for line in String(decoding: change.file.bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                print("  | \(line)")
            }
        }
    }
}

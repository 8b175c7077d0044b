import ArgumentParser
import Foundation
import Registry

/// `gossip-mirror cleanup`: undo `configure-containerd` (and `run
/// --configure-containerd`) and `configure-containers`.
struct Cleanup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore every hosts.toml gossip-mirror wrote under --hosts-dir and remove its drop-in from --registries-dir.",
        discussion: """
            Each hosts.toml gossip-mirror wrote (recognised by its marker comment) is replaced by the file it had \
            backed up (hosts.toml.gossip-mirror.bak, the original bytes), or removed if there was none, together with \
            its directory if gossip-mirror had created it and it is now empty. The containers/image drop-in \
            (\(RegistriesDropIn.fileName)) is removed the same way. Files without the marker are never touched. \
            Running it again does nothing. Exits non-zero if a file could not be restored.
            """
    )

    @Option(name: .customLong("hosts-dir"), help: "containerd's registry config_path (Docker Engine with the containerd image store: /etc/docker/certs.d).")
    var hostsDir = "/etc/containerd/certs.d"

    @Option(name: .customLong("registries-dir"), help: "The containers/image drop-in directory configure-containers wrote to.")
    var registriesDir = "/etc/containers/registries.conf.d"

    @Flag(name: .customLong("dry-run"), help: "Print what would be restored, and change nothing.")
    var dryRun = false

    @Option(help: "YAML file with options (keys are option names).")
    var config: String?

    /// For `ConfigurationSources`: environment variables and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [.init(name: "hosts-dir"), .init(name: "registries-dir")]

    func run() throws {
        let tense: ChangeTense = dryRun ? .planned : .done
        let prefix = dryRun ? "dry run: " : ""
        let outcomes = try HostsCleanup.run(hostsDirectory: hostsDir, dryRun: dryRun)
        var failed = false
        if outcomes.isEmpty { print("nothing to restore: no hosts.toml written by gossip-mirror under \(hostsDir)") }
        for outcome in outcomes {
            if outcome.failed {
                failed = true
                FileHandle.standardError.write(Data("error: \(outcome.summary(tense))\n".utf8))
            } else {
                print(prefix + outcome.summary(tense))
            }
        }
        do {
            let dropIn = try RegistriesDropInWriter.cleanup(directory: registriesDir, dryRun: dryRun)
            if dropIn != .nothing {
                print(prefix + dropIn.summary(path: registriesDir + "/" + RegistriesDropIn.fileName, tense))
            }
        } catch {
            failed = true
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        }
        if failed { throw ExitCode.failure }
    }
}

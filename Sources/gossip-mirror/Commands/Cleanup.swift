import ArgumentParser
import Foundation
import Registry

/// `gossip-mirror cleanup`: undo `configure-containerd` (and `run --configure-containerd`).
struct Cleanup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore every hosts.toml gossip-mirror wrote under --hosts-dir.",
        discussion: """
            Each file gossip-mirror wrote (recognised by its marker comment) is replaced by the file it had backed \
            up (hosts.toml.gossip-mirror.bak, the original bytes), or removed if there was none, together with its \
            directory if gossip-mirror had created it and it is now empty. Files without the marker are never \
            touched. Running it again does nothing. Exits non-zero if a file could not be restored.
            """
    )

    @Option(name: .customLong("hosts-dir"), help: "containerd's registry config_path (Docker Engine with the containerd image store: /etc/docker/certs.d).")
    var hostsDir = "/etc/containerd/certs.d"

    @Flag(name: .customLong("dry-run"), help: "Print what would be restored, and change nothing.")
    var dryRun = false

    @Option(help: "YAML file with options (keys are option names).")
    var config: String?

    /// For `ConfigurationSources`: environment variables and YAML keys.
    static let configurableOptions: [ConfigurationSources.Option] = [.init(name: "hosts-dir")]

    func run() throws {
        let outcomes = try HostsConfigurator.cleanup(hostsDirectory: hostsDir, dryRun: dryRun)
        if outcomes.isEmpty {
            print("nothing to restore: no hosts.toml written by gossip-mirror under \(hostsDir)")
            return
        }
        var failed = false
        for outcome in outcomes {
            if case .failed = outcome.action {
                failed = true
                FileHandle.standardError.write(Data("error: \(outcome.summary)\n".utf8))
            } else {
                print(dryRun ? "dry run: \(outcome.plannedSummary)" : outcome.summary)
            }
        }
        if failed { throw ExitCode.failure }
    }
}

import ArgumentParser
import Foundation

/// The `gossip-mirror` command line. Every option of a command can also come
/// from the environment (`GOSSIP_MIRROR_<OPTION>`, e.g.
/// `GOSSIP_MIRROR_GOSSIP_ADDR`) or from a YAML file given with `--config`
/// (keys are the option names, e.g. `gossip-addr:`); the command line wins
/// over the environment, which wins over the file.
@main
struct GossipMirror: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gossip-mirror",
        abstract: "A stateless, peer-to-peer OCI registry mirror for small clusters and edge sites.",
        version: BuildInfo.description,
        subcommands: [Run.self, ConfigureContainerd.self, ConfigureContainers.self, Cleanup.self, Keygen.self, Members.self, Locate.self, Status.self]
    )

    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            let merged = try ConfigurationSources.merge(
                arguments: arguments, environment: ProcessInfo.processInfo.environment)
            var command = try parseAsRoot(merged)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

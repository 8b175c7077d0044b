import ArgumentParser
import Foundation
import Testing
import TestSupport

@testable import gossip_mirror

/// Every source of an option (flag, environment, file, the key from the
/// environment) and their precedence, through the same merge and parse
/// `main` uses.
@Suite struct ConfigurationSourcesTests {
    /// A YAML file in a scratch directory; removed by `remove()`.
    struct ConfigFile {
        let directory: ScratchDirectory
        var path: String { directory.appending("config.yaml") }

        init(_ yaml: String) throws {
            directory = try ScratchDirectory("gm-config")
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        }

        func remove() { directory.remove() }
    }

    /// Merges and parses as `gossip-mirror SUBCOMMAND ARGUMENTS` would.
    static func parse<Command: ParsableCommand>(
        _ type: Command.Type, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> Command {
        let merged = try ConfigurationSources.merge(arguments: [Command._commandName] + arguments, environment: environment)
        return try Command.parse(Array(merged.dropFirst()))
    }

    /// Merging its own output adds nothing, whatever the values hold (found
    /// by fuzzing: a value starting with a combining mark made `=` and the
    /// mark one Character, and the option was added a second time). One
    /// row per value.
    @Test(arguments: ["plain", "-dash", "\u{0487}", "\u{0301}x", "a=b", ""])
    func mergingIsIdempotent(value: String) throws {
        let file = try ConfigFile("containerd-namespace: \"\(value)\"\n")
        defer { file.remove() }
        let merged = try ConfigurationSources.merge(arguments: ["run", "--config", file.path], environment: [:])
        #expect(try ConfigurationSources.merge(arguments: merged, environment: [:]) == merged)
    }

    @Test func flagOnly() throws {
        let run = try Self.parse(Run.self, ["--gossip-addr", "10.0.0.1:7000", "--join", "a:1", "--join", "b:2"])
        #expect(run.gossipAddr == "10.0.0.1:7000")
        #expect(run.join == ["a:1", "b:2"])
    }

    @Test func environmentOnly() throws {
        let run = try Self.parse(
            Run.self, [],
            environment: [
                "GOSSIP_MIRROR_GOSSIP_ADDR": "10.0.0.2:7000", "GOSSIP_MIRROR_JOIN": "a:1, b:2",
                "GOSSIP_MIRROR_CONFIGURE_CONTAINERD": "yes", "GOSSIP_MIRROR_RESOLVE_TAGS": "false",
                "GOSSIP_MIRROR_MIRROR_URL": "http://127.0.0.1:5000,http://10.0.0.12:5000",
            ])
        #expect(run.gossipAddr == "10.0.0.2:7000")
        #expect(run.join == ["a:1", "b:2"])
        #expect(run.containerdHosts.configureContainerd)
        #expect(!run.routing.resolveTags)
        #expect(run.containerdHosts.mirrorURL == ["http://127.0.0.1:5000", "http://10.0.0.12:5000"])
    }

    @Test func fileOnly() throws {
        let file = try ConfigFile("gossip-addr: 10.0.0.3:7000\njoin: [a:1, b:2]\nconfigure-containerd: true\noci-layout-repository: registry.local/preloaded/app\n")
        defer { file.remove() }
        for arguments in [["--config", file.path], ["--config=\(file.path)"]] {
            let run = try Self.parse(Run.self, arguments)
            #expect(run.gossipAddr == "10.0.0.3:7000")
            #expect(run.join == ["a:1", "b:2"])
            #expect(run.containerdHosts.configureContainerd)
            #expect(try run.ociLayoutDefaultRepository()?.name == "registry.local/preloaded/app")
        }
        let fromEnvironment = try Self.parse(Run.self, [], environment: ["GOSSIP_MIRROR_CONFIG": file.path])
        #expect(fromEnvironment.gossipAddr == "10.0.0.3:7000")
    }

    /// One row per option given by two or three sources at once.
    static let precedence: [(arguments: [String], environment: [String: String], file: String, expected: String, name: String)] = [
        (["--gossip-addr", "1.1.1.1:1"], ["GOSSIP_MIRROR_GOSSIP_ADDR": "2.2.2.2:2"], "gossip-addr: 3.3.3.3:3", "1.1.1.1:1", "flag over both"),
        ([], ["GOSSIP_MIRROR_GOSSIP_ADDR": "2.2.2.2:2"], "gossip-addr: 3.3.3.3:3", "2.2.2.2:2", "environment over file"),
        ([], [:], "gossip-addr: 3.3.3.3:3", "3.3.3.3:3", "file alone"),
        (["--gossip-addr=1.1.1.1:1"], [:], "gossip-addr: 3.3.3.3:3", "1.1.1.1:1", "flag with = over file"),
        ([], ["GOSSIP_MIRROR_GOSSIP_ADDR": ""], "gossip-addr: 3.3.3.3:3", "3.3.3.3:3", "an empty variable is unset"),
    ]

    @Test(arguments: precedence.indices)
    func precedenceOfSources(_ row: Int) throws {
        let p = Self.precedence[row]
        let file = try ConfigFile(p.file)
        defer { file.remove() }
        let run = try Self.parse(Run.self, p.arguments + ["--config", file.path], environment: p.environment)
        #expect(run.gossipAddr == p.expected, "\(p.name)")
    }

    @Test func aFlagsNegationOnTheCommandLineWins() throws {
        let file = try ConfigFile("resolve-tags: true\n")
        defer { file.remove() }
        let run = try Self.parse(
            Run.self, ["--no-resolve-tags", "--config", file.path], environment: ["GOSSIP_MIRROR_RESOLVE_TAGS": "true"])
        #expect(!run.routing.resolveTags)
        let lists = try Self.parse(Run.self, ["--join", "x:1"], environment: ["GOSSIP_MIRROR_JOIN": "a:1,b:2"])
        #expect(lists.join == ["x:1"])
    }

    /// A file made for `run` serves `cleanup` too: it takes `hosts-dir` and
    /// ignores the keys only `run` knows.
    @Test func aRunFileServesCleanup() throws {
        let file = try ConfigFile(
            "join: [seed:7946]\nkey-file: [/etc/gossip-mirror/cluster.key]\nconfigure-containerd: true\nhosts-dir: /srv/certs.d\nregistries-dir: /srv/registries.conf.d\n")
        defer { file.remove() }
        let cleanup = try Self.parse(Cleanup.self, [], environment: ["GOSSIP_MIRROR_CONFIG": file.path])
        #expect(cleanup.hostsDir == "/srv/certs.d")
        #expect(cleanup.registriesDir == "/srv/registries.conf.d")
        let configure = try Self.parse(ConfigureContainerd.self, ["--config", file.path])
        #expect(configure.hostsDir == "/srv/certs.d")
    }

    @Test func badInputIsAClearError() throws {
        let typo = try ConfigFile("gossip-adr: 1.1.1.1:1\n")
        defer { typo.remove() }
        #expect(throws: ConfigurationSources.Failure.self) { try Self.parse(Cleanup.self, ["--config", typo.path]) }
        let list = try ConfigFile("gossip-addr: [a, b]\n")
        defer { list.remove() }
        #expect(throws: ConfigurationSources.Failure.self) { try Self.parse(Run.self, ["--config", list.path]) }
        // The same list is ignored by a command that does not take the key.
        #expect(try Self.parse(Cleanup.self, ["--config", list.path]).hostsDir == "/etc/containerd/certs.d")
        #expect(throws: ConfigurationSources.Failure.self) {
            try Self.parse(Run.self, [], environment: ["GOSSIP_MIRROR_ACCESS_LOG": "maybe"])
        }
        let notYAML = try ConfigFile("a: [\n")
        defer { notYAML.remove() }
        #expect(throws: ConfigurationSources.Failure.self) { try Self.parse(Run.self, ["--config", notYAML.path]) }
        #expect(throws: ConfigurationSources.Failure.self) { try Self.parse(Run.self, ["--config", "/nonexistent/gm.yaml"]) }
    }

    @Test func theKeyComesFromFilesOrTheEnvironment() throws {
        let key = String(repeating: "A", count: 43) + "="
        let run = try Self.parse(Run.self, [])
        #expect(try run.loadKeyring(environment: ["GOSSIP_MIRROR_KEY": key]).keys.count == 1)
        let other = String(repeating: "A", count: 42) + "E="
        #expect(try run.loadKeyring(environment: ["GOSSIP_MIRROR_KEY": "\(key),\(other)"]).keys.count == 2)
        #expect(throws: (any Error).self) { try run.loadKeyring(environment: [:]) }
        #expect(throws: (any Error).self) { try run.loadKeyring(environment: ["GOSSIP_MIRROR_KEY": "not base64"]) }
        // Not a configurable option: GOSSIP_MIRROR_KEY never becomes a flag.
        let merged = try ConfigurationSources.merge(arguments: ["run"], environment: ["GOSSIP_MIRROR_KEY": key])
        #expect(merged == ["run"])
    }
}

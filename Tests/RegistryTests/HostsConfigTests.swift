import Foundation
import Registry
import Testing

/// The hosts.toml writer, every suite (`swift test --filter HostsConfigTests`).
@Suite enum HostsConfigTests {}

extension HostsConfigTests {
    @Suite("HostsConfig: content")
    struct Content {
        @Test func dockerHubFile() throws {
            let file = HostsFile(
                registry: try MirroredRegistry(validating: "docker.io"), mirrors: [mirror],
                state: .init(backup: false, createdDirectory: true))
            #expect(
                file.render() == """
                    # Managed by gossip-mirror; do not edit. `gossip-mirror cleanup` (or stopping `gossip-mirror run --configure-containerd`) restores what was here before.
                    # gossip-mirror-state: backup=no created-directory=yes
                    server = "https://registry-1.docker.io"

                    [host."http://127.0.0.1:5000"]
                      capabilities = ["pull", "resolve"]
                      dial_timeout = "200ms"

                    """)
            #expect(HostsFile.state(of: file.bytes) == .init(backup: false, createdDirectory: true))
        }

        @Test func privateRegistryWithPortAndPullOnly() throws {
            let file = HostsFile(
                registry: try MirroredRegistry(validating: "registry.example.com:5000"),
                mirrors: [try MirrorEndpoint(validating: "HTTP://10.0.0.7:5000/")], resolveTags: false,
                state: .init(backup: true, createdDirectory: false))
            let lines = file.render().split(separator: "\n").map(String.init)
            #expect(lines.dropFirst(1).first == "# gossip-mirror-state: backup=yes created-directory=no")
            #expect(lines.contains(#"server = "https://registry.example.com:5000""#))
            #expect(lines.contains(#"[host."http://10.0.0.7:5000"]"#))
            #expect(lines.contains(#"  capabilities = ["pull"]"#))
            #expect(HostsFile.state(of: file.bytes) == .init(backup: true, createdDirectory: false))
        }

        @Test func catchAllAndLoopbackKeepContainerdsDefaultServer() throws {
            for name in ["_default", "localhost:5001", "127.0.0.1:5001"] {
                let text = HostsFile(registry: try MirroredRegistry(validating: name), mirrors: [mirror]).render()
                #expect(!text.contains("server ="), "\(name)")
                #expect(text.contains(#"[host."http://127.0.0.1:5000"]"#))
            }
            #expect(try MirroredRegistry(validating: "ghcr.io").upstreamServer == "https://ghcr.io")
            #expect(try MirroredRegistry(validating: "[fd00::1]:5000").upstreamServer == "https://[fd00::1]:5000")
        }

        @Test func plainHTTPUpstreamIsNamedAsTheServer() throws {
            for name in ["10.0.0.5:5000", "registry.site.local", "localhost:5001"] {
                let file = HostsFile(registry: try MirroredRegistry(validating: name), mirrors: [mirror], plainHTTP: true)
                let lines = file.render().split(separator: "\n").map(String.init)
                #expect(lines.contains("server = \"http://\(name)\""), "\(name)")
                #expect(lines.contains(#"[host."http://127.0.0.1:5000"]"#))
            }
            // The catch-all has no server of its own, plain HTTP or not.
            #expect(!HostsFile(registry: .catchAll, mirrors: [mirror], plainHTTP: true).render().contains("server ="))
            // Neither it nor Docker Hub can be named as a plain-HTTP upstream.
            for name in ["_default", "docker.io"] {
                #expect(throws: ClientConfigError.self, "\(name)") { try MirroredRegistry(validatingPlainHTTP: name) }
            }
            // TLS certificates found in the directory are not named for a plain-HTTP server.
            let withCertificates = HostsFile(
                registry: try MirroredRegistry(validating: "10.0.0.5:5000"), mirrors: [mirror], plainHTTP: true,
                certificates: DockerCertificates(fileNames: ["ca.crt"]))
            #expect(!withCertificates.render().contains("ca = "))
        }

        @Test func dockerStyleCertificatesAreNamed() throws {
            let certificates = DockerCertificates(fileNames: ["ca.crt", "client.cert", "client.key", "lone.cert", "README"])
            #expect(certificates.authorities == ["ca.crt"])
            #expect(certificates.clientPairs == [["client.cert", "client.key"], ["lone.cert", "lone.cert"]])
            let text = HostsFile(
                registry: try MirroredRegistry(validating: "registry.example.com"), mirrors: [mirror], certificates: certificates
            ).render()
            #expect(text.contains(#"ca = ["ca.crt"]"#))
            #expect(text.contains(#"client = [["client.cert", "client.key"], ["lone.cert", "lone.cert"]]"#))
        }

        @Test func foreignFilesAreNotRecognisedAsOurs() {
            #expect(HostsFile.state(of: Array(foreignDockerHub.utf8)) == nil)
            #expect(HostsFile.state(of: Array("# gossip-mirror-state: backup=yes\nserver = \"x\"\n".utf8)) == nil)
            #expect(HostsFile.state(of: []) == nil)
        }

        @Test(arguments: [
            "", "https://docker.io", "docker.io/library", "..", ".", "-bad.example.com", "bad-.example.com", "a..b",
            "host:0", "host:65536", "host:http", "fd00::1", "[fd00::1", "[zz::1]:5000", "under_score.io", "sp ace.io",
        ])
        func invalidRegistriesAreRefused(_ name: String) {
            #expect(throws: ClientConfigError.self) { try MirroredRegistry(validating: name) }
        }

        @Test(arguments: ["docker.io", "registry.k8s.io", "registry.example.com:5000", "10.1.2.3:5000", "[fd00::1]:5000", "_default", "localhost"])
        func validRegistriesAreAccepted(_ name: String) throws {
            #expect(try MirroredRegistry(validating: name).name == name)
        }

        @Test(arguments: [
            "", "127.0.0.1:5000", "ftp://127.0.0.1", "http://", "http://127.0.0.1:5000?x=1", "http://127.0.0.1:5000#f",
            "http://user@127.0.0.1:5000", "http://127.0.0.1:5000/\"", "http://127.0.0.1:99999", "http://a b", "http://_default",
            "http://127.0.0.1:5000/../x",
        ])
        func invalidMirrorURLsAreRefused(_ url: String) {
            #expect(throws: ClientConfigError.self) { try MirrorEndpoint(validating: url) }
        }

        @Test func mirrorFromListenAddress() throws {
            #expect(try MirrorEndpoint(listenAddress: "0.0.0.0:5000").url == "http://127.0.0.1:5000")
            #expect(try MirrorEndpoint(listenAddress: ":5000").url == "http://127.0.0.1:5000")
            #expect(try MirrorEndpoint(listenAddress: "[::]:5000").url == "http://[::1]:5000")
            #expect(try MirrorEndpoint(listenAddress: "10.0.0.7:5001").url == "http://10.0.0.7:5001")
            #expect(try MirrorEndpoint(listenAddress: "[fd00::7]:5000").url == "http://[fd00::7]:5000")
            #expect(throws: ClientConfigError.self) { try MirrorEndpoint(listenAddress: "0.0.0.0") }
        }
    }

    @Suite("HostsConfig: files")
    struct Files {
        @Test func createsDirectoriesAndFiles() throws {
            let root = try TemporaryHostsDirectory()
            let restoration = try HostsTransaction.apply(hostsSettings(root, ["docker.io", "registry.example.com:5000"]))
            #expect(restoration.changes.map(\.action) == [.create(directory: true), .create(directory: true)])
            let docker = try #require(root.read("docker.io", "hosts.toml"))
            #expect(docker.contains(#"server = "https://registry-1.docker.io""#))
            #expect(docker.contains("created-directory=yes"))
            let registry = try #require(root.read("registry.example.com:5000", "hosts.toml"))
            #expect(registry.contains(#"server = "https://registry.example.com:5000""#))
            #expect(root.mode("docker.io", "hosts.toml") == 0o644)
            // Only the two files: no temporary files or backups left behind.
            #expect(Set(root.snapshot().keys) == ["docker.io", "docker.io/hosts.toml", "registry.example.com:5000", "registry.example.com:5000/hosts.toml"])
        }

        @Test func plainHTTPRegistriesAreMirroredBesideTheOthers() throws {
            let root = try TemporaryHostsDirectory()
            let settings = HostsSettings(
                hostsDirectory: root.path,
                registries: try ["docker.io", "registry.site:5000"].map { try MirroredRegistry(validating: $0) }, mirrors: [mirror],
                plainHTTPRegistries: try ["10.0.0.5:5000", "registry.site:5000"].map { try MirroredRegistry(validating: $0) })
            #expect(settings.registries.map(\.name) == ["docker.io", "registry.site:5000", "10.0.0.5:5000"])
            _ = try HostsTransaction.apply(settings)
            #expect(try #require(root.read("docker.io", "hosts.toml")).contains(#"server = "https://registry-1.docker.io""#))
            #expect(try #require(root.read("10.0.0.5:5000", "hosts.toml")).contains(#"server = "http://10.0.0.5:5000""#))
            // Named in both lists: plain HTTP wins.
            #expect(try #require(root.read("registry.site:5000", "hosts.toml")).contains(#"server = "http://registry.site:5000""#))
        }

        @Test func replacesForeignFileAtomicallyWithBackup() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml", mode: 0o600)
            let restoration = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            #expect(restoration.changes.map(\.action) == [.replace(replacingOlderBackup: false)])
            #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == foreignDockerHub)
            #expect(root.mode("docker.io", "hosts.toml.gossip-mirror.bak") == 0o600)
            let ours = try #require(root.read("docker.io", "hosts.toml"))
            #expect(ours.contains("backup=yes created-directory=no"))
            #expect(ours.contains(#"[host."http://127.0.0.1:5000"]"#))
            // The site's entry is kept, after the mirror.
            #expect(ours.contains(#"[host."https://corporate-mirror.example.com"]"#))
            #expect(Set(root.snapshot().keys) == ["docker.io", "docker.io/hosts.toml", "docker.io/hosts.toml.gossip-mirror.bak"])
        }

        @Test func rerunIsIdempotent() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            let settings = try hostsSettings(root, ["docker.io", "ghcr.io"])
            _ = try HostsTransaction.apply(settings)
            let first = root.snapshot()
            let again = try HostsTransaction.apply(settings)
            #expect(again.changes.map(\.action) == [.unchanged, .unchanged])
            #expect(root.snapshot() == first)
            // The backup still holds the original, not gossip-mirror's own file.
            #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == foreignDockerHub)
            // A changed setting rewrites only the content, keeping the recorded state.
            let pullOnly = HostsSettings(
                hostsDirectory: root.path, registries: settings.registries, mirrors: [mirror], resolveTags: false)
            #expect(try HostsTransaction.apply(pullOnly).changes.map(\.action) == [.update, .update])
            #expect(root.read("docker.io", "hosts.toml")?.contains("backup=yes created-directory=no") == true)
            #expect(root.read("ghcr.io", "hosts.toml")?.contains("backup=no created-directory=yes") == true)
            #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == foreignDockerHub)
        }

        @Test func cleanupRestoresOriginalBytesExactly() throws {
            let root = try TemporaryHostsDirectory()
            let original = foreignDockerHub + "# trailing comment without newline"
            try root.write(original, to: "docker.io", "hosts.toml", mode: 0o640)
            try root.write("keep me\n", to: "quay.io", "ca.crt")
            let before = root.snapshot()
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io", "ghcr.io", "quay.io"]))
            #expect(root.read("quay.io", "hosts.toml")?.contains(#"ca = ["ca.crt"]"#) == true)

            let outcomes = try HostsCleanup.run(hostsDirectory: root.path)
            #expect(
                Set(outcomes.map { "\(($0.directory as NSString).lastPathComponent) \($0.action)" }) == [
                    "docker.io restoredBackup", "ghcr.io removed(directory: true)", "quay.io removed(directory: false)",
                ])
            #expect(root.snapshot() == before)
            #expect(root.read("docker.io", "hosts.toml") == original)
            #expect(root.mode("docker.io", "hosts.toml") == 0o640)

            // Again: nothing left to do, nothing changes.
            #expect(try HostsCleanup.run(hostsDirectory: root.path).isEmpty)
            #expect(root.snapshot() == before)
        }

        @Test func restorationUndoesOnlyWhatApplyCovered() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            let restoration = try HostsTransaction.apply(hostsSettings(root, ["docker.io", "ghcr.io"]))
            let outcomes = restoration.restore()
            #expect(outcomes.map(\.action) == [.restoredBackup, .removed(directory: true)])
            #expect(root.read("docker.io", "hosts.toml") == foreignDockerHub)
            #expect(!root.exists("ghcr.io"))
            #expect(restoration.restore().map(\.action) == [.notOurs, .nothing])
            #expect(root.read("docker.io", "hosts.toml") == foreignDockerHub)
        }

        @Test func foreignFilesAreNeverTouched() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "quay.io", "hosts.toml")
            try root.write("server = \"https://other\"\n", to: "_default", "hosts.toml")
            let restoration = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            #expect(restoration.changes[0].notes.contains { $0.contains("_default/hosts.toml no longer applies to docker.io") })
            // Someone rewrites gossip-mirror's file after it was written: it is theirs now.
            try root.write("server = \"https://mine\"\n", to: "docker.io", "hosts.toml")
            let before = root.snapshot()
            #expect(try HostsCleanup.run(hostsDirectory: root.path).isEmpty)
            #expect(restoration.restore().map(\.action) == [.notOurs])
            #expect(root.snapshot() == before)
        }

        @Test func newerForeignFileSupersedesOlderBackup() throws {
            let root = try TemporaryHostsDirectory()
            try root.write("server = \"https://first\"\n", to: "docker.io", "hosts.toml")
            let settings = try hostsSettings(root, ["docker.io"])
            _ = try HostsTransaction.apply(settings)
            // A configuration tool writes its file again while ours was in place.
            try root.write("server = \"https://second\"\n", to: "docker.io", "hosts.toml")
            let again = try HostsTransaction.apply(settings)
            #expect(again.changes.map(\.action) == [.replace(replacingOlderBackup: true)])
            #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == "server = \"https://second\"\n")
            _ = try HostsCleanup.run(hostsDirectory: root.path)
            #expect(root.read("docker.io", "hosts.toml") == "server = \"https://second\"\n")
            #expect(!root.exists("docker.io", "hosts.toml.gossip-mirror.bak"))
        }

        @Test func missingBackupStillRemovesOurFile() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            try FileManager.default.removeItem(atPath: root.url("docker.io", "hosts.toml.gossip-mirror.bak"))
            let outcomes = try HostsCleanup.run(hostsDirectory: root.path)
            #expect(outcomes.map(\.action) == [.removedBackupMissing])
            #expect(!root.exists("docker.io", "hosts.toml"))
            #expect(root.exists("docker.io"))
        }

        @Test func createdDirectoryIsKeptWhenNotEmpty() throws {
            let root = try TemporaryHostsDirectory()
            _ = try HostsTransaction.apply(hostsSettings(root, ["ghcr.io"]))
            try root.write("added later\n", to: "ghcr.io", "ca.crt")
            let outcomes = try HostsCleanup.run(hostsDirectory: root.path)
            #expect(outcomes.map(\.action) == [.removed(directory: false)])
            #expect(root.snapshot() == ["ghcr.io": "<dir>", "ghcr.io/ca.crt": "added later\n"])
        }

        @Test func existingPortDirectorySpellingIsUsed() throws {
            let root = try TemporaryHostsDirectory()
            try FileManager.default.createDirectory(atPath: root.url("registry.example.com_5000_"), withIntermediateDirectories: false)
            let restoration = try HostsTransaction.apply(hostsSettings(root, ["registry.example.com:5000"]))
            #expect(restoration.changes.map(\.action) == [.create(directory: false)])
            #expect(root.exists("registry.example.com_5000_", "hosts.toml"))
            #expect(!root.exists("registry.example.com:5000"))
        }

        @Test func dryRunPlanChangesNothing() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            let before = root.snapshot()
            let plan = try HostsPlan(hostsSettings(root, ["docker.io", "ghcr.io"])).changes
            #expect(plan.map(\.action) == [.replace(replacingOlderBackup: false), .create(directory: true)])
            #expect(root.snapshot() == before)
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io", "ghcr.io"]))
            let applied = root.snapshot()
            #expect(try HostsCleanup.run(hostsDirectory: root.path, dryRun: true).count == 2)
            #expect(root.snapshot() == applied)
        }
    }
}

import Foundation
import Registry
import Testing

/// A fresh directory under the system temporary directory, removed afterwards.
private final class TemporaryHostsDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("hosts-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func url(_ components: String...) -> String {
        components.reduce(path) { $0 + "/" + $1 }
    }

    func write(_ text: String, to components: String..., mode: Int = 0o644) throws {
        let file = components.reduce(path) { $0 + "/" + $1 }
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    }

    func read(_ components: String...) -> String? {
        let file = components.reduce(path) { $0 + "/" + $1 }
        return FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ components: String...) -> Bool {
        FileManager.default.fileExists(atPath: components.reduce(path) { $0 + "/" + $1 })
    }

    /// Every file and directory below the root with its bytes: a fingerprint
    /// to show that nothing changed.
    func snapshot() -> [String: String] {
        var result: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return result }
        while let relative = walker.nextObject() as? String {
            let full = path + "/" + relative
            var isDirectory: ObjCBool = false
            let attributes = try? FileManager.default.attributesOfItem(atPath: full)
            if (attributes?[.type] as? FileAttributeType) == .typeSymbolicLink {
                result[relative] = "-> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? "?")
                walker.skipDescendants()
            } else if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                result[relative] = "<dir>"
            } else {
                result[relative] = FileManager.default.contents(atPath: full).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            }
        }
        return result
    }

    func mode(_ components: String...) -> Int? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: components.reduce(path) { $0 + "/" + $1 })
        return (attributes?[.posixPermissions] as? NSNumber)?.intValue
    }
}

private let mirror = try! MirrorEndpoint(validating: "http://127.0.0.1:5000")

private func configurator(_ directory: TemporaryHostsDirectory, _ registries: [String], resolveTags: Bool = true) throws
    -> HostsConfigurator
{
    HostsConfigurator(
        hostsDirectory: directory.path, registries: try registries.map { try MirroredRegistry(validating: $0) },
        mirror: mirror, resolveTags: resolveTags)
}

private let foreignDockerHub = """
    server = "https://registry-1.docker.io"

    [host."https://corporate-mirror.example.com"]
      capabilities = ["pull", "resolve"]
      ca = "/etc/ssl/corporate.pem"

    """

@Suite("HostsConfig: content")
struct HostsConfigContentTests {
    @Test func dockerHubFile() throws {
        let file = HostsFile(
            registry: try MirroredRegistry(validating: "docker.io"), mirror: mirror,
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
            mirror: try MirrorEndpoint(validating: "HTTP://10.0.0.7:5000/"), resolveTags: false,
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
            let text = HostsFile(registry: try MirroredRegistry(validating: name), mirror: mirror).render()
            #expect(!text.contains("server ="), "\(name)")
            #expect(text.contains(#"[host."http://127.0.0.1:5000"]"#))
        }
        #expect(try MirroredRegistry(validating: "ghcr.io").upstreamServer == "https://ghcr.io")
        #expect(try MirroredRegistry(validating: "[fd00::1]:5000").upstreamServer == "https://[fd00::1]:5000")
    }

    @Test func plainHTTPUpstreamIsNamedAsTheServer() throws {
        for name in ["10.0.0.5:5000", "registry.site.local", "localhost:5001"] {
            let file = HostsFile(registry: try MirroredRegistry(validating: name), mirror: mirror, plainHTTP: true)
            let lines = file.render().split(separator: "\n").map(String.init)
            #expect(lines.contains("server = \"http://\(name)\""), "\(name)")
            #expect(lines.contains(#"[host."http://127.0.0.1:5000"]"#))
        }
        // The catch-all has no server of its own, plain HTTP or not.
        #expect(!HostsFile(registry: .catchAll, mirror: mirror, plainHTTP: true).render().contains("server ="))
        // Neither it nor Docker Hub can be named as a plain-HTTP upstream.
        for name in ["_default", "docker.io"] {
            #expect(throws: HostsConfigError.self, "\(name)") { try MirroredRegistry(validatingPlainHTTP: name) }
        }
        // TLS certificates found in the directory are not named for a plain-HTTP server.
        let withCertificates = HostsFile(
            registry: try MirroredRegistry(validating: "10.0.0.5:5000"), mirror: mirror, plainHTTP: true,
            certificates: HostsFile.Certificates(fileNames: ["ca.crt"]))
        #expect(!withCertificates.render().contains("ca = "))
    }

    @Test func dockerStyleCertificatesAreNamed() throws {
        let certificates = HostsFile.Certificates(fileNames: ["ca.crt", "client.cert", "client.key", "lone.cert", "README"])
        #expect(certificates.authorities == ["ca.crt"])
        #expect(certificates.clientPairs == [["client.cert", "client.key"], ["lone.cert", "lone.cert"]])
        let text = HostsFile(
            registry: try MirroredRegistry(validating: "registry.example.com"), mirror: mirror, certificates: certificates
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
        #expect(throws: HostsConfigError.self) { try MirroredRegistry(validating: name) }
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
        #expect(throws: HostsConfigError.self) { try MirrorEndpoint(validating: url) }
    }

    @Test func mirrorFromListenAddress() throws {
        #expect(try MirrorEndpoint(listenAddress: "0.0.0.0:5000").url == "http://127.0.0.1:5000")
        #expect(try MirrorEndpoint(listenAddress: ":5000").url == "http://127.0.0.1:5000")
        #expect(try MirrorEndpoint(listenAddress: "[::]:5000").url == "http://[::1]:5000")
        #expect(try MirrorEndpoint(listenAddress: "10.0.0.7:5001").url == "http://10.0.0.7:5001")
        #expect(try MirrorEndpoint(listenAddress: "[fd00::7]:5000").url == "http://[fd00::7]:5000")
        #expect(throws: HostsConfigError.self) { try MirrorEndpoint(listenAddress: "0.0.0.0") }
    }
}

@Suite("HostsConfig: files")
struct HostsConfigFileTests {
    @Test func createsDirectoriesAndFiles() throws {
        let root = try TemporaryHostsDirectory()
        let restoration = try configurator(root, ["docker.io", "registry.example.com:5000"]).apply()
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
        let configurator = HostsConfigurator(
            hostsDirectory: root.path,
            registries: try ["docker.io", "registry.site:5000"].map { try MirroredRegistry(validating: $0) }, mirror: mirror,
            plainHTTPRegistries: try ["10.0.0.5:5000", "registry.site:5000"].map { try MirroredRegistry(validating: $0) })
        #expect(configurator.registries.map(\.name) == ["docker.io", "registry.site:5000", "10.0.0.5:5000"])
        _ = try configurator.apply()
        #expect(try #require(root.read("docker.io", "hosts.toml")).contains(#"server = "https://registry-1.docker.io""#))
        #expect(try #require(root.read("10.0.0.5:5000", "hosts.toml")).contains(#"server = "http://10.0.0.5:5000""#))
        // Named in both lists: plain HTTP wins.
        #expect(try #require(root.read("registry.site:5000", "hosts.toml")).contains(#"server = "http://registry.site:5000""#))
    }

    @Test func replacesForeignFileAtomicallyWithBackup() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(foreignDockerHub, to: "docker.io", "hosts.toml", mode: 0o600)
        let restoration = try configurator(root, ["docker.io"]).apply()
        #expect(restoration.changes.map(\.action) == [.replace(replacingOlderBackup: false)])
        #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == foreignDockerHub)
        #expect(root.mode("docker.io", "hosts.toml.gossip-mirror.bak") == 0o600)
        let ours = try #require(root.read("docker.io", "hosts.toml"))
        #expect(ours.contains("backup=yes created-directory=no"))
        #expect(ours.contains(#"[host."http://127.0.0.1:5000"]"#))
        #expect(Set(root.snapshot().keys) == ["docker.io", "docker.io/hosts.toml", "docker.io/hosts.toml.gossip-mirror.bak"])
    }

    @Test func rerunIsIdempotent() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
        let configurator = try configurator(root, ["docker.io", "ghcr.io"])
        _ = try configurator.apply()
        let first = root.snapshot()
        let again = try configurator.apply()
        #expect(again.changes.map(\.action) == [.unchanged, .unchanged])
        #expect(root.snapshot() == first)
        // The backup still holds the original, not gossip-mirror's own file.
        #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == foreignDockerHub)
        // A changed setting rewrites only the content, keeping the recorded state.
        let pullOnly = HostsConfigurator(
            hostsDirectory: root.path, registries: configurator.registries, mirror: mirror, resolveTags: false)
        #expect(try pullOnly.apply().changes.map(\.action) == [.update, .update])
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
        _ = try configurator(root, ["docker.io", "ghcr.io", "quay.io"]).apply()
        #expect(root.read("quay.io", "hosts.toml")?.contains(#"ca = ["ca.crt"]"#) == true)

        let outcomes = try HostsConfigurator.cleanup(hostsDirectory: root.path)
        #expect(
            Set(outcomes.map { "\(($0.directory as NSString).lastPathComponent) \($0.action)" }) == [
                "docker.io restoredBackup", "ghcr.io removed(directory: true)", "quay.io removed(directory: false)",
            ])
        #expect(root.snapshot() == before)
        #expect(root.read("docker.io", "hosts.toml") == original)
        #expect(root.mode("docker.io", "hosts.toml") == 0o640)

        // Again: nothing left to do, nothing changes.
        #expect(try HostsConfigurator.cleanup(hostsDirectory: root.path).isEmpty)
        #expect(root.snapshot() == before)
    }

    @Test func restorationUndoesOnlyWhatApplyCovered() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
        let restoration = try configurator(root, ["docker.io", "ghcr.io"]).apply()
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
        let restoration = try configurator(root, ["docker.io"]).apply()
        #expect(restoration.changes[0].notes.contains { $0.contains("_default/hosts.toml no longer applies to docker.io") })
        // Someone rewrites gossip-mirror's file after it was written: it is theirs now.
        try root.write("server = \"https://mine\"\n", to: "docker.io", "hosts.toml")
        let before = root.snapshot()
        #expect(try HostsConfigurator.cleanup(hostsDirectory: root.path).isEmpty)
        #expect(restoration.restore().map(\.action) == [.notOurs])
        #expect(root.snapshot() == before)
    }

    @Test func newerForeignFileSupersedesOlderBackup() throws {
        let root = try TemporaryHostsDirectory()
        try root.write("server = \"https://first\"\n", to: "docker.io", "hosts.toml")
        let configurator = try configurator(root, ["docker.io"])
        _ = try configurator.apply()
        // A configuration tool writes its file again while ours was in place.
        try root.write("server = \"https://second\"\n", to: "docker.io", "hosts.toml")
        let again = try configurator.apply()
        #expect(again.changes.map(\.action) == [.replace(replacingOlderBackup: true)])
        #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == "server = \"https://second\"\n")
        _ = try HostsConfigurator.cleanup(hostsDirectory: root.path)
        #expect(root.read("docker.io", "hosts.toml") == "server = \"https://second\"\n")
        #expect(!root.exists("docker.io", "hosts.toml.gossip-mirror.bak"))
    }

    @Test func missingBackupStillRemovesOurFile() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
        _ = try configurator(root, ["docker.io"]).apply()
        try FileManager.default.removeItem(atPath: root.url("docker.io", "hosts.toml.gossip-mirror.bak"))
        let outcomes = try HostsConfigurator.cleanup(hostsDirectory: root.path)
        #expect(outcomes.map(\.action) == [.removedBackupMissing])
        #expect(!root.exists("docker.io", "hosts.toml"))
        #expect(root.exists("docker.io"))
    }

    @Test func createdDirectoryIsKeptWhenNotEmpty() throws {
        let root = try TemporaryHostsDirectory()
        _ = try configurator(root, ["ghcr.io"]).apply()
        try root.write("added later\n", to: "ghcr.io", "ca.crt")
        let outcomes = try HostsConfigurator.cleanup(hostsDirectory: root.path)
        #expect(outcomes.map(\.action) == [.removed(directory: false)])
        #expect(root.snapshot() == ["ghcr.io": "<dir>", "ghcr.io/ca.crt": "added later\n"])
    }

    @Test func existingPortDirectorySpellingIsUsed() throws {
        let root = try TemporaryHostsDirectory()
        try FileManager.default.createDirectory(atPath: root.url("registry.example.com_5000_"), withIntermediateDirectories: false)
        let restoration = try configurator(root, ["registry.example.com:5000"]).apply()
        #expect(restoration.changes.map(\.action) == [.create(directory: false)])
        #expect(root.exists("registry.example.com_5000_", "hosts.toml"))
        #expect(!root.exists("registry.example.com:5000"))
    }

    @Test func dryRunPlanChangesNothing() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
        let before = root.snapshot()
        let plan = try configurator(root, ["docker.io", "ghcr.io"]).plan()
        #expect(plan.map(\.action) == [.replace(replacingOlderBackup: false), .create(directory: true)])
        #expect(root.snapshot() == before)
        _ = try configurator(root, ["docker.io", "ghcr.io"]).apply()
        let applied = root.snapshot()
        #expect(try HostsConfigurator.cleanup(hostsDirectory: root.path, dryRun: true).count == 2)
        #expect(root.snapshot() == applied)
    }
}

@Suite("HostsConfig: bad input changes nothing")
struct HostsConfigFailureTests {
    @Test func missingHostsDirectory() throws {
        let root = try TemporaryHostsDirectory()
        let missing = root.url("not-there")
        let configurator = HostsConfigurator(hostsDirectory: missing, registries: MirroredRegistry.defaults, mirror: mirror)
        #expect(throws: HostsConfigError.hostsDirectoryMissing(missing)) { try configurator.apply() }
        #expect(root.snapshot().isEmpty)
        #expect(try HostsConfigurator.cleanup(hostsDirectory: missing).isEmpty)
    }

    @Test func registryPathIsAFile() throws {
        let root = try TemporaryHostsDirectory()
        try root.write("not a directory\n", to: "ghcr.io")
        let before = root.snapshot()
        #expect(throws: HostsConfigError.notADirectory(root.url("ghcr.io"))) {
            try configurator(root, ["docker.io", "ghcr.io"]).apply()
        }
        #expect(root.snapshot() == before)
    }

    @Test func hostsTomlIsADirectory() throws {
        let root = try TemporaryHostsDirectory()
        try FileManager.default.createDirectory(atPath: root.url("quay.io", "hosts.toml"), withIntermediateDirectories: true)
        let before = root.snapshot()
        #expect(throws: HostsConfigError.notAFile(root.url("quay.io", "hosts.toml"))) {
            try configurator(root, ["docker.io", "quay.io"]).apply()
        }
        #expect(root.snapshot() == before)
    }

    /// A registry directory where files cannot be created (procfs). As root
    /// the permission check passes and the write itself fails, so this also
    /// covers the roll-back of files already written.
    @Test func unwritableDirectoryRollsBack() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
        try FileManager.default.createSymbolicLink(atPath: root.url("zz.example.com"), withDestinationPath: "/proc/self/fdinfo")
        let before = root.snapshot()
        let error = #expect(throws: HostsConfigError.self) {
            try configurator(root, ["docker.io", "ghcr.io", "zz.example.com"]).apply()
        }
        switch error {
        case .rolledBack(let underlying, let leftBehind)?:
            // Root: docker.io and ghcr.io were written, then undone.
            #expect(leftBehind.isEmpty)
            #expect(underlying.description.contains("zz.example.com"))
        case .notWritable(let path, _)?:
            // Not root: refused before writing anything.
            #expect(path.hasSuffix("zz.example.com"))
        default:
            Issue.record("unexpected error \(String(describing: error))")
        }
        #expect(root.snapshot() == before)
        #expect(root.read("docker.io", "hosts.toml") == foreignDockerHub)
    }

    @Test func unwritableHostsDirectory() throws {
        let configurator = HostsConfigurator(
            hostsDirectory: "/proc/self/fdinfo", registries: [try MirroredRegistry(validating: "docker.io")], mirror: mirror)
        #expect(throws: HostsConfigError.self) { try configurator.apply() }
        #expect(!FileManager.default.fileExists(atPath: "/proc/self/fdinfo/docker.io"))
    }

    @Test func errorsNameTheProblem() throws {
        #expect(throws: HostsConfigError.invalidRegistry("https://ghcr.io", reason: "give the registry host as it appears in image references (e.g. ghcr.io), not a URL")) {
            try MirroredRegistry(validating: "https://ghcr.io")
        }
        let error = HostsConfigError.hostsDirectoryMissing("/etc/containerd/certs.d")
        #expect(error.description.contains("/etc/containerd/certs.d does not exist"))
        let empty = HostsConfigurator(hostsDirectory: "/tmp", registries: [], mirror: mirror)
        #expect(throws: HostsConfigError.noRegistries) { try empty.apply() }
    }
}

import Foundation
import Registry
import Testing

extension HostsConfigTests {
    @Suite("HostsConfig: bad input changes nothing")
    struct Failures {
        @Test func missingHostsDirectory() throws {
            let root = try TemporaryHostsDirectory()
            let missing = root.url("not-there")
            let settings = HostsSettings(hostsDirectory: missing, registries: MirroredRegistry.defaults, mirrors: [mirror])
            #expect(throws: ClientConfigError.hostsDirectoryMissing(missing)) { try HostsTransaction.apply(settings) }
            #expect(root.snapshot().isEmpty)
            #expect(try HostsCleanup.run(hostsDirectory: missing).isEmpty)
        }

        @Test func registryPathIsAFile() throws {
            let root = try TemporaryHostsDirectory()
            try root.write("not a directory\n", to: "ghcr.io")
            let before = root.snapshot()
            #expect(throws: ClientConfigError.notADirectory(root.url("ghcr.io"))) {
                try HostsTransaction.apply(hostsSettings(root, ["docker.io", "ghcr.io"]))
            }
            #expect(root.snapshot() == before)
        }

        @Test func hostsTomlIsADirectory() throws {
            let root = try TemporaryHostsDirectory()
            try FileManager.default.createDirectory(atPath: root.url("quay.io", "hosts.toml"), withIntermediateDirectories: true)
            let before = root.snapshot()
            #expect(throws: ClientConfigError.notAFile(root.url("quay.io", "hosts.toml"))) {
                try HostsTransaction.apply(hostsSettings(root, ["docker.io", "quay.io"]))
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
            let error = #expect(throws: ClientConfigError.self) {
                try HostsTransaction.apply(hostsSettings(root, ["docker.io", "ghcr.io", "zz.example.com"]))
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
            let settings = HostsSettings(
                hostsDirectory: "/proc/self/fdinfo", registries: [try MirroredRegistry(validating: "docker.io")], mirrors: [mirror])
            #expect(throws: ClientConfigError.self) { try HostsTransaction.apply(settings) }
            #expect(!FileManager.default.fileExists(atPath: "/proc/self/fdinfo/docker.io"))
        }

        @Test func errorsNameTheProblem() throws {
            #expect(throws: ClientConfigError.invalidRegistry("https://ghcr.io", reason: "give the registry host as it appears in image references (e.g. ghcr.io), not a URL")) {
                try MirroredRegistry(validating: "https://ghcr.io")
            }
            let error = ClientConfigError.hostsDirectoryMissing("/etc/containerd/certs.d")
            #expect(error.description.contains("/etc/containerd/certs.d does not exist"))
            let empty = HostsSettings(hostsDirectory: "/tmp", registries: [], mirrors: [mirror])
            #expect(throws: ClientConfigError.noRegistries) { try HostsTransaction.apply(empty) }
        }
    }
}

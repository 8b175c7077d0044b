import Foundation
import Testing

@testable import Registry


extension HostsConfigTests {
    /// A hosts.toml that was there before (a site mirror) keeps working after
    /// gossip-mirror's mirrors, byte for byte, and comes back on cleanup.
    @Suite("HostsConfig: existing entries are kept")
    struct KeepExisting {
        static let header = """
            # Managed by gossip-mirror; do not edit. `gossip-mirror cleanup` (or stopping `gossip-mirror run --configure-containerd`) restores what was here before.
            # gossip-mirror-state: backup=yes created-directory=no

            """

        /// The hosts of a hosts.toml, in the order containerd tries them.
        static func hosts(_ text: String) throws -> [String] {
            try TOMLOutline(Array(text.utf8)).tables.filter { $0.header.count == 2 && $0.header[0] == "host" }.map { $0.header[1] }
        }

        @Test func siteMirrorFollowsTheMirrorByteForByte() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            let restoration = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            #expect(restoration.changes.map(\.action) == [.replace(replacingOlderBackup: false)])
            #expect(restoration.changes[0].notes.contains { $0.contains("https://corporate-mirror.example.com") })
            let ours = try #require(root.read("docker.io", "hosts.toml"))
            #expect(
                ours == Self.header + """
                    # Kept from the file this one replaced (hosts.toml.gossip-mirror.bak), byte for byte: its top-level keys,
                    server = "https://registry-1.docker.io"

                    [host."http://127.0.0.1:5000"]
                      capabilities = ["pull", "resolve"]
                      dial_timeout = "200ms"

                    # Kept from the file this one replaced, byte for byte: its hosts, tried after the mirror.
                    [host."https://corporate-mirror.example.com"]
                      capabilities = ["pull", "resolve"]
                      ca = "/etc/ssl/corporate.pem"

                    """)
            #expect(try Self.hosts(ours) == ["http://127.0.0.1:5000", "https://corporate-mirror.example.com"])
        }

        @Test func severalMirrorsInOrderThenTheSiteMirror() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            let mirrors = try HostsSettings.mirrors(["http://127.0.0.1:5000", "http://10.0.0.12:5000", "https://cache.site:8443/"])
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io", "ghcr.io"], mirrors: mirrors))
            let docker = try #require(root.read("docker.io", "hosts.toml"))
            #expect(
                try Self.hosts(docker) == [
                    "http://127.0.0.1:5000", "http://10.0.0.12:5000", "https://cache.site:8443", "https://corporate-mirror.example.com",
                ])
            let ghcr = try #require(root.read("ghcr.io", "hosts.toml"))
            #expect(try Self.hosts(ghcr) == ["http://127.0.0.1:5000", "http://10.0.0.12:5000", "https://cache.site:8443"])
            #expect(ghcr.components(separatedBy: #"dial_timeout = "200ms""#).count == 4)
            #expect(throws: ClientConfigError.duplicateMirrorURL("http://127.0.0.1:5000")) {
                try HostsSettings.mirrors(["http://127.0.0.1:5000", "HTTP://127.0.0.1:5000/"])
            }
        }

        /// One row per shape of existing file: what gossip-mirror's file must
        /// say about the server, and which hosts come after the mirror.
        static let shapes: [(name: String, original: String, ourServer: Bool, hosts: [String])] = [
            ("server and host", foreignDockerHub, false, ["https://corporate-mirror.example.com"]),
            ("host only (default server)", "[host.\"https://harbor.site\"]\n  capabilities = [\"pull\"]\n", true, ["https://harbor.site"]),
            ("server only", "server = \"https://registry-1.docker.io\"\nskip_verify = false\n", false, []),
            (
                "host with a header table", "[host.\"https://a.site\"]\n  capabilities = [\"pull\"]\n[host.\"https://a.site\".header]\n  x-site = \"1\"\n",
                true, ["https://a.site"]
            ),
            ("comments only, no newline at the end", "# nothing here yet", true, []),
            ("CRLF line ends", "server = \"https://registry-1.docker.io\"\r\n\r\n[host.\"https://b.site\"]\r\n  capabilities = [\"pull\"]\r\n", false, ["https://b.site"]),
            ("byte order mark", "\u{FEFF}[host.\"https://c.site\"]\n", true, ["https://c.site"]),
            (
                "multi-line array of client pairs", "client = [\n  [\"a.cert\", \"a.key\"],\n  [\"b.cert\", \"b.key\"],\n]\n[host.\"https://d.site\"]\n",
                true, ["https://d.site"]
            ),
        ]

        @Test(arguments: shapes.indices)
        func existingFileShapes(_ row: Int) throws {
            let shape = Self.shapes[row]
            let root = try TemporaryHostsDirectory()
            try root.write(shape.original, to: "docker.io", "hosts.toml")
            try root.write("a CA\n", to: "docker.io", "ca.crt")
            let before = root.snapshot()
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            let ours = try #require(root.read("docker.io", "hosts.toml"), "\(shape.name)")
            #expect(ours.contains(#"server = "https://registry-1.docker.io""#), "\(shape.name)")
            let thirdLine = ours.split(separator: "\n", omittingEmptySubsequences: false)[2]
            #expect((thirdLine == #"server = "https://registry-1.docker.io""#) == shape.ourServer, "\(shape.name)")
            #expect(ours.components(separatedBy: "server = ").count == 2, "exactly one server: \(shape.name)")
            #expect(!ours.contains("ca = [\"ca.crt\"]"), "certificates are not added to a kept file: \(shape.name)")
            #expect(try Self.hosts(ours) == ["http://127.0.0.1:5000"] + shape.hosts, "\(shape.name)")
            // The kept bytes are there unchanged (without the byte order mark).
            let kept = shape.original.hasPrefix("\u{FEFF}") ? String(shape.original.dropFirst()) : shape.original
            let tablesStart = kept.range(of: "[host")?.lowerBound ?? kept.endIndex
            for part in [kept[tablesStart...], kept[..<tablesStart]] where !part.isEmpty {
                #expect(ours.contains(String(part)), "\(shape.name)")
            }
            // Cleanup puts the original back, byte for byte.
            _ = try HostsCleanup.run(hostsDirectory: root.path)
            #expect(root.snapshot() == before, "\(shape.name)")
        }

        @Test func rerunReadsTheKeptEntriesFromTheBackup() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            let first = root.snapshot()
            #expect(try HostsTransaction.apply(hostsSettings(root, ["docker.io"])).changes.map(\.action) == [.unchanged])
            #expect(root.snapshot() == first)
            // A new mirror list rewrites the file from the original: the site's entry appears once.
            let two = try HostsSettings.mirrors(["http://127.0.0.1:5000", "http://10.0.0.12:5000"])
            #expect(try HostsTransaction.apply(hostsSettings(root, ["docker.io"], mirrors: two)).changes.map(\.action) == [.update])
            let ours = try #require(root.read("docker.io", "hosts.toml"))
            #expect(try Self.hosts(ours) == ["http://127.0.0.1:5000", "http://10.0.0.12:5000", "https://corporate-mirror.example.com"])
            #expect(root.read("docker.io", "hosts.toml.gossip-mirror.bak") == foreignDockerHub)
            _ = try HostsCleanup.run(hostsDirectory: root.path)
            #expect(root.read("docker.io", "hosts.toml") == foreignDockerHub)
        }

        @Test func aFileThatAlreadyListsTheMirrorIsRefused() throws {
            let root = try TemporaryHostsDirectory()
            let original = "[host.\"http://127.0.0.1:5000/\"]\n  capabilities = [\"pull\"]\n"
            try root.write(original, to: "docker.io", "hosts.toml")
            let before = root.snapshot()
            #expect(throws: ClientConfigError.mirrorAlreadyListed(path: root.url("docker.io", "hosts.toml"), url: "http://127.0.0.1:5000")) {
                try HostsTransaction.apply(hostsSettings(root, ["ghcr.io", "docker.io"]))
            }
            #expect(root.snapshot() == before)
        }

        @Test func aFileThatIsNotTOMLIsRefusedWithItsLine() throws {
            let root = try TemporaryHostsDirectory()
            try root.write("server = \"https://registry-1.docker.io\"\n[host.\"https://x\n", to: "docker.io", "hosts.toml")
            let before = root.snapshot()
            let error = #expect(throws: ClientConfigError.self) { try HostsTransaction.apply(hostsSettings(root, ["docker.io"])) }
            guard case .unreadableExistingFile(let path, let line, _)? = error else {
                Issue.record("unexpected \(String(describing: error))")
                return
            }
            #expect(path == root.url("docker.io", "hosts.toml"))
            #expect(line == 2)
            #expect(root.snapshot() == before)
        }

        /// containerd orders hosts by where they appear; hosts defined by dotted
        /// keys at the top would come before the mirror's table.
        @Test func hostsDefinedAtTheTopAreRefused() throws {
            let root = try TemporaryHostsDirectory()
            try root.write("host.\"https://a.site\".capabilities = [\"pull\"]\n", to: "docker.io", "hosts.toml")
            let before = root.snapshot()
            #expect(throws: ClientConfigError.self) { try HostsTransaction.apply(hostsSettings(root, ["docker.io"])) }
            #expect(root.snapshot() == before)
        }

        @Test func aMissingBackupStopsARewrite() throws {
            let root = try TemporaryHostsDirectory()
            try root.write(foreignDockerHub, to: "docker.io", "hosts.toml")
            _ = try HostsTransaction.apply(hostsSettings(root, ["docker.io"]))
            try FileManager.default.removeItem(atPath: root.url("docker.io", "hosts.toml.gossip-mirror.bak"))
            let before = root.snapshot()
            #expect(throws: ClientConfigError.self) { try HostsTransaction.apply(hostsSettings(root, ["docker.io"])) }
            #expect(root.snapshot() == before)
            // Cleanup still removes gossip-mirror's file.
            #expect(try HostsCleanup.run(hostsDirectory: root.path).map(\.action) == [.removedBackupMissing])
        }

        @Test func plainHTTPDoesNotOverrideAKeptServer() throws {
            let root = try TemporaryHostsDirectory()
            try root.write("server = \"https://10.0.0.5:5000\"\n", to: "10.0.0.5:5000", "hosts.toml")
            let settings = HostsSettings(
                hostsDirectory: root.path, registries: [], mirrors: [mirror],
                plainHTTPRegistries: [try MirroredRegistry(validatingPlainHTTP: "10.0.0.5:5000")])
            let change = try #require(try HostsPlan(settings).changes.first)
            #expect(change.notes.contains { $0.contains("names its own server") })
            #expect(!change.file.render().contains("http://10.0.0.5:5000\""))
        }
    }
}

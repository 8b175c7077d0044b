import Foundation
import Testing

@testable import Registry

/// The containers/image drop-in: what it says, what it carries, and that
/// it goes away without a trace.
@Suite struct RegistriesDropInTests {
    static func settings(_ root: TemporaryHostsDirectory, _ registries: [String] = ["docker.io", "ghcr.io"], mirrors: [String] = ["http://127.0.0.1:5000"], resolveTags: Bool = true) throws
        -> RegistriesDropInWriter.Settings
    {
        RegistriesDropInWriter.Settings(
            directory: root.url("registries.conf.d"), mainFile: root.url("registries.conf"),
            registries: try registries.map { try MirroredRegistry(validating: $0) }, mirrors: try HostsSettings.mirrors(mirrors),
            resolveTags: resolveTags)
    }

    /// Prefix, then mirror locations in order, of every `[[registry]]` of a file.
    static func entries(_ bytes: [UInt8]) throws -> [String: [String]] {
        let outline = try TOMLOutline(bytes)
        var result: [String: [String]] = [:]
        var current: String?
        for table in outline.tables {
            if table.header == ["registry"] {
                current = table.string("prefix") ?? table.string("location")
                result[current!] = []
            } else if table.header == ["registry", "mirror"], let current {
                result[current]!.append(table.string("location")!)
            }
        }
        return result
    }

    @Test func oneEntryPerRegistryWithThePrefixedLocation() throws {
        let root = try TemporaryHostsDirectory()
        try FileManager.default.createDirectory(atPath: root.url("registries.conf.d"), withIntermediateDirectories: false)
        let change = try RegistriesDropInWriter.apply(Self.settings(root))
        #expect(change.action == .create(directory: false))
        let text = try #require(root.read("registries.conf.d", "zz-gossip-mirror.conf"))
        #expect(
            text == """
                # Managed by gossip-mirror; do not edit. `gossip-mirror cleanup` removes this file.
                # gossip-mirror-state: created-directory=no
                # Mirrors are tried in order, then the registry itself; a miss costs one quick 404.

                [[registry]]
                prefix = "docker.io"
                location = "docker.io"

                [[registry.mirror]]
                location = "127.0.0.1:5000/docker.io"
                insecure = true

                [[registry]]
                prefix = "ghcr.io"
                location = "ghcr.io"

                [[registry.mirror]]
                location = "127.0.0.1:5000/ghcr.io"
                insecure = true

                """)
        #expect(try RegistriesDropInWriter.plan(Self.settings(root)).action == .unchanged)
    }

    @Test func severalMirrorsAndDigestOnly() throws {
        let root = try TemporaryHostsDirectory()
        let settings = try Self.settings(
            root, ["quay.io"], mirrors: ["http://127.0.0.1:5000", "https://10.0.0.12:5443/gm"], resolveTags: false)
        let change = try RegistriesDropInWriter.apply(settings)
        #expect(change.action == .create(directory: true))
        let bytes = try #require(root.read("registries.conf.d", "zz-gossip-mirror.conf")).utf8
        #expect(try Self.entries(Array(bytes)) == ["quay.io": ["127.0.0.1:5000/quay.io", "10.0.0.12:5443/gm/quay.io"]])
        let text = String(decoding: Array(bytes), as: UTF8.self)
        #expect(text.contains("insecure = true") && text.contains("insecure = false"))
        #expect(text.components(separatedBy: #"pull-from-mirror = "digest-only""#).count == 3)
    }

    @Test func theEntryInForceIsCarriedAfterTheMirror() throws {
        let root = try TemporaryHostsDirectory()
        try root.write(
            """
            unqualified-search-registries = ["docker.io"]

            [[registry]]
            prefix = "docker.io"
            location = "docker.io"

            [[registry.mirror]]
            location = "mirror.gcr.io"

            [[registry]]
            location = "quay.io"
            blocked = false
            """, to: "registries.conf")
        // An earlier drop-in replaces the main file's docker.io entry; one loading later wins over ours.
        try root.write("[[registry]]\nprefix = \"docker.io\"\nlocation = \"docker.io\"\n[[registry.mirror]]\nlocation = \"harbor.site/proxy\"\n", to: "registries.conf.d", "50-site.conf")
        try root.write("[[registry]]\nprefix = \"ghcr.io\"\nlocation = \"ghcr.io\"\n", to: "registries.conf.d", "zzz-late.conf")
        try root.write("[[registry]]\nprefix = \"docker.io/library\"\nlocation = \"docker.io/library\"\n", to: "registries.conf.d", "10-library.conf")
        let change = try RegistriesDropInWriter.apply(Self.settings(root, ["docker.io", "ghcr.io", "quay.io"]))
        let bytes = Array(try #require(root.read("registries.conf.d", "zz-gossip-mirror.conf")).utf8)
        #expect(
            try Self.entries(bytes) == [
                "docker.io": ["127.0.0.1:5000/docker.io", "harbor.site/proxy"],
                "ghcr.io": ["127.0.0.1:5000/ghcr.io"],
                "quay.io": ["127.0.0.1:5000/quay.io"],
            ])
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("location = \"quay.io\"\nblocked = false"))
        #expect(change.notes.contains { $0.contains("zzz-late.conf loads after") && $0.contains("ghcr.io") })
        #expect(change.notes.contains { $0.contains("docker.io/library") && $0.contains("more specific") })
        #expect(change.notes.contains { $0.contains("50-site.conf is carried") })
    }

    @Test func cleanupRemovesOnlyOurFileAndTheDirectoryItMade() throws {
        let root = try TemporaryHostsDirectory()
        let before = root.snapshot()
        _ = try RegistriesDropInWriter.apply(Self.settings(root))
        #expect(try RegistriesDropInWriter.cleanup(directory: root.url("registries.conf.d"), dryRun: true) == .removed(directory: true))
        #expect(root.exists("registries.conf.d", "zz-gossip-mirror.conf"))
        #expect(try RegistriesDropInWriter.cleanup(directory: root.url("registries.conf.d")) == .removed(directory: true))
        #expect(root.snapshot() == before)
        #expect(try RegistriesDropInWriter.cleanup(directory: root.url("registries.conf.d")) == .nothing)

        try root.write("# someone else's\n", to: "registries.conf.d", "zz-gossip-mirror.conf")
        let foreign = root.snapshot()
        #expect(throws: ClientConfigError.foreignFile(root.url("registries.conf.d", "zz-gossip-mirror.conf"))) {
            try RegistriesDropInWriter.apply(Self.settings(root))
        }
        #expect(try RegistriesDropInWriter.cleanup(directory: root.url("registries.conf.d")) == .notOurs)
        #expect(root.snapshot() == foreign)
    }

    @Test func inlineMirrorsCannotBeCarried() throws {
        let root = try TemporaryHostsDirectory()
        try root.write("[[registry]]\nprefix = \"docker.io\"\nmirror = [{ location = \"mirror.gcr.io\" }]\n", to: "registries.conf")
        let before = root.snapshot()
        #expect(throws: ClientConfigError.self) { try RegistriesDropInWriter.apply(Self.settings(root)) }
        #expect(root.snapshot() == before)
    }

    @Test(arguments: ["registry.site:5000", "[fd00::1]:5000", "_default"])
    func registriesWithoutAPathFormAreRefused(_ name: String) throws {
        let root = try TemporaryHostsDirectory()
        #expect(throws: ClientConfigError.self) { try RegistriesDropInWriter.apply(Self.settings(root, [name])) }
        #expect(root.snapshot().isEmpty)
    }

    @Test func aMissingParentIsAClearError() throws {
        let root = try TemporaryHostsDirectory()
        let settings = RegistriesDropInWriter.Settings(
            directory: root.url("no", "registries.conf.d"), mainFile: nil, mirrors: [mirror])
        #expect(throws: ClientConfigError.dropInDirectoryMissing(root.url("no", "registries.conf.d"))) {
            try RegistriesDropInWriter.apply(settings)
        }
    }
}

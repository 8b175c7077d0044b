import ArgumentParser
import Catalog
import Foundation
import Logging
import Registry
import Testing
import TestSupport

@testable import gossip_mirror

/// `run`'s options as `run` itself turns them into the hosts.toml writer's
/// settings and the OCI layout store.
@Suite struct RunOptionsTests {
    /// Issue 10, bug 4: `--no-resolve-tags` used to be ignored by
    /// `--configure-containerd`, which wrote `capabilities = ["pull", "resolve"]`.
    @Test(arguments: [(["--no-resolve-tags"], #"capabilities = ["pull"]"#), ([], #"capabilities = ["pull", "resolve"]"#)])
    func hostsTomlFollowsResolveTags(_ extra: [String], _ capabilities: String) throws {
        let scratch = try ScratchDirectory("gm-run")
        defer { scratch.remove() }
        let directory = scratch.path
        let run = try Run.parse(["--configure-containerd", "--hosts-dir", directory, "--mirror-registry", "docker.io"] + extra)
        let settings = try #require(try run.containerdHostsSettings())
        _ = try HostsTransaction.apply(settings)
        let written = try String(contentsOfFile: directory + "/docker.io/hosts.toml", encoding: .utf8)
        #expect(written.contains(capabilities), "\(written)")
        #expect(written.components(separatedBy: "capabilities = ").count == 2)
    }

    @Test func mirrorURLsComeInOrderOrFromTheRegistryAddress() throws {
        let derived = try #require(try Run.parse(["--configure-containerd", "--registry-addr", "0.0.0.0:5001"]).containerdHostsSettings())
        #expect(derived.mirrors.map(\.url) == ["http://127.0.0.1:5001"])
        let given = try #require(
            try Run.parse(["--configure-containerd", "--mirror-url", "http://10.0.0.1:5000", "--mirror-url", "http://10.0.0.2:5000"])
                .containerdHostsSettings())
        #expect(given.mirrors.map(\.url) == ["http://10.0.0.1:5000", "http://10.0.0.2:5000"])
        #expect(try Run.parse([]).containerdHostsSettings() == nil)
        #expect(throws: (any Error).self) { try Run.parse(["--mirror-url", "http://a:1", "--mirror-url", "http://a:1"]) }
    }

    @Test func ociLayoutRepositoryNamesBareTags() async throws {
        let scratch = try ScratchDirectory("gm-run")
        defer { scratch.remove() }
        let directory = scratch.path
        try #"{"imageLayoutVersion":"1.0.0"}"#.write(toFile: directory + "/oci-layout", atomically: true, encoding: .utf8)
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        try """
        {"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\(digest)","size":10,\
        "annotations":{"org.opencontainers.image.ref.name":"1.0"}}]}
        """.write(toFile: directory + "/index.json", atomically: true, encoding: .utf8)
        let without = try Run.parse(["--store", "oci-layout", "--oci-layout", directory]).makeStore(logger: .init(label: "test"))
        #expect(try await without.listImages().isEmpty)
        let skipped = await without.skippedImages()
        #expect(skipped.map(\.name) == ["1.0"])
        #expect(skipped.first?.reason.contains("--oci-layout-repository") == true)
        let with = try Run.parse(["--store", "oci-layout", "--oci-layout", directory, "--oci-layout-repository", "registry.local/preloaded/app"])
            .makeStore(logger: .init(label: "test"))
        #expect(try await with.listImages().map(\.name) == ["registry.local/preloaded/app:1.0"])
        #expect(await with.skippedImages().isEmpty)
        #expect(throws: (any Error).self) { try Run.parse(["--oci-layout-repository", "Not A Repo"]) }
    }
}

import Catalog
import Foundation
import Testing
import TestSupport

/// How `ContainerdStore` explains a misconfiguration; no containerd needed.
@Suite("ContainerdStore errors")
struct ContainerdStoreErrorTests {
    @Test("an invalid namespace is refused at once", arguments: ["", "bad ns", "-lead", "trail.", "a..b", String(repeating: "x", count: 77)])
    func invalidNamespace(_ name: String) {
        #expect(throws: ContainerdError.invalidNamespace(name)) {
            try ContainerdStore(configuration: ContainerdConfiguration(namespace: name))
        }
    }

    @Test("valid namespaces", arguments: ["k8s.io", "moby", "default", "a-b_c.d9"])
    func validNamespace(_ name: String) {
        #expect(ContainerdConfiguration.isValidNamespace(name))
    }

    @Test("a missing socket is named in calls and in events")
    func missingSocket() async throws {
        let scratch = try ScratchDirectory("gm-nosock")
        defer { scratch.remove() }
        let path = scratch.appending("containerd.sock")
        let store = try ContainerdStore(
            configuration: ContainerdConfiguration(socketPath: path, namespace: "default", callTimeout: .seconds(5)),
            logger: TestLogging.logger("containerd-store"))
        defer { store.shutdown() }

        await #expect(throws: ContainerdError.socketMissing(path: path)) { try await store.listImages() }
        let digest = try #require(Digest("sha256:" + String(repeating: "ab", count: 32)))
        await #expect(throws: ContainerdError.socketMissing(path: path)) { try await store.size(of: digest) }

        let events = await EventRecorder.recording(store.events())
        let detail = try await events.availability(false, within: .seconds(10))
        #expect(detail.contains(path) && detail.contains("does not exist"), "\(detail)")
        #expect(ContainerdError.socketMissing(path: path).description.contains("--containerd-sock"))
    }

    @Test("a file that is not a socket is named as such")
    func notASocket() async throws {
        let scratch = try ScratchDirectory("gm-notsock")
        defer { scratch.remove() }
        let path = scratch.appending("plain-file")
        try Data("x".utf8).write(to: URL(fileURLWithPath: path))
        let store = try ContainerdStore(
            configuration: ContainerdConfiguration(socketPath: path, namespace: "default", callTimeout: .seconds(5)),
            logger: TestLogging.logger("containerd-store"))
        defer { store.shutdown() }
        await #expect(throws: ContainerdError.notASocket(path: path)) { try await store.listImages() }
    }
}

import Foundation
import TestSupport
import Testing
@testable import Catalog

@Suite struct OCILayoutStoreTests {
    static let refName = OCILayoutStore.refNameAnnotation
    static let containerdName = OCILayoutStore.containerdImageNameAnnotation

    @Test func namesImagesFromAnnotations() async throws {
        let directory = try ScratchDirectory("layout-names")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 41)
        let images = try (0..<6).map { _ in try layout.makeImage(layerSizes: [10], architecture: "amd64", write: true, rng: &rng).manifest }
        try layout.writeIndex([
            (images[0], [Self.refName: "1.0"]),                                   // bare tag → default repository
            (images[1], [Self.refName: "ghcr.io/owner/tool:2"]),                  // full reference
            (images[2], [Self.refName: "3.0", Self.containerdName: "docker.io/library/busybox:1.36"]),  // containerd's name wins (fully qualified, as ctr export writes it)
            (images[3], [:]),                                                     // unnamed → default@digest
            (images[4], [Self.refName: "Not A Tag!"]),                           // invalid → skipped
            (images[5], [Self.refName: "1.0"]),                                   // repeated name → skipped
        ])
        let store = try OCILayoutStore(
            path: directory.path, configuration: .init(defaultRepository: try ImageReference("registry.local/team/app")))
        let listed = try await store.listImages()
        #expect(listed.map(\.name) == [
            "registry.local/team/app:1.0", "ghcr.io/owner/tool:2", "docker.io/library/busybox:1.36",
            "registry.local/team/app@\(images[3].digest)",
        ])
        #expect(listed.map(\.target) == [images[0], images[1], images[2], images[3]])

        // Without a default repository, bare tags and unnamed entries are skipped.
        let bare = try OCILayoutStore(path: directory.path)
        #expect(try await bare.listImages().map(\.name) == ["ghcr.io/owner/tool:2", "docker.io/library/busybox:1.36"])
    }

    @Test func servesBlobsAsFilesAndBoundsReads() async throws {
        let directory = try ScratchDirectory("layout-blobs")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        var rng = SplitMix64(seed: 42)
        let blob = try layout.addBlob(rng.bytes(5000), mediaType: MediaType.ociLayerGzip)
        let store = try OCILayoutStore(path: directory.path)

        #expect(try await store.size(of: blob.digest) == 5000)
        guard case .file(let file) = try await store.open(blob.digest) else {
            Issue.record("expected a file")
            return
        }
        #expect(file.size == 5000)
        #expect(SHA256.hash(try file.readAll(limit: 5000)) == blob.digest)
        await #expect(throws: OCILayoutError.unservable("blobs/sha256/" + blob.digest.hex, reason: .sizeMismatch(expected: 4999, actual: 5000))) {
            try await store.open(blob.digest, expectedSize: 4999)
        }
        #expect(SHA256.hash(try await store.read(blob.digest, limit: 5000)) == blob.digest)
        await #expect(throws: OCILayoutError.self) { try await store.read(blob.digest, limit: 4999) }

        let absent = rng.digest()
        #expect(try await store.size(of: absent) == nil)
        await #expect(throws: OCILayoutError.fileNotFound("blobs/sha256/" + absent.hex)) { try await store.open(absent) }
    }

    @Test func neverFollowsSymbolicLinksOutOfTheLayout() async throws {
        let directory = try ScratchDirectory("layout-links")
        let outside = try ScratchDirectory("layout-outside")
        defer { directory.remove(); outside.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        let secret = Array("secret outside the layout".utf8)
        try Data(secret).write(to: URL(fileURLWithPath: outside.path + "/secret"))
        let digest = SHA256.hash(secret)
        try FileManager.default.createSymbolicLink(atPath: layout.blobPath(digest), withDestinationPath: outside.path + "/secret")

        let store = try OCILayoutStore(path: directory.path)
        #expect(try await store.size(of: digest) == nil)
        let refused = OCILayoutError.unservable("blobs/sha256/" + digest.hex, reason: .symbolicLink)
        await #expect(throws: refused) { try await store.open(digest) }
        await #expect(throws: refused) { try await store.read(digest, limit: 100) }

        // A relative link climbing out with ../ is the same.
        try FileManager.default.removeItem(atPath: layout.blobPath(digest))
        try FileManager.default.createSymbolicLink(atPath: layout.blobPath(digest),
                                                   withDestinationPath: "../../../\(URL(fileURLWithPath: outside.path).lastPathComponent)/secret")
        #expect(try await store.size(of: digest) == nil)

        // index.json pointing outside makes the layout unreadable, not the outside file readable.
        try Data(#"{"schemaVersion":2,"manifests":[]}"#.utf8).write(to: URL(fileURLWithPath: outside.path + "/index.json"))
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/index.json", withDestinationPath: outside.path + "/index.json")
        await #expect(throws: OCILayoutError.escapesLayout("index.json")) { try await store.listImages() }

        // Blobs are opened without following any link beneath the root
        // (issue 9, finding 6): one that stays inside the layout is refused too.
        let inside = Array("shared inside".utf8)
        let insideDigest = SHA256.hash(inside)
        try FileManager.default.createDirectory(atPath: directory.path + "/shared", withIntermediateDirectories: true)
        try Data(inside).write(to: URL(fileURLWithPath: directory.path + "/shared/blob"))
        try FileManager.default.createSymbolicLink(atPath: layout.blobPath(insideDigest), withDestinationPath: "../../shared/blob")
        #expect(try await store.size(of: insideDigest) == nil)
        await #expect(throws: OCILayoutError.unservable("blobs/sha256/" + insideDigest.hex, reason: .symbolicLink)) {
            try await store.open(insideDigest)
        }
    }

    @Test func rejectsDirectoriesThatAreNotLayouts() async throws {
        let directory = try ScratchDirectory("layout-missing")
        defer { directory.remove() }
        let store = try OCILayoutStore(path: directory.path)
        await #expect(throws: OCILayoutError.self) { try await store.listImages() }
        try Data(#"{"imageLayoutVersion":"2.0.0"}"#.utf8).write(to: URL(fileURLWithPath: directory.path + "/oci-layout"))
        await #expect(throws: OCILayoutError.notAnOCILayout("unsupported imageLayoutVersion 2.0.0")) { try await store.listImages() }
        #expect(throws: OCILayoutError.notADirectory(directory.path + "/nope")) { try OCILayoutStore(path: directory.path + "/nope") }
    }

    @Test func eventsFollowIndexJSON() async throws {
        let directory = try ScratchDirectory("layout-events")
        defer { directory.remove() }
        let layout = try OCILayoutWriter(root: directory.path)
        try layout.writeIndex([])
        let store = try OCILayoutStore(path: directory.path, configuration: .init(pollInterval: .milliseconds(20)))
        let events = await EventRecorder.recording(store.events())

        try await Task.sleep(for: .milliseconds(60))
        var rng = SplitMix64(seed: 43)
        let image = try layout.makeImage(layerSizes: [1], architecture: "amd64", write: true, rng: &rng).manifest
        try layout.writeIndex([(image, [Self.refName: "docker.io/library/x:1"])])
        try await events.next(within: .seconds(5), "imagesChanged") { $0 == .imagesChanged }

        try FileManager.default.removeItem(atPath: directory.path + "/index.json")
        let gone = try await events.next(within: .seconds(5), "an availability event") { if case .availability = $0 { true } else { false } }
        #expect(gone == .availability(available: false, detail: "index.json is missing"))

        try layout.writeIndex([])
        try await events.next(within: .seconds(5), "imagesChanged") { $0 == .imagesChanged }
    }
}

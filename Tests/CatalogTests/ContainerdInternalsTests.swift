@testable import Catalog
import Foundation
import SwiftProtobuf
import Testing
import TestSupport

/// Pieces of `ContainerdStore` that can be checked without a daemon.
@Suite("Containerd internals")
struct ContainerdInternalsTests {
    @Test("image events are decoded from containerd's prefix-less type URLs")
    func imageEventNames() throws {
        var create = Containerd_Services_Images_V1_ImageCreate()
        create.name = "docker.io/library/alpine:3"
        var event = Google_Protobuf_Any()
        event.typeURL = "containerd.services.images.v1.ImageCreate"
        event.value = try create.serializedData()
        #expect(ContainerdEventFeed.imageName(in: event) == "docker.io/library/alpine:3")

        var delete = Containerd_Services_Images_V1_ImageDelete()
        delete.name = "registry.example/app@sha256:00"
        event.typeURL = "type.googleapis.com/containerd.services.images.v1.ImageDelete"
        event.value = try delete.serializedData()
        #expect(ContainerdEventFeed.imageName(in: event) == "registry.example/app@sha256:00")

        event.typeURL = "containerd.events.ContentDelete"
        #expect(ContainerdEventFeed.imageName(in: event) == nil)
    }

    @Test("the Envelope's field numbers are containerd's (timestamp 1, namespace 2, topic 3, event 4)")
    func envelopeWireFormat() throws {
        var envelope = Containerd_Services_Events_V1_Envelope()
        envelope.namespace = "k8s.io"
        envelope.topic = "/images/create"
        let bytes = [UInt8](try envelope.serializedData())
        // field 2, wire type 2 -> tag 0x12; field 3 -> tag 0x1a
        #expect(bytes.first == 0x12)
        #expect(bytes.contains(0x1A))
    }

    @Test("reconnect delays double up to the cap, with jitter")
    func backoff() {
        var backoff = ReconnectBackoff(initial: .milliseconds(100), cap: .seconds(5))
        var delays: [Duration] = []
        for _ in 0..<12 { delays.append(backoff.nextDelay()) }
        #expect(delays[0] >= .milliseconds(80) && delays[0] <= .milliseconds(120))
        #expect(delays[1] >= .milliseconds(160) && delays[1] <= .milliseconds(240))
        #expect(delays.allSatisfy { $0 <= .seconds(6) })
        #expect(delays.last! >= .seconds(4))
        backoff.reset()
        #expect(backoff.nextDelay() <= .milliseconds(120))
    }

    @Test("the info cache forgets answers after its time to live")
    func infoCache() async throws {
        let cache = ContainerdInfoCache(ttl: .milliseconds(50))
        let digest = try #require(Digest("sha256:" + String(repeating: "0f", count: 32)))
        await cache.remember(digest, size: 42)
        #expect(await cache.size(of: digest) == 42)
        try await Task.sleep(for: .milliseconds(80))  // the TTL itself is under test
        #expect(await cache.size(of: digest) == nil)
        await cache.remember(digest, size: 42)
        await cache.removeAll()
        #expect(await cache.size(of: digest) == nil)
    }

    @Test("the content root may be containerd's root or the content plugin's directory")
    func contentRoot() throws {
        let scratch = try ScratchDirectory("gm-root")
        defer { scratch.remove() }
        let base = scratch.path
        let blobs = base + "/io.containerd.content.v1.content/blobs/sha256"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        #expect(ContainerdContentRoot.resolve(configured: base)?.blobsDirectory == blobs)
        #expect(ContainerdContentRoot.resolve(configured: base + "/io.containerd.content.v1.content")?.blobsDirectory == blobs)
        #expect(ContainerdContentRoot.resolve(configured: base + "/missing") == nil)
        // A fresh containerd has no blobs directory until its first commit.
        let fresh = base + "/fresh"
        try FileManager.default.createDirectory(atPath: fresh, withIntermediateDirectories: true)
        #expect(ContainerdContentRoot.resolve(configured: fresh)?.blobsDirectory == fresh + "/io.containerd.content.v1.content/blobs/sha256")

        let digest = try #require(Digest("sha256:" + String(repeating: "ab", count: 32)))
        let root = try #require(ContainerdContentRoot.resolve(configured: base))
        #expect(root.openFile(digest, size: 3) == nil)
        try Data("abc".utf8).write(to: URL(fileURLWithPath: root.path(of: digest)))
        #expect(try root.openFile(digest, size: 3)?.readAll(limit: 3) == Array("abc".utf8))
        #expect(root.openFile(digest, size: 4) == nil)  // a size mismatch is not served
        // A link is never followed (issue 9, finding 6), nor a linked directory on the way.
        try FileManager.default.removeItem(atPath: root.path(of: digest))
        try Data("abc".utf8).write(to: URL(fileURLWithPath: base + "/elsewhere"))
        try FileManager.default.createSymbolicLink(atPath: root.path(of: digest), withDestinationPath: base + "/elsewhere")
        #expect(root.openFile(digest, size: 3) == nil)
        try FileManager.default.removeItem(atPath: blobs)
        try FileManager.default.createDirectory(atPath: base + "/real-sha256", withIntermediateDirectories: true)
        try Data("abc".utf8).write(to: URL(fileURLWithPath: base + "/real-sha256/" + digest.hex))
        try FileManager.default.createSymbolicLink(atPath: blobs, withDestinationPath: base + "/real-sha256")
        #expect(root.openFile(digest, size: 3) == nil)
    }
}

@testable import Catalog
import Foundation
import Testing
import TestSupport

/// The ingest pieces that do not need a daemon: ref parsing (one row per
/// case), the ingest directory scan, and following a file that another task
/// writes, as containerd would.
@Suite("Ingests")
struct IngestTests {
    static let hex = String(repeating: "ab", count: 32)
    static let digest = Digest("sha256:" + hex)!

    static let writerRefs: [(String, Digest?)] = [
        ("layer-sha256:" + hex, digest),
        ("config-sha256:" + hex, digest),
        ("manifest-sha256:" + hex, digest),
        ("index-sha256:" + hex, digest),
        ("unknown-sha256:" + hex, digest),
        // A descriptor annotated with a ref name (org.opencontainers.image.ref.name).
        ("layer-docker.io/library/app:1@sha256:" + hex, digest),
        // Refs a pull does not make: kept as refs, no digest.
        ("sha256:" + hex, nil),
        ("blob-sha256:" + hex, nil),
        ("layer-sha256:" + hex.uppercased(), nil),
        ("layer-sha256:" + hex + "0", nil),
        ("layer-sha512:" + hex + hex, nil),
        ("layer-", nil),
        ("push-foo", nil),
    ]

    @Test("writer refs name the blob a pull fetches", arguments: writerRefs)
    func writerRef(_ text: String, _ expected: Digest?) throws {
        let reference = try #require(IngestReference(writerRef: text))
        #expect(reference.ref == text)
        #expect(reference.digest == expected)
        #expect(reference.namespace == nil)
    }

    static let localRefs: [(String, String?, Digest?)] = [
        ("k8s.io/1/layer-sha256:" + hex, "k8s.io", digest),
        ("default/4711/config-sha256:" + hex, "default", digest),
        ("moby/2/layer-ghcr.io/team/app:1@sha256:" + hex, "moby", digest),
        ("k8s.io/1/some-ref", "k8s.io", nil),
        // Not what containerd writes: refused whole.
        ("k8s.io/layer-sha256:" + hex, nil, nil),
        ("k8s.io/x1/layer-sha256:" + hex, nil, nil),
        ("/1/layer-sha256:" + hex, nil, nil),
        ("bad namespace/1/layer-sha256:" + hex, nil, nil),
        ("k8s.io/1/", nil, nil),
        ("k8s.io/123456789012345678901/layer-sha256:" + hex, nil, nil),
        ("k8s.io/1/" + String(repeating: "x", count: 2000), nil, nil),
    ]

    @Test("ref files name the namespace, the sequence and the writer's ref", arguments: localRefs)
    func localRef(_ text: String, _ namespace: String?, _ digest: Digest?) {
        let reference = IngestReference(localRef: text)
        #expect(reference?.namespace == namespace)
        #expect(reference?.digest == digest)
        if namespace != nil { #expect(reference?.ref == String(text.split(separator: "/", maxSplits: 2)[2])) }
    }

    @Test("the ingest directory is found by namespace and ref; others, links and strays are passed over")
    func ingestDirectory() throws {
        let root = try ScratchDirectory("gm-ingest")
        defer { root.remove() }
        let ingest = root.path + "/io.containerd.content.v1.content/ingest"
        var entries = 0
        @discardableResult
        func entry(_ localRef: String, data: String) throws -> String {
            // containerd names the directory by the ref's sha256; the scan needs only the form.
            entries += 1
            let name = String(format: "%064x", entries)
            try FileManager.default.createDirectory(atPath: "\(ingest)/\(name)", withIntermediateDirectories: true)
            try localRef.write(toFile: "\(ingest)/\(name)/ref", atomically: true, encoding: .utf8)
            try data.write(toFile: "\(ingest)/\(name)/data", atomically: true, encoding: .utf8)
            return "\(ingest)/\(name)"
        }
        let ref = "layer-sha256:" + Self.hex
        try entry("default/1/" + ref, data: "other namespace")
        try entry("k8s.io/3/config-sha256:" + Self.hex, data: "other ref")
        let ours = try entry("k8s.io/7/" + ref, data: "ours")
        // A stray entry and a link named like an ingest are ignored.
        try FileManager.default.createDirectory(atPath: ingest + "/not-an-ingest", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: ingest + "/" + String(repeating: "f", count: 64), withDestinationPath: ours)

        let contentRoot = try #require(ContainerdContentRoot.resolve(configured: root.path + "/io.containerd.content.v1.content"))
        let directory = try #require(ContainerdIngestDirectory(contentRoot: contentRoot))
        #expect(directory.path == ingest)
        let file = try #require(directory.openData(namespace: "k8s.io", writerRef: ref))
        #expect(try file.read(at: 0, upTo: 100) == Array("ours".utf8))
        #expect(directory.openData(namespace: "moby", writerRef: ref) == nil)

        // `data` as a link is refused, not followed.
        try FileManager.default.removeItem(atPath: ours + "/data")
        try FileManager.default.createSymbolicLink(atPath: ours + "/data", withDestinationPath: "/etc/hostname")
        #expect(directory.openData(namespace: "k8s.io", writerRef: ref) == nil)
    }

    // MARK: Following

    /// A file written in steps by a task, as containerd writes an ingest.
    struct Writer {
        let path: String
        let handle: FileHandle

        init(in directory: ScratchDirectory) throws {
            path = directory.path + "/data"
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            handle = try #require(FileHandle(forWritingAtPath: path))
        }

        func open() throws -> IngestFile {
            let fd = openForReading(path)
            try #require(fd >= 0)
            return IngestFile(descriptor: fd)
        }

        func write(_ bytes: [UInt8]) throws { try handle.write(contentsOf: Data(bytes)) }
    }

    static func collect(_ follower: IngestFollower) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await chunk in follower { out += chunk }
        return out
    }

    @Test("bytes are read as they are written, up to the total, and through a commit's rename")
    func followsAGrowingFile() async throws {
        let directory = try ScratchDirectory("gm-ingest")
        defer { directory.remove() }
        let writer = try Writer(in: directory)
        let blob = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let follower = IngestFollower(
            file: try writer.open(), total: Int64(blob.count),
            settings: .init(stallTimeout: .seconds(10), pollInterval: .milliseconds(2), chunkSize: 64 * 1024))
        let reading = Task { try await Self.collect(follower) }
        for start in stride(from: 0, to: blob.count, by: 100_000) {
            try writer.write(Array(blob[start..<min(blob.count, start + 100_000)]))
            if start == 100_000 {
                // containerd commits by renaming `data` into blobs/: the descriptor reads on.
                try FileManager.default.moveItem(atPath: writer.path, toPath: directory.path + "/committed")
            }
        }
        #expect(try await reading.value == blob)
    }

    @Test("a follower starts at an offset, and stops at the total even if more is written")
    func offsetAndTotal() async throws {
        let directory = try ScratchDirectory("gm-ingest")
        defer { directory.remove() }
        let writer = try Writer(in: directory)
        try writer.write(Array(0..<100))
        let follower = IngestFollower(file: try writer.open(), total: 60, from: 10, settings: .init(stallTimeout: .seconds(1)))
        #expect(try await Self.collect(follower) == Array(10..<60))
    }

    static let faults: [(String, IngestFollowError)] = [
        ("stall", .stalled(at: 5, for: .milliseconds(200))),
        ("unlink", .vanished(at: 5)),
        ("truncate", .restarted(at: 5, size: 0)),
    ]

    @Test("a stalled, removed or restarted ingest ends the stream with an error", arguments: faults)
    func failures(_ fault: String, _ expected: IngestFollowError) async throws {
        let directory = try ScratchDirectory("gm-ingest")
        defer { directory.remove() }
        let writer = try Writer(in: directory)
        try writer.write([1, 2, 3, 4, 5])
        let follower = IngestFollower(
            file: try writer.open(), total: 100, settings: .init(stallTimeout: .milliseconds(200), pollInterval: .milliseconds(5)))
        var iterator = follower.makeAsyncIterator()
        #expect(try await iterator.next() == [1, 2, 3, 4, 5])
        switch fault {
        case "unlink": try FileManager.default.removeItem(atPath: writer.path)
        case "truncate": try writer.handle.truncate(atOffset: 0)
        default: break
        }
        let started = ContinuousClock.now
        await #expect(throws: expected) { _ = try await iterator.next() }
        if fault == "stall" { #expect(ContinuousClock.now - started >= .milliseconds(200)) }
    }

    @Test("growth resets the stall clock")
    func growthKeepsItAlive() async throws {
        let directory = try ScratchDirectory("gm-ingest")
        defer { directory.remove() }
        let writer = try Writer(in: directory)
        let follower = IngestFollower(
            file: try writer.open(), total: 6, settings: .init(stallTimeout: .milliseconds(300), pollInterval: .milliseconds(5)))
        let reading = Task { try await Self.collect(follower) }
        // Six writes 100 ms apart: 600 ms in all, never 300 ms without growth.
        for byte in UInt8(0)..<6 {
            try writer.write([byte])
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await reading.value == [0, 1, 2, 3, 4, 5])
    }
}

/// `open(2)` for reading, named apart from `Writer.open`.
private func openForReading(_ path: String) -> CInt { open(path, O_RDONLY | O_CLOEXEC) }

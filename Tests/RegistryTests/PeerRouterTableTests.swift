import Catalog
import Foundation
import Gossip
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport

@testable import Registry

/// The peer path, one row per case (as Spegel's `registry_test.go`): a relay
/// node holding nothing, holders in front of OCI layouts, real handlers,
/// routers and HTTP servers on loopback; no containerd, no subprocess. After
/// every row no attempt is left in flight on any node.
@Suite struct PeerRouterTableTests {
    enum Row: String, CaseIterable, CustomTestStringConvertible {
        case localHit, peerHit, firstHolder404ThenSecond, holderRefusesConnection, holderLiesSmallBlob, holderLiesLargeBlob,
            holderDiesMidStreamAndTheTransferResumes, resumeAfterTheTokenWindow, slowFirstHolderIsHedged, rangesLocalAndRelayedAgree
        var testDescription: String { rawValue }
    }

    static let small = 3000
    static let large = 3 << 20

    @Test(arguments: Row.allCases)
    func peerPath(_ row: Row) async throws {
        let world = try World()
        switch row {
        case .localHit:
            let image = try world.layout("relay")
            let relay = try await world.node("relay", layout: image.path)
            let holder = try await world.node("holder", layout: try world.layout("holder").path)
            await TestNode.link([relay, holder])
            for blob in image.blobs.dropFirst() {
                try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
            }
            #expect(holder.requests.isEmpty, "a local hit never asks a peer")
            #expect(relay.metrics.snapshot.requests["local"] == image.blobs.count - 1)

        case .peerHit:
            let image = try world.layout("holder")
            let holder = try await world.node("holder", layout: image.path)
            let relay = try await world.node("relay")
            await TestNode.link([relay, holder])
            let manifest = try await world.client.testRequest(relay.baseURL + image.manifestPath)
            #expect(manifest.status == 200 && DigestVerifier.digest(of: manifest.body) == image.manifest.digest)
            for blob in image.layers {
                try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
                let asked = holder.requests(for: image.blobPath(blob))
                #expect(asked.count == 1 && asked.first?.method == .GET, "one request per blob at the holder, no HEAD first")
            }
            #expect(relay.metrics.snapshot.requests["peer"] == 3)

        case .firstHolder404ThenSecond:
            let image = try world.layout("second")
            let first = try await world.node("first")  // advertises what it does not hold
            let second = try await world.node("second", layout: image.path)
            let relay = try await world.node("relay")
            await TestNode.link([relay, first, second], rtt: ["first": .milliseconds(1), "second": .milliseconds(5)], claims: ["first": second])
            for blob in image.layers {
                try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
                #expect(first.requests(for: image.blobPath(blob)).count == 1)
                #expect(second.requests(for: image.blobPath(blob)).count == 1)
            }
            #expect(relay.metrics.snapshot.peerFailures == 0, "a 404 is not the holder's fault")

        case .holderRefusesConnection:
            let image = try world.layout("holder")
            let holder = try await world.node("holder", layout: image.path)
            let relay = try await world.node("relay")
            let ghost = TestNode.Ghost(name: "ghost", registryAddress: "127.0.0.1:\(try SocketProbes.freeLoopbackPort())", claims: holder)
            await TestNode.link([relay, holder], rtt: ["ghost": .milliseconds(1), "holder": .milliseconds(5)], ghosts: [ghost])
            let started = ContinuousClock.now
            try await world.expectWhole(image.layers[0], from: relay, path: image.blobPath(image.layers[0]))
            #expect(ContinuousClock.now - started < .seconds(2), "a refused connect moves on at once")
            #expect(relay.metrics.snapshot.peerFailures >= 1)

        case .holderLiesSmallBlob, .holderLiesLargeBlob:
            let index = row == .holderLiesSmallBlob ? 0 : 1
            let image = try world.layout("honest")
            let lying = try world.layout("liar")
            try world.corrupt(lying, lying.layers[index])
            let liar = try await world.node("liar", layout: lying.path)
            let honest = try await world.node("honest", layout: image.path)
            let relay = try await world.node("relay")
            await TestNode.link([relay, liar, honest], rtt: ["liar": .milliseconds(1), "honest": .milliseconds(5)])
            let blob = image.layers[index]
            if index == 0 {
                // Buffered: the lie is caught before anything is sent; the honest holder answers.
                try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
            } else {
                // Streamed: this client's response is aborted short, never completed wrong.
                let first = try await RawHTTP.get(port: relay.port, path: image.blobPath(blob))
                #expect(first.status == 200 && first.body.readableBytes < blob.size, "\(first.body.readableBytes) of \(blob.size)")
                // The liar is banned: the next request is the honest holder's.
                try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
                #expect(honest.requests(for: image.blobPath(blob)).count == 1)
            }
            #expect(relay.metrics.snapshot.verificationFailures == 1)
            #expect(!relay.peers.holders(of: SummaryKey(blob.digest)).contains("liar"), "the liar is banned")

        case .holderDiesMidStreamAndTheTransferResumes:
            let image = try world.layout("dying")
            let blob = image.layers[1]
            let dying = try await world.node("dying", layout: image.path, intercept: World.dies(after: 1 << 20, on: image.blobPath(blob)))
            let healthy = try await world.node("healthy", layout: try world.layout("healthy").path)
            let relay = try await world.node("relay")
            await TestNode.link([relay, dying, healthy], rtt: ["dying": .milliseconds(1), "healthy": .milliseconds(5)])
            try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
            let resumed = healthy.requests(for: image.blobPath(blob))
            #expect(resumed.count == 1 && resumed[0].headers.first(name: "Range")?.hasPrefix("bytes=") == true)
            #expect(relay.metrics.snapshot.peerFailures == 1)

        case .resumeAfterTheTokenWindow:
            // The second holder accepts tokens only 1 s old; the first
            // stalls 2.5 s before it dies. A token minted at the start
            // would be refused; the resume's own token is not.
            let image = try world.layout("stalling")
            let blob = image.layers[1]
            let stalling = try await world.node(
                "stalling", layout: image.path, intercept: World.dies(after: 1 << 20, on: image.blobPath(blob), stalling: .milliseconds(2500)))
            let strict = try await world.node("strict", layout: try world.layout("strict").path, tokenWindow: 1)
            let relay = try await world.node("relay")
            await TestNode.link([relay, stalling, strict], rtt: ["stalling": .milliseconds(1), "strict": .milliseconds(5)])
            try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
            #expect(strict.metrics.snapshot.rejectedTokens == 0)
            #expect(strict.requests(for: image.blobPath(blob)).count == 1)

        case .slowFirstHolderIsHedged:
            let image = try world.layout("slow")
            // The slow holder would answer after a minute: a response well
            // before that can only be the quick holder's.
            let slow = try await world.node("slow", layout: image.path, delay: .seconds(60))
            let quick = try await world.node("quick", layout: try world.layout("quick").path)
            let relay = try await world.node("relay", settings: .forTests)  // hedging as shipped
            await TestNode.link([relay, slow, quick], rtt: ["slow": .milliseconds(1), "quick": .milliseconds(5)])
            let blob = image.layers[1]
            let started = ContinuousClock.now
            try await world.expectWhole(blob, from: relay, path: image.blobPath(blob))
            #expect(ContinuousClock.now - started < .seconds(30), "the second holder's answer did not win")
            #expect(relay.metrics.snapshot.hedges == 1)
            #expect(slow.requests(for: image.blobPath(blob)).count == 1, "the slow holder was asked first")
            #expect(quick.requests(for: image.blobPath(blob)).count == 1)
            #expect(relay.metrics.snapshot.peerFailures == 0, "the cancelled attempt is not held against the slow holder")

        case .rangesLocalAndRelayedAgree:
            let image = try world.layout("holder")
            let holder = try await world.node("holder", layout: image.path)
            let relay = try await world.node("relay")
            await TestNode.link([relay, holder])
            let ranges = ["bytes=10-19", "bytes=0-0", "bytes=-5", "bytes=100-", "bytes=2990-5000", "bytes=oops", "bytes=5-1",
                          "bytes=0-1,5-6", "bytes=999999999-", "bytes=-0", "bytes=+1-2"]
            for blob in image.layers {
                for range in ranges {
                    let local = try await RawHTTP.get(port: holder.port, path: image.blobPath(blob), headers: [("Range", range)])
                    let relayed = try await RawHTTP.get(port: relay.port, path: image.blobPath(blob), headers: [("Range", range)])
                    let what = "\(range) on \(blob.size) bytes"
                    #expect([200, 206, 400, 416].contains(local.status), "\(what): \(local.status)")
                    #expect(relayed.status == local.status, "\(what): relayed \(relayed.status), local \(local.status)")
                    #expect(relayed.headers.first(name: "Content-Range") == local.headers.first(name: "Content-Range"), "\(what)")
                    if local.status == 206 {
                        #expect(relayed.body == local.body, "\(what): different bytes")
                        #expect(relayed.declaredLength == Int64(relayed.body.readableBytes))
                    }
                }
            }
        }
        try await world.expectNothingInFlight()
    }

    /// One row's nodes, layouts and client.
    final class World: Sendable {
        let scratch: ScratchDirectory
        let key = ClusterKey.generate()
        let client = PeerFetcher()
        private let nodes = NodeList()

        init() throws { scratch = try ScratchDirectory("gm-router") }

        func layout(_ name: String) throws -> TestLayout {
            try TestLayout.write(to: "\(scratch.path)/\(name)", layerSizes: [PeerRouterTableTests.small, PeerRouterTableTests.large])
        }

        /// Flips one byte in the middle of `blob` in `layout`, keeping its size.
        func corrupt(_ layout: TestLayout, _ blob: TestLayout.Blob) throws {
            var bytes = try Data(contentsOf: URL(fileURLWithPath: layout.file(of: blob)))
            bytes[bytes.count / 2] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: layout.file(of: blob)))
        }

        /// Settings that never hedge: rows that count requests at holders
        /// must not depend on how fast a loaded machine answers.
        static let unhedged: PeerRouterSettings = {
            var settings = PeerRouterSettings.forTests
            settings.hedgeInitialDelay = .seconds(60)
            settings.hedgeFloor = .seconds(60)
            return settings
        }()

        func node(
            _ name: String, layout: String? = nil, settings: PeerRouterSettings = World.unhedged, tokenWindow: Int64 = 120,
            delay: Duration? = nil, intercept: TestNode.Intercept? = nil
        ) async throws -> TestNode {
            let node = try await TestNode.start(
                name, key: key, layout: layout, scratch: scratch.path, settings: settings, tokenWindow: tokenWindow, delay: delay,
                intercept: intercept)
            nodes.add(node)
            return node
        }

        /// GETs `path` from `node` and expects exactly `blob`.
        func expectWhole(_ blob: TestLayout.Blob, from node: TestNode, path: String, sourceLocation: SourceLocation = #_sourceLocation)
            async throws
        {
            let answer = try await RawHTTP.get(port: node.port, path: path)
            #expect(answer.status == 200, sourceLocation: sourceLocation)
            #expect(answer.declaredLength == Int64(blob.size), sourceLocation: sourceLocation)
            #expect(DigestVerifier.digest(of: answer.body) == blob.digest, "\(answer.body.readableBytes) bytes", sourceLocation: sourceLocation)
        }

        /// Every lease ended: polled, because a streamed body's last lease
        /// ends just after its last byte went out.
        func expectNothingInFlight() async throws {
            let settled = await poll(timeout: .seconds(5), every: .milliseconds(5)) { self.nodes.all.allSatisfy { $0.peers.totalInFlight == 0 } } != nil
            #expect(settled, "attempts left in flight: \(nodes.all.map { "\($0.name)=\($0.peers.totalInFlight)" })")
        }

        /// An intercept that answers a plain GET of `path` with its first
        /// `prefix` bytes, then (after `stalling`) breaks the connection.
        static func dies(after prefix: Int, on path: String, stalling: Duration = .zero) -> TestNode.Intercept {
            { request, response in
                guard request.method == .GET, request.uri == path, request.headers.first(name: "Range") == nil else { return response }
                guard case .file(let handle, _, let length) = response.body else { return response }
                let bytes = try? handle.withUnsafeFileDescriptor { fd -> ByteBuffer in
                    var buffer = ByteBufferAllocator().buffer(capacity: prefix)
                    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: prefix) { pread(fd, $0.baseAddress, prefix, 0) }
                    return buffer
                }
                var broken = response
                broken.replaceBody(
                    .stream(
                        length: length,
                        AsyncThrowingStream { continuation in
                            let task = Task {
                                continuation.yield(bytes ?? ByteBuffer())
                                try? await Task.sleep(for: stalling)
                                continuation.finish(throwing: FetchTestFailure("the holder dies mid-stream"))
                            }
                            continuation.onTermination = { _ in task.cancel() }
                        }))
                return broken
            }
        }

        final class NodeList: Sendable {
            private let list = Mutex<[TestNode]>([])
            func add(_ node: TestNode) { list.withLock { $0.append(node) } }
            var all: [TestNode] { list.withLock { $0 } }
        }
    }
}

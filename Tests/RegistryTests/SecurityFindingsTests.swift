import Catalog
import Foundation
import Gossip
import NIOCore
import NIOHTTP1
import Testing
import TestSupport

@testable import Registry

/// Issue 9's registry findings, in process: OCI-layout stores, real handlers
/// and peer clients, `HTTPServer`s on loopback.
@Suite struct SecurityFindingsTests {
    let scratch: ScratchDirectory
    let key = ClusterKey.generate()
    let client = PeerFetcher()

    init() throws {
        scratch = try ScratchDirectory("gm-findings")
    }

    func layout(_ name: String, reference: String = "docker.io/test/app:v1", layerSizes: [Int] = [3000, 2_000_000], seed: UInt64 = 1)
        throws -> TestLayout
    {
        try TestLayout.write(to: "\(scratch.path)/\(name)", reference: reference, layerSizes: layerSizes, seed: seed)
    }

    /// Issue 9, finding 9: a token replayed to another node is refused (401),
    /// and a hop-marked request needs a token even from loopback.
    @Test func tokensReplayedToAnotherNodeAreRefused() async throws {
        let image = try layout("a")
        let a = try await TestNode.start("a", key: key, layout: image.path, scratch: scratch.path)
        let b = try await TestNode.start("b", key: key, layout: image.path, scratch: scratch.path)
        let path = image.blobPath(image.layers[0])
        let relay = PeerCredentials(nodeName: "relay") { [key] }
        let token = try #require(await relay.token(method: "GET", target: path, destination: "a"))
        let peerHeaders: HTTPHeaders = [PeerCredentials.hopHeader: "1", PeerCredentials.tokenHeader: token]
        #expect(try await client.testRequest(a.baseURL + path, headers: peerHeaders).status == 200)
        #expect(try await client.testRequest(b.baseURL + path, headers: peerHeaders).status == 401)
        #expect(try await client.testRequest(b.baseURL + path, headers: [PeerCredentials.hopHeader: "1"]).status == 401)
        #expect(b.metrics.snapshot.rejectedTokens == 2)
        // The node's own clients (loopback, no hop marker) need no token.
        #expect(try await client.testRequest(b.baseURL + path).status == 200)
    }

    /// Issue 9, finding 4: an answer changed on the path (not re-sealed) is
    /// refused; a manifest swapped for another the cluster holds never
    /// reaches the client.
    @Test func answersChangedOnThePathAreRefused() async throws {
        let wanted = try layout("wanted", seed: 1)
        let other = try layout("other", reference: "docker.io/test/app:old", seed: 2)
        // On the path to the holder, the tag's answer becomes the old image's
        // manifest, with matching digest header.
        let holder = try await TestNode.start(
            "holder", key: key, layout: wanted.path, scratch: scratch.path,
            intercept: { request, response in
                guard request.uri.contains("/manifests/") else { return response }
                var swapped = response
                swapped.headers.replaceOrAdd(name: "Docker-Content-Digest", value: other.manifest.digest.description)
                swapped.headers.replaceOrAdd(name: "Content-Length", value: "\(other.manifest.size)")
                swapped.replaceBody(.bytes(other.manifest.bytes))
                return swapped
            }, reseal: false)
        let relay = try await TestNode.start("relay", key: key, layout: nil, scratch: scratch.path)
        await TestNode.link([holder, relay])
        let answer = try await client.testRequest(relay.baseURL + wanted.manifestPath)
        #expect(answer.status == 404)
        #expect(holder.requests.count >= 1)
        #expect(relay.metrics.snapshot.peerFailures >= 1)
        // Unchanged answers pass (same holder, blob by digest).
        let blob = try await client.testRequest(relay.baseURL + wanted.blobPath(wanted.layers[0]))
        #expect(blob.status == 200 && DigestVerifier.digest(of: blob.body) == wanted.layers[0].digest)
    }

    /// Issue 9, finding 4: with `tagQuorum` 2 a tag is answered only when two
    /// holders name the same digest.
    @Test func tagQuorumNeedsTwoHoldersThatAgree() async throws {
        let current = try layout("current", seed: 1)
        let stale = try layout("stale", seed: 2)  // same tag, another image
        let a = try await TestNode.start("a", key: key, layout: current.path, scratch: scratch.path)
        let b = try await TestNode.start("b", key: key, layout: current.path, scratch: scratch.path)
        let c = try await TestNode.start("c", key: key, layout: stale.path, scratch: scratch.path)
        var quorum = PeerRouterSettings.forTests
        quorum.tagQuorum = 2
        let strict = try await TestNode.start("strict", key: key, layout: nil, scratch: scratch.path, settings: quorum)
        let lenient = try await TestNode.start("lenient", key: key, layout: nil, scratch: scratch.path)

        await TestNode.link([a, strict, lenient])
        #expect(try await client.testRequest(lenient.baseURL + current.manifestPath).status == 200)
        #expect(try await client.testRequest(strict.baseURL + current.manifestPath).status == 404, "one holder is not a quorum")

        await TestNode.link([a, b, strict])
        let agreed = try await client.testRequest(strict.baseURL + current.manifestPath)
        #expect(agreed.status == 200)
        #expect(agreed.headers.first(name: "Docker-Content-Digest") == current.manifest.digest.description)

        await TestNode.link([a, c, strict])
        #expect(try await client.testRequest(strict.baseURL + current.manifestPath).status == 404, "holders disagree")
        // Digests need no quorum.
        let byDigest = "/v2/test/app/manifests/\(current.manifest.digest)?ns=docker.io"
        #expect(try await client.testRequest(strict.baseURL + byDigest).status == 200)
    }

    /// Issue 9, finding 5: `digests` and `public` sharing, on the relay's
    /// side and on the holder's.
    @Test(arguments: [
        // (relay's policy, holder's policy, tag status, digest status, blob status)
        (PeerSharing(), PeerSharing(), 200, 200, 200),
        (PeerSharing(mode: .digests), PeerSharing(), 404, 200, 200),
        (PeerSharing(), PeerSharing(mode: .digests), 404, 200, 200),
        (PeerSharing(mode: .publicRegistries, publicRegistries: ["ghcr.io"]), PeerSharing(), 404, 404, 404),
        (PeerSharing(), PeerSharing(mode: .publicRegistries, publicRegistries: ["ghcr.io"]), 404, 404, 404),
        (PeerSharing(mode: .publicRegistries, publicRegistries: ["docker.io"]), PeerSharing(mode: .publicRegistries, publicRegistries: ["docker.io"]), 200, 200, 200),
    ])
    func privateContentStaysWithItsNode(relayPolicy: PeerSharing, holderPolicy: PeerSharing, tag: Int, digest: Int, blob: Int) async throws {
        let image = try layout("image")
        var holderConfiguration = RegistryHandler.Configuration()
        holderConfiguration.sharing = holderPolicy
        var relayConfiguration = RegistryHandler.Configuration()
        relayConfiguration.sharing = relayPolicy
        let holder = try await TestNode.start("holder", key: key, layout: image.path, scratch: scratch.path, configuration: holderConfiguration)
        let relay = try await TestNode.start("relay", key: key, layout: nil, scratch: scratch.path, configuration: relayConfiguration)
        await TestNode.link([holder, relay])
        #expect(try await client.testRequest(relay.baseURL + image.manifestPath).status == tag)
        #expect(try await client.testRequest(relay.baseURL + "/v2/test/app/manifests/\(image.manifest.digest)?ns=docker.io").status == digest)
        #expect(try await client.testRequest(relay.baseURL + image.blobPath(image.layers[0])).status == blob)
        // The holder's own clients are never restricted.
        #expect(try await client.testRequest(holder.baseURL + image.manifestPath).status == 200)
    }

    /// Issue 9, finding 11: the Content-Length of a small relayed blob is
    /// that of the verified bytes, whatever a holder claimed before.
    @Test func smallRelayedBlobsDeclareTheVerifiedLength() async throws {
        let image = try layout("image", layerSizes: [5000])
        let blob = image.layers[0]
        // A member with the key whose HEAD answers claim 1000 bytes more.
        let liar = try await TestNode.start(
            "liar", key: key, layout: image.path, scratch: scratch.path,
            intercept: { request, response in
                guard request.method == .HEAD, request.uri.contains("/blobs/") else { return response }
                var lying = response
                lying.replaceBody(.empty)
                lying.headers.replaceOrAdd(name: "Content-Length", value: "\(blob.size + 1000)")
                return lying
            })
        let relay = try await TestNode.start("relay", key: key, layout: nil, scratch: scratch.path)
        await TestNode.link([liar, relay])
        let exchange = try await RawHTTP.get(port: relay.port, path: image.blobPath(blob))
        #expect(exchange.status == 200)
        #expect(exchange.declaredLength == Int64(blob.size))
        #expect(exchange.body.readableBytes == blob.size)
        #expect(DigestVerifier.digest(of: exchange.body) == blob.digest)
        // A range is resolved against the verified bytes too.
        let ranged = try await RawHTTP.get(port: relay.port, path: image.blobPath(blob), headers: [("Range", "bytes=4990-")])
        #expect(ranged.status == 206)
        #expect(ranged.headers.first(name: "Content-Range") == "bytes 4990-4999/5000")
        #expect(ranged.body.readableBytes == 10 && ranged.declaredLength == 10)
    }

    /// Issue 9, finding 6: a blob swapped for a link to a file outside the
    /// layout is not served (the descriptor is opened without following links).
    @Test func aBlobSwappedForALinkIsNotServed() async throws {
        let image = try layout("image", layerSizes: [64])
        let node = try await TestNode.start("node", key: key, layout: image.path, scratch: scratch.path)
        let secret = "\(scratch.path)/secret"
        try Data(repeating: 0x53, count: 64).write(to: URL(fileURLWithPath: secret))
        let file = image.file(of: image.layers[0])
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: secret)
        let answer = try await RawHTTP.get(port: node.port, path: image.blobPath(image.layers[0]))
        #expect(answer.status == 404)
        #expect(!String(buffer: answer.body).contains("SSSS"))
    }
}

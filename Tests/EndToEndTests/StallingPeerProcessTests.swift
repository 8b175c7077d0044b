import Catalog
import Foundation
import Gossip
import Registry
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Issue 13: a peer that stalls after its response head. The relay is a real
/// `gossip-mirror run`; the staller is a member played by the test
/// (`GossipImpostor`: it joins with a sealed push/pull carrying a real
/// summary of the image, and answers probes) whose registry port is a
/// `StallingPeer`: a sealed 200 head, then nothing. The relay must give the
/// staller up after `PeerRouterSettings.lowSpeedTime` (5 s), go on to a real
/// holder if there is one, and otherwise answer what lets the client go
/// upstream, within `bound`; no wrong byte reaches the client.
@Suite(.serialized, .enabled(if: TestEnvironment.canRun(["skopeo", "curl"]), "needs skopeo and curl"))
struct StallingPeerProcessTests {
    /// The stall timeout, and how long a client may wait in all: the stall
    /// timeout plus 10 s for a loaded machine (libcurl checks the speed once a second).
    static let stallTimeout = PeerRouterSettings().lowSpeedTime
    static let bound = stallTimeout + .seconds(10)

    /// The staller on `host`: a member whose summary holds every blob of
    /// `image` and whose registry port stalls. Returns once `relay` locates
    /// the image's largest layer on it.
    static func staller(
        on host: String, image: TestImage, key: String, joining relay: MirrorProcess
    ) async throws -> (member: GossipImpostor, peer: StallingPeer) {
        let blobs = Dictionary(uniqueKeysWithValues: image.hostImage!.descriptors.map { ($0.digest, Int($0.size)) })
        let peer = try StallingPeer(name: "staller", host: host, port: 5000, key: try ClusterKey(contentsOfFile: key), blobs: blobs)
        let member = try GossipImpostor(name: "staller", host: host, keyFile: key)
        var summary = BloomFilter(expectedCount: 64, generation: 1)
        for digest in blobs.keys { summary.insert(digest) }
        let metadata = ["registry": peer.address]
        member.answerPings(incarnation: 1, metadata: metadata, generation: 1)
        let join = SWIM.StreamMessage.pushPull(
            join: true, from: SWIM.Sender(name: member.name, endpoint: member.endpoint),
            members: [member.state(incarnation: 1, metadata: metadata, generation: 1)],
            payload: member.identity.signed(SWIM.Payload(generation: 1, bytes: summary.serialized()), owner: member.name))
        let relayGossip = SWIM.Endpoint(host: relay.host, port: 7946)
        let answered = try await Task.detached { try member.exchange(join, with: relayGossip) }.value
        try #require(answered != nil, "the relay did not answer the staller's join\n\(String(relay.log.suffix(3000)))")
        let large = image.hostImage!.layers.last!.digest.description
        let located = await poll(timeout: .seconds(10)) { await relay.locate(large)?.holders.contains("staller") == true }
        try #require(located != nil, "the relay does not locate the image on the staller\n\(String(relay.log.suffix(3000)))")
        return (member, peer)
    }

    /// `GET` a blob through `node` with curl: HTTP status (0 when the
    /// transfer broke), bytes received, their sha256, whether curl failed,
    /// and how long it took.
    static func fetch(_ digest: Digest, through node: MirrorProcess, to file: String) async throws
        -> (status: Int, bytes: Int, sha256: String, failed: Bool, took: Duration)
    {
        let started = ContinuousClock.now
        let output = try await Subprocess.run(
            [
                "curl", "-s", "-o", file, "-w", "%{http_code} %{size_download}", "--max-time", "60",
                "http://\(node.registryAddress)/v2/e2e/stall/blobs/\(digest)",
            ], check: false)
        let took = ContinuousClock.now - started
        let fields = output.stdout.split(separator: " ")
        let data = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
        return (
            fields.count == 2 ? Int(fields[0]) ?? 0 : 0, data.count, SHA256.hash([UInt8](data)).hex, output.status != 0, took
        )
    }

    @Test func withNoOtherHolderTheClientIsToldToGoUpstreamWithinTheBound() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let image = try await TestImageBuilder(layerSizes: [3000, 2_000_000], seed: 131).write(to: "\(dir.path)/image", tag: "v1")
        let subnet = LoopbackCluster.subnet(23)
        let relay = try LoopbackCluster.node("relay", "\(subnet).2", key: key, join: [], layout: dir.appending("b"), dir: dir)
        defer { kill(relay.pid, SIGKILL) }
        try #require(await poll(timeout: .seconds(10)) { await relay.status() != nil } != nil, "\(relay.log)")
        let (member, peer) = try await Self.staller(on: "\(subnet).5", image: image, key: key, joining: relay)
        defer {
            member.stop()
            peer.stop()
        }

        // Small blob, fetched whole before anything is sent: a 404, so containerd goes upstream.
        let small = image.hostImage!.layers[0]
        let buffered = try await Self.fetch(small.digest, through: relay, to: dir.appending("small"))
        #expect(buffered.status == 404, "a stalled small blob is answered \(buffered.status)")
        #expect(peer.targets.contains { $0.contains(small.digest.description) }, "the staller was not asked")
        #expect(buffered.took >= Self.stallTimeout - .seconds(1), "answered after \(buffered.took), before the stall timeout")
        #expect(buffered.took < Self.bound, "the client waited \(buffered.took), over \(Self.bound)")

        // Large blob, streamed: the head may already be out; the transfer then
        // breaks (never completes with bytes that are not the blob's).
        let large = image.hostImage!.layers[1]
        let streamed = try await Self.fetch(large.digest, through: relay, to: dir.appending("large"))
        #expect(streamed.status == 404 || streamed.failed, "a stalled large blob ended \(streamed.status) without an error")
        #expect(streamed.bytes < Int(large.size), "the client received \(streamed.bytes) bytes of a blob nobody served")
        #expect(streamed.took < Self.bound, "the client waited \(streamed.took), over \(Self.bound)")
        print(
            "stalling peer, no other holder: small blob \(buffered.status) after \(buffered.took);"
                + " large blob \(streamed.status) (curl \(streamed.failed ? "error" : "ok"), \(streamed.bytes) bytes) after \(streamed.took)")

        let view = try #require(await relay.status())
        #expect(view.state(of: "staller") == "alive", "the staller answers probes: it must not be declared dead")
        #expect(view.counts.peerFailures >= 2, "the stalled attempts were not counted as failures")
        #expect(relay.isRunning)
    }

    @Test func theRelayMovesOnToARealHolderWithinTheStallTimeout() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let image = try await TestImageBuilder(layerSizes: [3000, 4000, 5000, 6000, 7000, 2_000_000], seed: 137)
            .write(to: "\(dir.path)/image", tag: "v1")
        let subnet = LoopbackCluster.subnet(24)
        let (holder, relay, located) = try await LoopbackCluster.holderAndRelay(
            serving: image, as: "docker.io/e2e/stall:v1", subnet: subnet, key: key, dir: dir)
        defer { for n in [holder, relay] { kill(n.pid, SIGKILL) } }
        try #require(located, "\(LoopbackCluster.logs([holder, relay]))")
        let (member, peer) = try await Self.staller(on: "\(subnet).5", image: image, key: key, joining: relay)
        defer {
            member.stop()
            peer.stop()
        }

        // The relay asks the holder with the best score first (round-trip
        // time, load, failures), so which is first is the network's choice.
        // Before each pull, wait until the relay's view ranks the staller
        // first; each pull must succeed with the right bytes whoever is
        // asked, and one that meets the staller must move on within the bound.
        var stalled: [Duration] = []
        var served = 0
        for layer in image.hostImage!.layers where layer.size < 100_000 {
            _ = await Self.untilStallerRanksFirst(on: relay)
            let asked = peer.targets.count
            let result = try await Self.fetch(layer.digest, through: relay, to: dir.appending("blob-\(served)"))
            #expect(result.status == 200 && result.sha256 == layer.digest.hex, "\(layer.digest): \(result.status), \(result.bytes) bytes")
            #expect(result.took < Self.bound, "the client waited \(result.took), over \(Self.bound)")
            served += 1
            if peer.targets.count > asked {
                stalled.append(result.took)
                break
            }
        }
        // And the large layer, streamed, with the right bytes whoever serves it.
        let large = image.hostImage!.layers.last!
        let whole = try await Self.fetch(large.digest, through: relay, to: dir.appending("large"))
        #expect(whole.status == 200 && whole.sha256 == large.digest.hex, "large layer: \(whole.status), \(whole.bytes) bytes")
        print(
            "stalling peer, real holder behind it: \(served) small blobs served, the staller met \(stalled.count) time(s),"
                + " those pulls took \(stalled); the large layer took \(whole.took)")
        #expect(!stalled.isEmpty, "the relay never asked the staller first: the test proves nothing")
        let view = try #require(await relay.status())
        #expect(view.counts.verificationFailures == 0)
        for name in ["holder", "staller"] { #expect(view.state(of: name) == "alive", "\(name) is \(view.state(of: name) ?? "gone")") }
        #expect(relay.isRunning && holder.isRunning)
    }

    /// Waits (up to 20 s) until the relay's round-trip time to the staller
    /// has been below that to the holder for 2.5 s in a row (its peer
    /// directory refreshes them every 2 s).
    static func untilStallerRanksFirst(on relay: MirrorProcess) async -> Bool {
        var since: ContinuousClock.Instant?
        return await poll(timeout: .seconds(20), every: .milliseconds(250)) {
            guard let view = await relay.status(),
                let staller = view.members.first(where: { $0.name == "staller" })?.roundTripMilliseconds,
                let holder = view.members.first(where: { $0.name == "holder" })?.roundTripMilliseconds,
                max(0.05, staller) < max(0.05, holder)
            else {
                since = nil
                return false
            }
            let start = since ?? ContinuousClock.now
            since = start
            return ContinuousClock.now - start >= .milliseconds(2500)
        } != nil
    }
}

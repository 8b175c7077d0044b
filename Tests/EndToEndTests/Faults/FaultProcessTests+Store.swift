import Foundation
import Testing
import TestSupport

/// Faults of an OCI-layout content store: blobs garbage-collected while they
/// are served, and a store that cannot be read at all.
extension FaultProcessTests {
    static let gcReference = "docker.io/faults/gc:v1"

    /// A holder serving a 64 MiB blob from an OCI layout, and a relay that
    /// knows it holds it; both removed by the caller.
    static func holderAndRelay(_ dir: ScratchDirectory, size: Int, reference: String, subnet: Int) async throws
        -> (image: LoadImage, holder: MirrorProcess, relay: MirrorProcess)
    {
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let net = LoopbackCluster.subnet(subnet)
        let image = try await LoadImage.write(to: dir.appending("a"), size: size, reference: reference)
        let holder = try LoopbackCluster.node("holder", "\(net).1", key: key, join: [], layout: image.layout, dir: dir)
        let relay = try LoopbackCluster.node("relay", "\(net).2", key: key, join: ["\(net).1"], layout: dir.appending("b"), dir: dir)
        guard await LoopbackCluster.waitForHolder(relay, reference, "holder") else {
            let logs = LoopbackCluster.logs([holder, relay])
            for n in [holder, relay] { await n.stop() }
            throw TimedOut(what: "the relay to locate \(reference) on the holder\n\(logs)", deadline: .seconds(10))
        }
        return (image, holder, relay)
    }

    /// Fault 1: garbage collection unlinks a blob while two clients read it,
    /// one from the holder, one through the relay (the peer path). Each
    /// gets the whole correct blob (the open descriptor keeps the bytes) or
    /// a clean error; afterwards the blob is a 404 everywhere, and both
    /// nodes stay healthy, small and members.
    @Test func aBlobGarbageCollectedWhileServedIsWholeOrACleanErrorThenA404() async throws {
        let dir = try ScratchDirectory()
        let size = 64 << 20
        let (image, holder, relay) = try await Self.holderAndRelay(dir, size: size, reference: Self.gcReference, subnet: 30)
        let nodes = [holder, relay]
        defer { for n in nodes { kill(n.pid, SIGKILL) } }
        let memory = MemoryWatch(nodes)
        let watch = MembershipWatch(hosts: nodes, names: ["holder", "relay"])
        let watching = Task { await watch.run() }

        // Two readers at 16 MB/s (about 4 s for the blob) ...
        let direct = SlowDownload(image.blobURL(on: holder), to: dir.appending("direct"))
        let relayed = SlowDownload(image.blobURL(on: relay), to: dir.appending("relayed"))
        let reading = await poll(timeout: .seconds(10)) { direct.received > 1 << 20 && relayed.received > 1 << 20 }
        try #require(reading != nil, "the downloads did not start\n\(LoopbackCluster.logs(nodes))")
        // ... when garbage collection removes the image, then unlinks its blobs.
        let layout = try OCILayoutWriter(root: image.layout)
        try layout.writeIndex([])
        for file in try FileManager.default.contentsOfDirectory(atPath: image.layout + "/blobs/sha256") {
            try FileManager.default.removeItem(atPath: image.layout + "/blobs/sha256/" + file)
        }
        let midway = (direct.received, relayed.received)
        let directOutcome = try await direct.finish()
        let relayedOutcome = try await relayed.finish()
        print("GC mid-serve of \(size >> 20) MiB, unlinked at \(midway.0) / \(midway.1) bytes: direct \(directOutcome); relayed \(relayedOutcome)")
        #expect(midway.0 < size && midway.1 < size, "a download finished before the unlink: the test proves nothing")
        #expect(directOutcome.isWholeOrCleanError(size: size, hex: image.digest.hex), "direct: \(directOutcome)")
        #expect(relayedOutcome.isWholeOrCleanError(size: size, hex: image.digest.hex), "relayed: \(relayedOutcome)")

        // The blob is gone: a 404 at once on the holder (the open fails), and
        // on the relay once the holder's summary no longer lists it.
        let (atHolder, took) = try await holder.statusCode(of: image.blobURL(on: holder))
        #expect(atHolder == 404, "the holder answered \(atHolder) for an unlinked blob")
        let relay404 = await poll(timeout: .seconds(15)) { (try? await relay.statusCode(of: image.blobURL(on: relay)).0) == 404 }
        #expect(relay404 != nil, "the relay did not answer 404 for the collected blob")
        let noticed = await poll(timeout: .seconds(15)) {
            let blobs = await holder.status()?.catalog?.blobs
            let holders = await relay.locate(Self.gcReference)?.holders
            return blobs == 0 && holders?.isEmpty == true
        }
        #expect(noticed != nil, "the catalog did not drop the collected image\n\(LoopbackCluster.logs(nodes))")
        print("after GC: holder 404 in \(took.short); catalogs current after \(noticed?.short ?? "-")")

        await Self.expectUp(nodes)
        await memory.expectUnderBound()
        let seen = await Self.finish(watch, watching).anomalies
        #expect(seen.isEmpty, "\(seen.prefix(5))")
    }

    /// Fault 2: the store cannot be read. Root ignores permission bits, so
    /// the layout directory is replaced by a regular file (renamed away):
    /// every path under it fails as a store that is unmounted or denied
    /// would. The node stays up, answers 404 at once (clients fall back
    /// upstream), reports the store unavailable in `/status.json` with a
    /// warning in its log, and serves again once the directory is back.
    @Test func anUnreadableStoreAnswers404AndRecovers() async throws {
        let dir = try ScratchDirectory()
        let size = 4 << 20
        let reference = "docker.io/faults/unreadable:v1"
        let (image, holder, relay) = try await Self.holderAndRelay(dir, size: size, reference: reference, subnet: 31)
        let nodes = [holder, relay]
        defer { for n in nodes { kill(n.pid, SIGKILL) } }
        let memory = MemoryWatch(nodes)
        let watch = MembershipWatch(hosts: nodes, names: ["holder", "relay"])
        let watching = Task { await watch.run() }
        let before = try await SlowDownload(image.blobURL(on: holder), to: dir.appending("before"), rate: "1G").finish()
        try #require(before.isWhole(size: size, hex: image.digest.hex), "not served before the fault: \(before)")

        let away = image.layout + ".away"
        try FileManager.default.moveItem(atPath: image.layout, toPath: away)
        try Data("not a directory\n".utf8).write(to: URL(fileURLWithPath: image.layout))
        for n in nodes {
            let (code, took) = try await n.statusCode(of: image.blobURL(on: n))
            #expect(code == 404, "\(n.name) answered \(code) while the store is unreadable")
            print("unreadable store: \(n.name) answered \(code) in \(took.short)")
        }
        let manifest = "http://\(holder.registryAddress)/v2/faults/unreadable/manifests/v1"
        #expect(try await holder.statusCode(of: manifest).0 == 404)
        let reported = await poll(timeout: .seconds(10)) { await holder.status()?.catalog?.available == false }
        #expect(reported != nil, "/status.json never said the store is unavailable")
        #expect(holder.logLines(containing: "content store unavailable") >= 1, "no warning in the log")
        // Still ready: it answers, and its 404 is what lets clients fall back.
        let readiness = try await holder.statusCode(of: "http://\(holder.statusAddress)/readyz").0
        #expect(readiness == 200, "/readyz answered \(readiness) while the store is unreadable")
        print("store reported unavailable after \(reported?.short ?? "-")")

        try FileManager.default.removeItem(atPath: image.layout)
        try FileManager.default.moveItem(atPath: away, toPath: image.layout)
        let recovered = await poll(timeout: .seconds(15)) { await holder.status()?.catalog?.available == true }
        #expect(recovered != nil, "the store did not come back\n\(LoopbackCluster.logs(nodes))")
        for n in nodes {
            let after = try await SlowDownload(image.blobURL(on: n), to: dir.appending("after-\(n.name)"), rate: "1G").finish()
            #expect(after.isWhole(size: size, hex: image.digest.hex), "\(n.name) after recovery: \(after)")
        }
        await Self.expectUp(nodes)
        await memory.expectUnderBound()
        let seen = await Self.finish(watch, watching).anomalies
        #expect(seen.isEmpty, "\(seen.prefix(5))")
    }
}

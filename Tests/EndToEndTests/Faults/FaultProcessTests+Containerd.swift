import Foundation
import Testing
import TestSupport

/// Faults of the containerd store, with a containerd the test starts with
/// its own root (`ContainerdProcess`): nothing of the machine's containerd
/// is touched.
extension FaultProcessTests {
    /// Imports the OCI layout of `image` into `containerd` as `base:v1`,
    /// content only (its layer is random bytes, not a tar to unpack).
    static func importImage(_ image: LoadImage, base: String, into containerd: ContainerdProcess, _ dir: ScratchDirectory) async throws {
        let archive = dir.appending("\(image.digest.hex.prefix(12)).tar")
        try await Subprocess.run(["tar", "-C", image.layout, "-cf", archive, "oci-layout", "index.json", "blobs"])
        try await containerd.ctr(["images", "import", "--no-unpack", "--all-platforms", "--base-name", base, archive])
    }

    /// Fault 3, then fault 1 on containerd's content directory. A holder
    /// serves a 64 MiB blob from containerd; its containerd restarts while a
    /// relay streams the blob (and a request arrives while it is down); the
    /// holder reconnects and its catalog is current again (an image imported
    /// after the restart is located). Then containerd's garbage collection
    /// unlinks the blob while it is read from the holder and through the
    /// relay: whole bytes or a clean error, then a 404 everywhere.
    @Test(.enabled(if: TestEnvironment.canRun(TestEnvironment.containerdTools, needsRoot: true)))
    func containerdRestartingAndCollectingDuringRelaysIsSurvived() async throws {
        try await ContainerdProcess.with { containerd in
            let dir = try ScratchDirectory()
            let size = 64 << 20
            let image = try await LoadImage.write(to: dir.appending("img"), size: size, reference: "docker.io/faults/ctd:v1")
            try await Self.importImage(image, base: "docker.io/faults/ctd", into: containerd, dir)
            let key = try LoopbackCluster.writeKey(dir, "cluster.key")
            let net = LoopbackCluster.subnet(36)
            let holder = try MirrorProcess(
                name: "holder", host: "\(net).1", keyFiles: [key], join: [], directory: dir.path,
                store: [
                    "--store", "containerd", "--containerd-sock", containerd.socketPath, "--containerd-namespace", containerd.namespace,
                    "--containerd-content-root", containerd.root,
                ])
            let relay = try LoopbackCluster.node("relay", "\(net).2", key: key, join: ["\(net).1"], layout: dir.appending("b"), dir: dir)
            let nodes = [holder, relay]
            defer { for n in nodes { kill(n.pid, SIGKILL) } }
            let located = await poll(timeout: .seconds(20)) { await relay.locate("docker.io/faults/ctd:v1")?.holders == ["holder"] }
            try #require(located != nil, "the relay never located the image on the holder\n\(LoopbackCluster.logs(nodes))")
            let memory = MemoryWatch(nodes)
            let watch = MembershipWatch(hosts: nodes, names: ["holder", "relay"])
            let watching = Task { await watch.run() }
            let hex = image.digest.hex

            // containerd stops while the relay streams; a request arrives while it is down.
            let during = SlowDownload(image.blobURL(on: relay), to: dir.appending("during"))
            let streaming = await poll(timeout: .seconds(10)) { during.received > 1 << 20 }
            try #require(streaming != nil, "the relayed download did not start\n\(LoopbackCluster.logs(nodes))")
            await containerd.stop()
            let whileDown = try await SlowDownload(image.blobURL(on: holder), to: dir.appending("down"), rate: "1G").finish()
            try await containerd.start()
            let duringOutcome = try await during.finish()
            print("containerd restart during a relay: relayed \(duringOutcome); request while down \(whileDown)")
            #expect(duringOutcome.isWholeOrCleanError(size: size, hex: hex), "relayed during the restart: \(duringOutcome)")
            #expect(
                whileDown.isWhole(size: size, hex: hex) || (whileDown.httpStatus == 404 && whileDown.curlStatus == 0),
                "while containerd was down the holder answered \(whileDown)")

            // Reconnected: an image imported after the restart is advertised.
            let second = try await LoadImage.write(to: dir.appending("img2"), size: 1 << 20, reference: "docker.io/faults/ctd2:v1")
            try await Self.importImage(second, base: "docker.io/faults/ctd2", into: containerd, dir)
            let current = await poll(timeout: .seconds(30), every: .milliseconds(100)) {
                await relay.locate("docker.io/faults/ctd2:v1")?.holders == ["holder"]
            }
            #expect(current != nil, "the holder's catalog did not follow containerd after its restart\n\(LoopbackCluster.logs(nodes))")
            print("catalog current again \(current?.short ?? "-") after the import that followed the restart")
            let after = try await SlowDownload(image.blobURL(on: relay), to: dir.appending("after"), rate: "1G").finish()
            #expect(after.isWhole(size: size, hex: hex), "relayed after the restart: \(after)")

            // Garbage collection unlinks the blob while two clients read it.
            let direct = SlowDownload(image.blobURL(on: holder), to: dir.appending("direct"))
            let relayed = SlowDownload(image.blobURL(on: relay), to: dir.appending("relayed"))
            let reading = await poll(timeout: .seconds(10)) { direct.received > 1 << 20 && relayed.received > 1 << 20 }
            try #require(reading != nil, "the downloads did not start\n\(LoopbackCluster.logs(nodes))")
            try await containerd.ctr(["images", "rm", "--sync", "docker.io/faults/ctd:v1"])
            #expect(!FileManager.default.fileExists(atPath: containerd.blobPath(hex)), "containerd did not collect the blob")
            let midway = (direct.received, relayed.received)
            let directOutcome = try await direct.finish()
            let relayedOutcome = try await relayed.finish()
            print("containerd GC mid-serve at \(midway.0) / \(midway.1) bytes: direct \(directOutcome); relayed \(relayedOutcome)")
            #expect(midway.0 < size && midway.1 < size, "a download finished before the collection: the test proves nothing")
            #expect(directOutcome.isWholeOrCleanError(size: size, hex: hex), "direct: \(directOutcome)")
            #expect(relayedOutcome.isWholeOrCleanError(size: size, hex: hex), "relayed: \(relayedOutcome)")
            let gone = await poll(timeout: .seconds(15)) {
                let codes = [
                    try? await holder.statusCode(of: image.blobURL(on: holder)).0, try? await relay.statusCode(of: image.blobURL(on: relay)).0,
                ]
                return codes == [404, 404]
            }
            #expect(gone != nil, "the collected blob was not a 404 on both nodes")

            await Self.expectUp(nodes)
            await memory.expectUnderBound()
            let seen = await Self.finish(watch, watching).anomalies
            #expect(seen.isEmpty, "\(seen.prefix(5))")
        }
    }
}

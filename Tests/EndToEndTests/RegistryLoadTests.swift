import Catalog
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Gossip
import Registry
import Testing
import TestSupport

/// 200 concurrent downloads of one 256 MiB blob through one node: every
/// download must carry the right bytes (sha256) while the serving node's
/// resident memory stays under 256 MiB (VmRSS sampled every 100 ms, and the
/// kernel's own high-water mark VmHWM).
///
/// The client side stays small: each download is `curl | openssl dgst -sha256`
/// (streamed and hashed at native speed; nothing is buffered in this process).
/// 200 x 256 MiB = 50 GiB go through loopback, so this is the slowest end-to-end
/// test; the time it took is printed.
///
/// A node that buffers per download could need up to 50 GiB: the sampler
/// kills it once it passes `safetyCapKiB` (4x the limit), so such a failure is
/// reported quickly instead of exhausting the machine.
@Suite(
    .serialized,
    .enabled(if: TestEnvironment.canRun(["curl", "openssl", "bash"]), "needs curl, openssl and bash"))
struct RegistryLoadTests {
    static let blobSize = 256 << 20
    static let downloads = 200
    static let rssLimitKiB = 256 << 10
    static let safetyCapKiB = 1 << 20
    static let repository = "docker.io/load/blob"

    /// Node A serves the blob from its OCI layout (sendfile).
    @Test func twoHundredConcurrentDownloadsFromTheLocalStoreStayUnder256MiB() async throws {
        let holder = try await Holder.start()
        // Through `holder`, which keeps the layout directory alive to the end.
        defer { kill(holder.a.pid, SIGKILL) }
        let url = holder.image.blobURL(on: holder.a)
        let ready = await poll(timeout: .seconds(20), every: .milliseconds(100)) { await Self.status(url, method: "HEAD") == 200 }
        try #require(ready != nil, "node A does not serve the blob\n\(LoopbackCluster.logs([holder.a]))")

        try await Self.load(url: url, node: holder.a, image: holder.image, logs: [holder.a])
    }

    /// Node B holds nothing and relays from A (peer path, digest-verified).
    @Test func twoHundredConcurrentDownloadsThroughAPeerStayUnder256MiB() async throws {
        let holder = try await Holder.start()
        let (a, image) = (holder.a, holder.image)
        let b = try MirrorProcess(
            name: "load-b", host: "\(holder.subnet).2", keyFiles: [holder.key], join: ["\(holder.subnet).1:7946"],
            directory: holder.directory.path, extra: ["--log-level", "info"])
        // Through `holder`, which keeps the layout directory alive to the end.
        defer { for n in [holder.a, b] { kill(n.pid, SIGKILL) } }
        let url = image.blobURL(on: b)

        let located = await poll(timeout: .seconds(20), every: .milliseconds(100)) {
            await b.locate(image.digest.description)?.holders == ["load-a"]
        }
        try #require(located != nil, "B never located the blob on A\n\(LoopbackCluster.logs([a, b]))")
        let probe = await Self.status(url, method: "HEAD")
        try #require(probe == 200, "B answered \(probe.map(String.init) ?? "nothing") to HEAD\n\(LoopbackCluster.logs([a, b]))")

        // Relaying holds a few chunks per transfer; with 200 transfers the
        // fetcher's buffer budget keeps each at the smallest chunk size.
        try await Self.load(url: url, node: b, image: image, logs: [a, b], relayed: true)
    }

    /// What both tests start from: the blob in an OCI layout, a cluster key,
    /// and node A serving that layout on a loopback /24 of its own.
    struct Holder {
        let directory: ScratchDirectory
        let image: LoadImage
        let key: String
        let subnet: String
        let a: MirrorProcess

        static func start() async throws -> Holder {
            let dir = try ScratchDirectory("gm-load")
            let image = try await LoadImage.write(to: "\(dir.path)/layout", size: blobSize, reference: "\(repository):v1")
            let key = try LoopbackCluster.writeKey(dir, "cluster.key")
            let subnet = LoopbackCluster.subnet(135)
            let a = try MirrorProcess(
                name: "load-a", host: "\(subnet).1", keyFiles: [key], join: [], directory: dir.path,
                store: ["--store", "oci-layout", "--oci-layout", image.layout], extra: ["--log-level", "info"])
            return Holder(directory: dir, image: image, key: key, subnet: subnet, a: a)
        }
    }

    // MARK: The load

    /// Runs `downloads` concurrent downloads of `url`, sampling `node`'s VmRSS
    /// every 100 ms, and checks digests, overlap and memory.
    static func load(
        url: String, node: MirrorProcess, image: LoadImage, logs: [MirrorProcess], relayed: Bool = false
    ) async throws {
        let sampler = RSSSampler(pid: node.pid, killAboveKiB: safetyCapKiB)
        let sampling = Task { await sampler.run(every: .milliseconds(100)) }
        let started = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: Download.self) { group in
            for i in 0..<downloads {
                group.addTask { try await Download.run(index: i, url: url, since: started) }
            }
            var all: [Download] = []
            for try await result in group { all.append(result) }
            return all
        }
        let elapsed = ContinuousClock.now - started
        sampling.cancel()
        let samples = await sampling.value
        let highWater = RSSSampler.read(pid: node.pid, field: "VmHWM")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let bytes = Double(downloads) * Double(image.size)
        let lastStart = results.map(\.started).max() ?? .zero
        let firstEnd = results.map(\.finished).min() ?? .zero
        print(
            """
            RegistryLoadTests: \(downloads) x \(image.size >> 20) MiB from \(node.name) in \(elapsed) \
            (\(Int(bytes / seconds / 1e6)) MB/s aggregate); \(node.name) peak VmRSS \(samples.peakKiB >> 10) MiB \
            over \(samples.count) samples, VmHWM \(highWater.map { "\($0 >> 10) MiB" } ?? "?"); \
            last download started at \(lastStart), first finished at \(firstEnd); \
            \(results.filter { $0.status == 404 }.count) answered 404
            """)
        #expect(
            !samples.killed,
            "\(node.name) passed the safety cap of \(safetyCapKiB >> 10) MiB resident and was killed (peak seen \(samples.peakKiB >> 10) MiB)")

        // A relaying node may answer a clean 404 when a peer does not answer in
        // time (containerd then goes upstream); it must never send wrong bytes.
        let misses = relayed ? results.filter { $0.status == 404 } : []
        #expect(misses.count * 20 <= results.count, "\(misses.count) of \(downloads) relayed downloads missed")
        let wrong = results.filter {
            !(relayed && $0.status == 404) && ($0.sha256 != image.digest.hex || $0.status != 200 || $0.size != image.size)
        }
        #expect(
            wrong.isEmpty,
            """
            \(wrong.count) of \(downloads) downloads failed or carried wrong bytes, e.g. \
            \(wrong.prefix(3).map { "#\($0.index): HTTP \($0.status), \($0.size) bytes, sha256 \($0.sha256.prefix(16)), curl: \($0.error)" })
            \(LoopbackCluster.logs(logs))
            """)
        #expect(lastStart < firstEnd, "the downloads did not all overlap: the last started at \(lastStart), the first ended at \(firstEnd)")
        #expect(samples.count >= 10, "too few VmRSS samples (\(samples.count)) to say anything about memory")
        #expect(samples.killed || samples.missed == 0, "\(node.name) was gone for \(samples.missed) samples")
        #expect(samples.peakKiB < rssLimitKiB, "\(node.name) peak VmRSS \(samples.peakKiB) KiB is not under \(rssLimitKiB) KiB")
        #expect(
            (highWater ?? Int.max) < rssLimitKiB,
            "\(node.name) VmHWM \(highWater.map(String.init) ?? "unreadable") KiB is not under \(rssLimitKiB) KiB")
    }

    /// The status of one request, or nil if the node does not answer.
    static func status(_ url: String, method: String) async -> Int? {
        guard let url = URL(string: url) else { return nil }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.timeoutInterval = 2
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return nil }
        return (response as? HTTPURLResponse)?.statusCode
    }
}

/// One `curl | openssl dgst -sha256` download.
struct Download: Sendable {
    var index: Int
    var status: Int
    var size: Int
    var sha256: String
    var error: String
    var started: Duration
    var finished: Duration

    static func run(index: Int, url: String, since start: ContinuousClock.Instant) async throws -> Download {
        // curl's status and size go to stderr (%{stderr}) so stdout is the digest alone.
        let script = """
            set -o pipefail
            curl -sS --max-time 900 -w '%{stderr}%{http_code} %{size_download}\\n' '\(url)' | openssl dgst -sha256 -r
            """
        let began = ContinuousClock.now - start
        let output = try await Subprocess.run(["bash", "-c", script], deadline: .seconds(960), check: false)
        let ended = ContinuousClock.now - start
        let stderr = output.stderr.split(separator: "\n").map(String.init)
        let fields = (stderr.last ?? "").split(separator: " ")
        return Download(
            index: index,
            status: fields.count == 2 ? Int(fields[0]) ?? 0 : 0,
            size: fields.count == 2 ? Int(fields[1]) ?? -1 : -1,
            sha256: String(output.stdout.split(separator: " ").first ?? ""),
            error: stderr.dropLast().joined(separator: "; "),
            started: began,
            finished: ended)
    }
}

/// Samples a process's VmRSS from /proc/<pid>/status.
actor RSSSampler {
    struct Samples: Sendable {
        var count = 0
        var missed = 0
        var peakKiB = 0
        /// Whether the process passed `killAboveKiB` and was killed.
        var killed = false
    }

    let pid: Int32
    let killAboveKiB: Int
    private var samples = Samples()

    init(pid: Int32, killAboveKiB: Int) {
        self.pid = pid
        self.killAboveKiB = killAboveKiB
    }

    /// Samples until cancelled; returns what it saw.
    func run(every interval: Duration) async -> Samples {
        while !Task.isCancelled {
            if let kib = Self.read(pid: pid, field: "VmRSS") {
                samples.count += 1
                samples.peakKiB = max(samples.peakKiB, kib)
                if kib > killAboveKiB, !samples.killed {
                    samples.killed = true
                    kill(pid, SIGKILL)
                }
            } else if samples.killed {
                break
            } else {
                samples.missed += 1
            }
            try? await Task.sleep(for: interval)
        }
        return samples
    }

    /// A `kB` field of /proc/<pid>/status, in KiB.
    static func read(pid: Int32, field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
        }
        return nil
    }
}

/// An OCI layout holding one image whose single layer is `size` random bytes
/// (from `openssl rand`, so a big blob is written at native speed), named by a
/// full reference so the catalog advertises it.
struct LoadImage: Sendable {
    var layout: String
    var digest: Digest
    var size: Int
    var repositoryPath: String

    func blobURL(on node: MirrorProcess) -> String {
        "http://\(node.registryAddress)/v2/\(repositoryPath)/blobs/\(digest)"
    }

    static func write(to path: String, size: Int, reference: String) async throws -> LoadImage {
        let layout = try OCILayoutWriter(root: path)
        let temporary = path + "/random"
        try await Subprocess.run(["openssl", "rand", "-out", temporary, String(size)])
        let hashed = try await Subprocess.run(["openssl", "dgst", "-sha256", "-r", temporary])
        guard let hex = hashed.stdout.split(separator: " ").first, let digest = Digest("sha256:" + hex) else {
            throw Subprocess.Failure(command: ["openssl", "dgst"], reason: "printed no digest", output: hashed)
        }
        let blob = try layout.moveBlob(from: temporary, digest: digest, mediaType: MediaType.ociLayerTar)
        let config = try layout.addBlob(
            OCILayoutWriter.config(architecture: "amd64", diffIDs: [digest]), mediaType: MediaType.ociConfig)
        let manifest = try layout.addBlob(OCILayoutWriter.manifest(config: config, layers: [blob]), mediaType: MediaType.ociManifest)
        try layout.writeIndex(tagging: manifest, as: reference)

        // docker.io/load/blob:v1 -> load/blob (the path of /v2/<name>/blobs/…; no ns means docker.io).
        var name = reference.split(separator: ":").dropLast().joined(separator: ":")
        if name.hasPrefix("docker.io/") { name.removeFirst("docker.io/".count) }
        return LoadImage(layout: path, digest: digest, size: size, repositoryPath: name)
    }
}

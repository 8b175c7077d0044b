import Catalog
import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// The registry front of real `gossip-mirror run` processes.
@Suite(.serialized) struct RegistryProcessTests {
    /// An OCI layout naming its image with a full reference, as a node serves it.
    static func layout(named reference: String, layerSizes: [Int], in dir: ScratchDirectory) async throws -> (String, TestImage) {
        let image = try await TestImageBuilder(layerSizes: layerSizes).write(to: "\(dir.path)/source", tag: "v1")
        let layout = "\(dir.path)/served"
        try await LoopbackCluster.serve(image, as: reference, at: layout)
        return (layout, image)
    }

    @Test(.enabled(if: TestEnvironment.canRun(["skopeo", "curl"]), "needs skopeo and curl"))
    func servesLocalContentAndRejectsMalformedRequests() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let (layout, image) = try await Self.layout(named: "docker.io/e2e/local:v1", layerSizes: [5000, 150_000], in: dir)
        let host = "\(LoopbackCluster.subnet(4)).1"
        let node = try MirrorProcess(
            name: "holder", host: host, keyFiles: [key], join: [], directory: dir.path,
            store: ["--store", "oci-layout", "--oci-layout", layout])
        defer { kill(node.pid, SIGKILL) }
        let base = "http://\(node.registryAddress)"
        let ready = await poll(timeout: .seconds(10)) { (await node.status()?.catalog?.blobs ?? 0) >= 4 }
        try #require(ready != nil, "node did not read its layout\n\(node.log)")

        // The whole image, copied by a real client from the node, byte for byte.
        let copy = "\(dir.path)/copy"
        let copied = try await Subprocess.run(
            [
                "skopeo", "--insecure-policy", "copy", "--quiet", "--src-tls-verify=false", "--preserve-digests",
                "docker://\(node.registryAddress)/e2e/local:v1", "oci:\(copy):v1",
            ], check: false)
        try #require(copied.succeeded, "skopeo: \(copied.stderr)\n\(node.log.suffix(3000))")
        let host0 = try #require(image.hostImage)
        for d in host0.descriptors {
            let original = try Data(contentsOf: URL(fileURLWithPath: "\(image.layoutDirectory)/blobs/sha256/\(d.digest.hex)"))
            let copied = try Data(contentsOf: URL(fileURLWithPath: "\(copy)/blobs/sha256/\(d.digest.hex)"))
            #expect(original == copied, "\(d.digest) differs")
        }

        // Ranges.
        let layer = host0.layers[1]
        let (partial, _) = try await HTTPGet.curl(
            "\(base)/v2/e2e/local/blobs/\(layer.digest)", headers: ["Range: bytes=10-19"])
        #expect(partial == 206)
        let (unsatisfiable, body416) = try await HTTPGet.curl(
            "\(base)/v2/e2e/local/blobs/\(layer.digest)", headers: ["Range: bytes=999999999-"])
        #expect(unsatisfiable == 416)
        #expect(body416.contains("RANGE_INVALID"))

        // Malformed names, digests and ranges: 400 or 404 with an OCI error body.
        let hex = String(repeating: "a", count: 64)
        let bad: [(String, [String])] = [
            ("/v2/../../etc/passwd/blobs/sha256:\(hex)", []),
            ("/v2/e2e/../local/manifests/v1", []),
            ("/v2/e2e/local/blobs/sha512:\(hex)\(hex)", []),
            ("/v2/e2e/local/blobs/sha256:\(hex.prefix(63))", []),
            ("/v2/e2e/local/blobs/sha256:\(hex.uppercased())", []),
            ("/v2/e2e/local/blobs/sha256:..%2f..%2fetc%2fpasswd", []),
            ("/v2/" + String(repeating: "x/", count: 400) + "manifests/v1", []),
            ("/v2/e2e/local/blobs/\(layer.digest)", ["Range: bytes=oops"]),
            ("/v2/e2e/local/manifests/v1?ns=../../etc", []),
        ]
        for (path, headers) in bad {
            let (status, body) = try await HTTPGet.curl(base + path, headers: headers)
            #expect(status == 400 || status == 404, "\(path) → \(status)")
            #expect(body.contains(#""errors":[{"code":""#), "\(path) has no OCI error body: \(body)")
        }
        // Nothing was touched: the layout still serves the same image.
        #expect(await node.status()?.catalog?.blobs == 4)

        // Unknown content misses fast.
        let (missing, _) = try await HTTPGet.curl("\(base)/v2/e2e/local/blobs/sha256:\(hex)")
        #expect(missing == 404)
        let counts = try #require(await node.status()?.registry)
        #expect(counts.slowestMissMicroseconds < 5_000, "slowest 404 took \(counts.slowestMissMicroseconds) µs")
    }

    @Test(.enabled(if: TestEnvironment.canRun(["ip", "curl"], needsRoot: true), "needs root, ip and curl"))
    func requestsFromAnotherHostNeedAToken() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        try await NetworkNamespace.with { ns in
            let node = try MirrorProcess(
                name: "guarded", host: "127.0.\(Int.random(in: 2...250)).\(Int.random(in: 2...250))", keyFiles: [key], join: [],
                directory: dir.path, extra: ["--registry-addr", "\(ns.hostAddress):5000"])
            defer { kill(node.pid, SIGKILL) }
            let up = await poll(timeout: .seconds(10)) { await node.status() != nil }
            try #require(up != nil, "\(node.log)")
            let url = "http://\(ns.hostAddress):5000/v2/"
            var answer = try await ns.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", url])
            for _ in 0..<50 where answer.stdout.isEmpty {
                // The listener may still be binding: poll with a deadline.
                try await Task.sleep(for: .milliseconds(100))
                answer = try await ns.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", url])
            }
            #expect(answer.stdout.hasSuffix("401"), "\(answer.stdout)")
            #expect(answer.stdout.contains("UNAUTHORIZED"))
            let forged = try await ns.run([
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Gossip-Mirror-Token: v1.1.AAAA", url,
            ])
            #expect(forged.stdout == "401")
            #expect((await node.status()?.registry?.rejectedTokens ?? 0) >= 2)

            // Issue 9, finding 1: this token's time made `abs(now - time)`
            // trap, killing the node with one header and no key. Now: 401,
            // and the node stays up and serving.
            for header in [
                "X-Gossip-Mirror-Token: v1.-9223372036854775808.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "X-Gossip-Mirror-Token: v2.-9223372036854775808.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                "X-Gossip-Mirror-Token: v2.9223372036854775807.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ] {
                let crash = try await ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-H", header, url])
                #expect(crash.stdout == "401", "\(header): \(crash.stdout)")
            }
            #expect(node.isRunning, "the node died: \(node.log.suffix(2000))")
            let after = try await ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url])
            #expect(after.stdout == "401")
            #expect((await node.status()?.registry?.rejectedTokens ?? 0) >= 6)
        }
    }
}

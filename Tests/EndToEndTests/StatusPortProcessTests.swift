import Foundation
import Gossip
import Registry
import Testing
import TestSupport

/// The status port of a real `gossip-mirror run` (issue 9, finding 8): what
/// the cluster holds is not told to whoever reaches the port.
///
/// The node runs in a network namespace with its status port on every
/// address; the test asks from outside (a non-loopback source address), and
/// from loopback inside the namespace.
@Suite(.serialized, .enabled(if: TestEnvironment.canRun(["ip", "curl"], needsRoot: true), "needs root, ip and curl"))
struct StatusPortProcessTests {
    /// `gossip-mirror run` inside `ns`, status on 0.0.0.0:9090, serving an
    /// empty OCI layout; `extra` is appended.
    static func start(in ns: NetworkNamespace, name: String, key: String, dir: ScratchDirectory, extra: [String]) throws
        -> RunningProcess
    {
        let layout = "\(dir.path)/\(name)-layout"
        try FileManager.default.createDirectory(atPath: layout, withIntermediateDirectories: true)
        let arguments = [
            "ip", "netns", "exec", ns.name, MirrorProcess.binary, "run", "--name", name,
            "--gossip-addr", "\(ns.namespaceAddress):7946", "--registry-addr", "\(ns.namespaceAddress):5000",
            "--status-addr", "0.0.0.0:9090", "--key-file", key, "--store", "oci-layout", "--oci-layout", layout,
        ]
        return try Subprocess.launch(arguments + extra, logPath: "\(dir.path)/\(name).log", environment: MirrorProcess.environment)
    }

    /// Waits until the node answers `/readyz` from outside (an open path).
    static func waitUntilReady(_ base: String, _ node: RunningProcess) async throws {
        let ready = await poll(timeout: .seconds(15), every: .milliseconds(100)) {
            (try? await HTTPGet.curl("\(base)/readyz"))?.0 == 200
        }
        try #require(ready != nil, "the node never answered /readyz\n\(node.logTail())")
    }

    @Test func inventoryAnswersOnlyLoopbackTrustedNetworksAndClusterTokens() async throws {
        let dir = try ScratchDirectory()
        let key = ClusterKey.generate()
        let keyPath = "\(dir.path)/cluster.key"
        try (key.base64 + "\n").write(toFile: keyPath, atomically: true, encoding: .utf8)
        try await NetworkNamespace.with { ns in
            let base = "http://\(ns.namespaceAddress):9090"
            // A trusted network that does not hold the test's address.
            let node = try Self.start(in: ns, name: "guarded", key: keyPath, dir: dir, extra: ["--trusted-network", "192.0.2.0/24"])
            defer { kill(node.pid, SIGKILL) }
            try await Self.waitUntilReady(base, node)

            // From another host, without a token: the inventory is refused and
            // says nothing of the node; health and metrics stay open.
            let reference = "docker.io/library/app:v1".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            for path in ["/status.json", "/status", "/", "/locate?ref=\(reference)", "/no-such-page"] {
                let (status, body) = try await HTTPGet.curl(base + path)
                #expect(status == 403, "\(path) answered \(status) to a request without a token")
                #expect(!body.contains("guarded") && !body.contains(ns.namespaceAddress), "\(path) leaked: \(body)")
            }
            for path in ["/metrics", "/healthz", "/readyz"] {
                let (status, _) = try await HTTPGet.curl(base + path)
                #expect(status == 200, "\(path) answered \(status)")
            }
            let (_, metrics) = try await HTTPGet.curl(base + "/metrics")
            #expect(metrics.contains("# TYPE "), "no Prometheus exposition on /metrics: \(metrics.prefix(300))")

            // With a cluster token for this request to this node: answered.
            let credentials = PeerCredentials(nodeName: "test-client") { [key] }
            let token = try #require(await credentials.token(method: "GET", target: "/status.json", destination: "guarded"))
            let (signed, report) = try await HTTPGet.curl(
                base + "/status.json", headers: ["\(PeerCredentials.tokenHeader): \(token)"])
            #expect(signed == 200, "a valid token was refused: \(report)")
            #expect(report.contains("\"guarded\""), "/status.json does not name the node: \(report.prefix(300))")
            let locateTarget = "/locate?ref=\(reference)"
            let locateToken = try #require(await credentials.token(method: "GET", target: locateTarget, destination: "guarded"))
            let (located, _) = try await HTTPGet.curl(
                base + locateTarget, headers: ["\(PeerCredentials.tokenHeader): \(locateToken)"])
            #expect(located == 200)

            // A token for another path, one under another key, one for another
            // node, and a forged one: refused.
            let other = PeerCredentials(nodeName: "test-client") { [ClusterKey.generate()] }
            let wrongKey = try #require(await other.token(method: "GET", target: "/status.json", destination: "guarded"))
            let elsewhere = try #require(await credentials.token(method: "GET", target: "/status.json", destination: "other-node"))
            for header in [token, wrongKey, elsewhere, "v2.1.AAAA"] {
                let (status, _) = try await HTTPGet.curl(
                    base + (header == token ? "/status" : "/status.json"), headers: ["\(PeerCredentials.tokenHeader): \(header)"])
                #expect(status == 403, "token \(header.prefix(20))… answered \(status)")
            }
            #expect(node.isRunning, "the node died\n\(node.logTail())")

            // From loopback on the node itself (what `gossip-mirror members` does): answered.
            let local = try await ns.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "http://127.0.0.1:9090/status.json"])
            #expect(local.stdout == "200", "loopback got \(local.stdout)")
            let members = try await ns.run([MirrorProcess.binary, "members", "--status-addr", "127.0.0.1:9090", "--json"])
            #expect(members.status == 0 && members.stdout.contains("guarded"), "members: \(members.stderr)")
            await node.stop()

            // The same node with the test's address in a trusted network: answered without a token.
            let trusting = try Self.start(
                in: ns, name: "trusting", key: keyPath, dir: dir, extra: ["--trusted-network", "\(ns.hostAddress)/32"])
            defer { kill(trusting.pid, SIGKILL) }
            try await Self.waitUntilReady(base, trusting)
            let (trusted, body) = try await HTTPGet.curl(base + "/status.json")
            #expect(trusted == 200 && body.contains("\"trusting\""), "a trusted network was refused: \(trusted) \(body.prefix(200))")
            await trusting.stop()
        }
    }
}

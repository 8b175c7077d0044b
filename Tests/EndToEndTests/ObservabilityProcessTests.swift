import Foundation
import Testing
import TestSupport

/// What operators read from a real node: `/metrics` clean for Prometheus's
/// own linter after local, relayed and missed requests; the alert rules;
/// `--version`; `--log-format json`.
@Suite(.serialized)
struct ObservabilityProcessTests {
    /// Every metric family named in an exposition (`# TYPE` lines).
    static func families(_ exposition: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in exposition.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            if parts.count >= 4 { out[String(parts[2])] = String(parts[3]) }
        }
        return out
    }

    @Test(.enabled(if: TestEnvironment.canRun(["promtool", "skopeo", "curl"]), "needs promtool (Debian prometheus), skopeo and curl"))
    func metricsPassPromtoolAfterLocalRelayedAndMissedRequests() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let image = try await TestImageBuilder(layerSizes: [3000, 200_000]).write(to: "\(dir.path)/image", tag: "v1")
        let (holder, relay, located) = try await LoopbackCluster.holderAndRelay(
            serving: image, as: "docker.io/e2e/metrics:v1", subnet: LoopbackCluster.subnet(13), key: key, dir: dir)
        defer { for n in [holder, relay] { kill(n.pid, SIGKILL) } }
        #expect(located)

        let layer = try #require(image.hostImage?.layers[1])
        let missing = "sha256:" + String(repeating: "e", count: 64)
        // Local on the holder, relayed and missed on the relay.
        for (node, digest, expected) in [(holder, layer.digest.description, 200), (relay, layer.digest.description, 200), (relay, missing, 404)] {
            let answer = try await Subprocess.run([
                "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                "http://\(node.registryAddress)/v2/e2e/metrics/blobs/\(digest)",
            ], check: false)
            #expect(answer.stdout == "\(expected)", "\(node.name) answered \(answer.stdout) for \(digest)")
        }
        let (base, _) = try await HTTPGet.curl("http://\(relay.registryAddress)/v2/")
        #expect(base == 200)

        for node in [holder, relay] {
            let (status, exposition) = try await HTTPGet.curl("http://\(node.statusAddress)/metrics")
            try #require(status == 200)
            let file = "\(dir.path)/\(node.name).prom"
            try exposition.write(toFile: file, atomically: true, encoding: .utf8)
            // promtool reads the exposition on standard input and prints every lint problem.
            let checked = try await Subprocess.run(["sh", "-c", "promtool check metrics < '\(file)'"], check: false)
            #expect(checked.succeeded && checked.stdout.isEmpty && checked.stderr.isEmpty,
                    "promtool check metrics on \(node.name): \(checked.stdout)\(checked.stderr)")

            let families = Self.families(exposition)
            #expect(families.keys.allSatisfy { $0.hasPrefix("gossip_mirror_") || $0.hasPrefix("process_") }, "\(families.keys.sorted())")
            for (family, type) in families {
                #expect(exposition.contains("# HELP \(family) "), "\(family) has no HELP line")
                if type == "histogram" { #expect(family.hasSuffix("_seconds"), "\(family) has no unit") }
            }
            for required in [
                "gossip_mirror_build_info", "gossip_mirror_registry_request_duration_seconds", "gossip_mirror_registry_served_bytes_total",
                "gossip_mirror_registry_relays_in_flight", "gossip_mirror_gossip_members", "process_cpu_seconds_total",
                "process_resident_memory_bytes", "process_open_fds", "gossip_mirror_ready",
            ] {
                #expect(families[required] != nil, "\(node.name) exports no \(required)")
            }
            // Buckets from 50 µs to 10 s.
            #expect(exposition.contains("gossip_mirror_registry_request_duration_seconds_bucket{") && exposition.contains("le=\"0.00005\""))
            #expect(exposition.contains("le=\"10.0\""))
        }
        let (_, relayed) = try await HTTPGet.curl("http://\(relay.statusAddress)/metrics")
        for source in ["peer", "miss"] {
            #expect(
                relayed.split(separator: "\n").contains {
                    $0.hasPrefix("gossip_mirror_registry_request_duration_seconds_count{") && $0.contains("source=\"\(source)\"")
                        && $0.contains("kind=\"blob\"") && $0.contains("registry=\"docker.io\"")
                }, "no \(source) blob series on the relay")
        }
        #expect(relayed.contains("gossip_mirror_registry_served_bytes_total{source=\"peer\"} \(layer.size)"))
        let (_, local) = try await HTTPGet.curl("http://\(holder.statusAddress)/metrics")
        #expect(local.contains("source=\"local\"") && local.contains("status_class=\"2xx\""))
    }

    @Test(.enabled(if: TestEnvironment.canRun(["promtool"]), "needs promtool (Debian prometheus)"))
    func alertRulesPassPromtool() async throws {
        let checked = try await Subprocess.run(
            ["promtool", "check", "rules", "\(Repository.root)/deploy/monitoring/gossip-mirror-alerts.yaml"], check: false)
        #expect(checked.succeeded, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("SUCCESS"))
        // Every metric an alert or the dashboard names is one the node exports.
        let rules = try String(contentsOfFile: "\(Repository.root)/deploy/monitoring/gossip-mirror-alerts.yaml", encoding: .utf8)
        let dashboard = try String(contentsOfFile: "\(Repository.root)/deploy/monitoring/gossip-mirror-dashboard.json", encoding: .utf8)
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let node = try MirrorProcess(name: "lonely", host: "\(LoopbackCluster.subnet(14)).1", keyFiles: [key], join: [], directory: dir.path)
        defer { kill(node.pid, SIGKILL) }
        try #require(await poll(timeout: .seconds(10)) { await node.status() != nil } != nil, "\(node.log)")
        // One request, so that the request histogram has a series.
        _ = try await HTTPGet.curl("http://\(node.registryAddress)/v2/e2e/none/manifests/v1")
        let (_, exposition) = try await HTTPGet.curl("http://\(node.statusAddress)/metrics")
        let exported = Set(Self.families(exposition).keys)
        let named = try NSRegularExpression(pattern: "\\b(gossip_mirror_[a-z_]+|process_[a-z_]+)")
        for text in [rules, dashboard] {
            for match in named.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                var name = String(text[Range(match.range, in: text)!])
                for suffix in ["_bucket", "_count", "_sum"] where name.hasSuffix(suffix) && !exported.contains(name) {
                    name = String(name.dropLast(suffix.count))
                }
                #expect(exported.contains(name), "\(name) is not exported by a node")
            }
        }
    }

    @Test func versionAndJSONLogs() async throws {
        let version = try await Subprocess.run([MirrorProcess.binary, "--version"])
        #expect(version.stdout.hasPrefix(Repository.version + " ("), "--version printed \(version.stdout)")

        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let node = try MirrorProcess(
            name: "json", host: "\(LoopbackCluster.subnet(15)).1", keyFiles: [key], join: [], directory: dir.path,
            extra: ["--log-format", "json"])
        defer { kill(node.pid, SIGKILL) }
        try #require(await poll(timeout: .seconds(10)) { await node.status() != nil } != nil, "\(node.log)")
        let (status, _) = try await HTTPGet.curl("http://\(node.registryAddress)/v2/e2e/x/manifests/v1")
        #expect(status == 404)
        let logged = await poll(timeout: .seconds(5)) { node.log.contains("\"message\":\"request\"") }
        #expect(logged != nil, "no access log line: \(node.log.suffix(1000))")
        node.signal(SIGTERM)
        await node.waitForExit()
        let lines = node.log.split(separator: "\n")
        #expect(lines.count >= 3)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String && object?["message"] is String, "not a JSON log line: \(line)")
        }
        let access = lines.first { $0.contains("\"message\":\"request\"") }.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(access?["status"] as? String == "404" && access?["source"] as? String == "miss", "\(String(describing: access))")
    }
}

import Catalog
import Foundation
import TestSupport

/// What the cold-pull scenarios need beyond the other scenarios: a rate
/// limit on the upstream's link, the bytes it served, and the cold-pull
/// state of each node.
extension Cluster {
    /// Limits what the upstream sends to all hosts together: `tc tbf` on the
    /// bridge, which every packet from the upstream (bound to the bridge's
    /// address in the root namespace) to a host goes through. Traffic
    /// between hosts is forwarded port to port and never passes this qdisc.
    func shapeUpstream(rate: String) async throws {
        try await Subprocess.run(
            ["tc", "qdisc", "replace", "dev", network.bridge, "root", "tbf", "rate", rate, "burst", "256kb", "latency", "100ms"],
            deadline: .seconds(10))
        note("upstream limited to \(rate) (tc tbf on \(network.bridge))")
    }

    func unshapeUpstream() async {
        _ = try? await Subprocess.run(["tc", "qdisc", "del", "dev", network.bridge, "root"], deadline: .seconds(10), check: false)
    }

    /// Pulls `reference` on every host of `hosts` at the same moment; each
    /// result is the pull's duration or its failure.
    func pullAtOnce(_ reference: String, on hosts: [ClusterHost], deadline: Duration = .seconds(120)) async
        -> [String: Result<Duration, any Error>]
    {
        await withTaskGroup(of: (String, Result<Duration, any Error>).self) { group in
            for host in hosts {
                group.addTask {
                    do { return (host.name, .success(try await host.pull(reference, deadline: deadline))) } catch {
                        return (host.name, .failure(error))
                    }
                }
            }
            var results: [String: Result<Duration, any Error>] = [:]
            for await (name, result) in group { results[name] = result }
            return results
        }
    }

    /// The host whose node fetches `digest` from the upstream under a claim
    /// now, once one does (nil after `timeout`).
    func fetcher(of digest: Digest, among hosts: [ClusterHost]? = nil, timeout: Duration = .seconds(30)) async -> ClusterHost? {
        var found: ClusterHost?
        _ = await poll(timeout: timeout, every: .milliseconds(50)) {
            for host in hosts ?? self.hosts {
                if await host.status()?.coldPull?.fetching.contains(digest.description) == true {
                    found = host
                    return true
                }
            }
            return false
        }
        return found
    }

    /// Bytes that went to `host` from peers by following a fetcher.
    func followedBytes(_ host: ClusterHost) async -> Int64 {
        await host.status()?.coldPull?.counts.followedBytes ?? 0
    }
}

extension UpstreamRegistry {
    /// Body bytes of the blob GETs the upstream answered for `digests`, from
    /// its access log (`"GET /v2/<repo>/blobs/<digest> HTTP/1.1" <status> <bytes>`),
    /// counting 200 and 206 answers. A transfer cut short by its client is
    /// logged with the bytes written.
    func servedBlobBytes(of digests: Set<String>) -> Int64 {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return 0 }
        var total: Int64 = 0
        for line in text.split(separator: "\n") {
            guard let get = line.range(of: "\"GET /v2/"), let blobs = line.range(of: "/blobs/", range: get.upperBound..<line.endIndex)
            else { continue }
            let digest = line[blobs.upperBound...].prefix { $0 != " " && $0 != "?" }
            guard digests.contains(String(digest)), let close = line.range(of: "\" ", range: blobs.upperBound..<line.endIndex) else {
                continue
            }
            let fields = line[close.upperBound...].split(separator: " ", maxSplits: 2)
            guard fields.count >= 2, fields[0] == "200" || fields[0] == "206", let bytes = Int64(fields[1]) else { continue }
            total += bytes
        }
        return total
    }
}

import Catalog

/// The plain-text rendering of a status report, shared by `/status` and the
/// `members` and `status` commands.
enum StatusPage {
    static func membersTable(_ members: [StatusReport.MemberReport]) -> String {
        var rows = [["NAME", "ADDRESS", "STATE", "INCARNATION", "REGISTRY", "RTT"]]
        for m in members {
            rows.append([
                m.name + (m.isSelf ? " (self)" : ""), m.address, m.state, "\(m.incarnation)", m.registry ?? "-",
                m.roundTripMilliseconds.map { String(format: "%.1fms", $0) } ?? "-",
            ])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    static func render(_ r: StatusReport) -> String {
        let alive = r.members.filter { $0.state == "alive" }.count
        let ratios = r.hitRatios.map { ratios in
            "registry: " + ["local", "peer", "miss"].map { "\($0) \(String(format: "%.1f", (ratios[$0] ?? 0) * 100)) %" }.joined(separator: ", ")
                + " of \(["local", "peer", "miss"].reduce(0) { $0 + (r.registry?.requests[$1] ?? 0) }) lookups"
        } ?? "registry: no lookups yet"
        return """
            gossip-mirror \(r.name) at \(r.address) (profile \(r.profile), version \(r.version ?? "?")\(r.commit.map { ", commit \($0.prefix(12))" } ?? ""))
            members: \(r.members.count) known, \(alive) alive; local health \(r.localHealth)
            gossip: \(r.gossip.packetsSent) packets sent, \(r.gossip.packetsReceived) received, \(r.gossip.rejected) rejected \
            (\(r.gossip.rejectedUnauthenticated) unauthenticated, \(r.gossip.rejectedReplayed) replayed, \(r.gossip.rejectedMalformed) malformed, \
            \(r.gossip.rejectedImplausible) implausible, \(r.gossip.rejectedCapacity) over the members cap), \(r.gossip.sendFailures) refused by the kernel, \
            \(r.gossip.streamsRefused) streams refused over the caps
            \(ratios)

            """ + membersTable(r.members) + skippedLines(r.catalog?.skipped ?? []) + coldPullLines(r.coldPull)
    }

    /// Cold pulls: what this node fetches for the cluster, what it follows,
    /// and the claims it coordinates.
    static func coldPullLines(_ cold: StatusReport.ColdPullReport?) -> String {
        guard let cold else { return "" }
        guard cold.enabled else { return "\ncold pulls: off\n" }
        let c = cold.counts
        var text = """

            cold pulls: fetching \(cold.fetching.count) for the cluster, serving \(c.followersServed) followers \
            (\(c.ingestServedBytes) bytes so far); followed \(c.followedBytes) bytes instead of the upstream, \
            \(c.followFailures) follows failed; answers: \(cold.answers)
            claims coordinated here: \(c.claimsFetching) fetching, \(c.claimsCompleted) completed, \(c.claimFollowers) followers

            """
        for claim in cold.claims {
            text += "  \(claim.digest) \(claim.phase.rawValue) by \(claim.fetcher), followers: "
                + (claim.followers.isEmpty ? "none" : claim.followers.joined(separator: ", ")) + "\n"
        }
        return text
    }

    /// Store entries that are not shared, one line each, so a preload that
    /// shares nothing says why.
    static func skippedLines(_ skipped: [SkippedImage]) -> String {
        guard !skipped.isEmpty else { return "" }
        return "\nnot shared (\(skipped.count) store entries):\n"
            + skipped.map { "  \($0.name) \($0.digest): \($0.reason)\n" }.joined()
    }
}

import Foundation

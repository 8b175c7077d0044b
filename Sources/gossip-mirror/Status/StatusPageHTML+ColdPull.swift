/// The cold-pull section of the HTML status page (issue 15): what this node
/// fetches for the cluster, the followers it serves, the bytes it followed
/// instead of the upstream, and the claims it coordinates. The same as the
/// text page's `cold pulls:` paragraph.
extension StatusPageHTML {
    static func coldPullSection(_ cold: StatusReport.ColdPullReport?) -> String {
        guard let cold else { return "" }
        guard cold.enabled else { return "<h2>Cold pulls</h2>\n<p id=\"cold-pull\">off</p>\n\n" }
        let c = cold.counts
        var html = """
            <h2>Cold pulls</h2>
            <p id="cold-pull">fetching \(cold.fetching.count) for the cluster, serving \(c.followersServed) followers \
            (\(bytes(c.ingestServedBytes)) so far); followed \(bytes(c.followedBytes)) instead of the upstream, \
            \(c.followFailures) follows failed; answers: \(e(cold.answers))</p>
            <table id="claims">
            <thead><tr><th>claim coordinated here</th><th>phase</th><th>fetcher</th><th>followers</th></tr></thead>
            <tbody>

            """
        for claim in cold.claims {
            html += """
                <tr class="claim"><td><code>\(e(claim.digest))</code></td><td>\(e(claim.phase.rawValue))</td>\
                <td>\(e(claim.fetcher))</td><td>\(claim.followers.isEmpty ? "none" : e(claim.followers.joined(separator: ", ")))</td></tr>

                """
        }
        return html + "</tbody></table>\n\n"
    }
}

extension StatusReport.ColdPullReport {
    /// What this node's cold requests were told, e.g. "fetch 1, follow 4"
    /// ("none yet" before the first), for both status pages.
    var answers: String {
        let decisions = counts.decisions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return decisions.isEmpty ? "none yet" : decisions.joined(separator: ", ")
    }
}

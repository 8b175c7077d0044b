import Foundation
import Registry
import Testing

@testable import gossip_mirror

/// The HTML status page's cold-pull section: counts, claims, and names from
/// the network escaped.
struct StatusPageColdPullTests {
    static func claim(_ json: String) throws -> ClaimReport {
        try JSONDecoder().decode(ClaimReport.self, from: Data(json.utf8))
    }

    @Test func showsTheCountsAndEveryClaimCoordinatedHere() throws {
        var counts = ColdPullMetrics.Counts()
        counts.followersServed = 2
        counts.followedBytes = 3 << 20
        counts.decisions = ["fetch": 1, "follow": 4]
        let claim = try Self.claim(
            #"{"digest":"sha256:ab","fetcher":"host-<2>","phase":"fetching","followers":["host-3","host-4"],"expiresInSeconds":9}"#)
        let html = StatusPageHTML.coldPullSection(
            .init(enabled: true, fetching: ["sha256:ab"], counts: counts, claims: [claim]))
        #expect(html.contains("fetching 1 for the cluster, serving 2 followers"))
        #expect(html.contains("followed 3.0 MiB instead of the upstream"))
        #expect(html.contains("answers: fetch 1, follow 4"))
        #expect(html.contains("<td>host-&lt;2&gt;</td><td>host-3, host-4</td>"))
        #expect(!html.contains("host-<2>"))
    }

    @Test func offSaysOffAndNoReportSaysNothing() {
        #expect(StatusPageHTML.coldPullSection(.init(enabled: false, fetching: [], counts: .init(), claims: [])).contains(">off<"))
        #expect(StatusPageHTML.coldPullSection(nil).isEmpty)
    }
}

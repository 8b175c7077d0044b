import Catalog
import Foundation
import Gossip
import Testing

@testable import Registry

@Suite struct PeerDirectoryTests {
    static func member(_ name: String, _ host: String, rtt: Duration? = nil, status: SWIM.Status = .alive) -> SWIM.Member {
        SWIM.Member(
            name: name, endpoint: .init(host: host, port: 7946), incarnation: 1, status: status,
            metadata: ["registry": "0.0.0.0:5000"], roundTripTime: rtt)
    }

    @Test func ranksHoldersAndPenalisesLiars() throws {
        let digest = try #require(Digest("sha256:" + String(repeating: "cd", count: 32)))
        var filter = BloomFilter(expectedCount: 100)
        filter.insert(digest)
        let directory = PeerDirectory(selfName: "me")
        directory.update(members: [
            Self.member("me", "10.0.0.1"), Self.member("near", "10.0.0.2", rtt: .milliseconds(1)),
            Self.member("far", "10.0.0.3", rtt: .milliseconds(20)), Self.member("empty", "10.0.0.4"),
            Self.member("dead", "10.0.0.5", status: .dead),
        ])
        for name in ["near", "far", "dead", "me"] { #expect(directory.setSummary(of: name, bytes: filter.serialized())) }
        #expect(!directory.setSummary(of: "empty", bytes: [1, 2, 3]))
        let ranked = directory.candidates(for: SummaryKey(digest))
        #expect(ranked.map(\.name) == ["near", "far"])
        #expect(ranked.first?.registryAddress == "10.0.0.2:5000", "a wildcard registry address takes the gossip host")
        // Failures push a peer back; wrong bytes exclude it.
        directory.lease(ranked[0]).end(.failed(.timedOut))
        #expect(directory.candidates(for: SummaryKey(digest)).map(\.name) == ["far", "near"])
        directory.lease(ranked[1]).end(.lied)
        #expect(directory.candidates(for: SummaryKey(digest)).map(\.name) == ["near"])
        let other = try #require(Digest("sha256:" + String(repeating: "ef", count: 32)))
        #expect(directory.holders(of: SummaryKey(other)).isEmpty)
    }

    /// Issue 10: begin and end are paired by construction.
    @Test func leasesEndOnceAndNeverLeakInFlight() throws {
        let digest = try #require(Digest("sha256:" + String(repeating: "cd", count: 32)))
        var filter = BloomFilter(expectedCount: 100)
        filter.insert(digest)
        let directory = PeerDirectory(selfName: "me")
        directory.update(members: [Self.member("a", "10.0.0.2", rtt: .milliseconds(1)), Self.member("b", "10.0.0.3", rtt: .milliseconds(1))])
        for name in ["a", "b"] { directory.setSummary(of: name, bytes: filter.serialized()) }
        let a = try #require(directory.candidates(for: SummaryKey(digest)).first { $0.name == "a" })

        let lease = directory.lease(a)
        #expect(directory.inFlight("a") == 1)
        lease.end(.failed(.stalled))
        lease.end(.failed(.stalled))  // a second end is ignored
        lease.end(.served)
        #expect(directory.inFlight("a") == 0)
        #expect(directory.candidates(for: SummaryKey(digest)).map(\.name) == ["b", "a"], "one failure, counted once")

        do {
            let dropped = directory.lease(a)
            #expect(directory.inFlight("a") == 1 && !dropped.isEnded)
        }
        #expect(directory.inFlight("a") == 0, "a lease dropped without an end ends as cancelled")

        // Not the holder's fault: no penalty.
        for outcome in [AttemptOutcome.absent, .cancelled, .served] { directory.lease(a).end(outcome) }
        #expect(directory.totalInFlight == 0)

        // A member SWIM no longer holds alive is never a candidate.
        directory.update(members: [Self.member("a", "10.0.0.2", status: .suspect), Self.member("b", "10.0.0.3", status: .dead)])
        #expect(directory.candidates(for: SummaryKey(digest)).isEmpty)
    }
}

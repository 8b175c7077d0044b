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
        directory.begin("near")
        directory.end("near", failed: true)
        #expect(directory.candidates(for: SummaryKey(digest)).map(\.name) == ["far", "near"])
        directory.penalise("far")
        #expect(directory.candidates(for: SummaryKey(digest)).map(\.name) == ["near"])
        let other = try #require(Digest("sha256:" + String(repeating: "ef", count: 32)))
        #expect(directory.holders(of: SummaryKey(other)).isEmpty)
    }
}

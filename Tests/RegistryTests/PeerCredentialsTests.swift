import Foundation
import Gossip
import Testing

@testable import Registry

@Suite struct PeerCredentialsTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let target = "/v2/a/blobs/x?ns=docker.io"

    @Test func tokensBindRequestTimeAndDestination() async throws {
        let key = ClusterKey.generate()
        let minter = PeerCredentials(nodeName: "relay", window: 60) { [key] }
        let holder = PeerCredentials(nodeName: "holder", window: 60) { [key] }
        let token = try #require(await minter.token(method: "GET", target: Self.target, destination: "holder", now: Self.now))
        #expect(await holder.verify(token, method: "GET", target: Self.target, now: Self.now))
        #expect(await holder.verify(token, method: "GET", target: Self.target, now: Self.now + 59))
        #expect(await holder.verify(token, method: "GET", target: Self.target, now: Self.now - 59))
        // Another path, method, time window or key: refused.
        #expect(!(await holder.verify(token, method: "GET", target: "/v2/a/blobs/y?ns=docker.io", now: Self.now)))
        #expect(!(await holder.verify(token, method: "HEAD", target: Self.target, now: Self.now)))
        #expect(!(await holder.verify(token, method: "GET", target: Self.target, now: Self.now + 61)))
        let other = PeerCredentials(nodeName: "holder", window: 60) { [ClusterKey.generate()] }
        #expect(!(await other.verify(token, method: "GET", target: Self.target, now: Self.now)))
    }

    /// Issue 9, finding 9: a token minted for one node is refused by another.
    @Test func aTokenReplayedToAnotherNodeIsRefused() async throws {
        let key = ClusterKey.generate()
        let minter = PeerCredentials(nodeName: "relay") { [key] }
        let token = try #require(await minter.token(method: "GET", target: Self.target, destination: "holder-a", now: Self.now))
        for name in ["holder-b", "holder-a ", "Holder-a", "relay", ""] {
            let node = PeerCredentials(nodeName: name) { [key] }
            #expect(!(await node.verify(token, method: "GET", target: Self.target, now: Self.now)), "accepted by \(name)")
        }
        #expect(await PeerCredentials(nodeName: "holder-a") { [key] }.verify(token, method: "GET", target: Self.target, now: Self.now))
    }

    @Test func everyTokenIsFresh() async throws {
        let credentials = PeerCredentials(nodeName: "a") { [ClusterKey.generate()] }
        var seen = Set<String>()
        for _ in 0..<100 {
            let token = try #require(await credentials.token(method: "GET", target: "/v2/", destination: "b", now: Self.now))
            #expect(seen.insert(token).inserted, "two tokens alike: answers could be replayed")
            #expect(token.utf8.count <= PeerCredentials.maximumTokenLength)
        }
    }

    /// Issue 9, finding 1: `v1.-9223372036854775808.<mac>` trapped in
    /// `abs(now - time)`. Every row is refused, and nothing traps.
    @Test(arguments: [
        "v1.-9223372036854775808.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.-9223372036854775808.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.9223372036854775807.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.99999999999999999999.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.+1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.-1.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2. 1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.0x6B49D200.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.1800000000.AAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.1800000000.AAAAAAAAAAAAAAA+.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v2.1800000000.AAAAAAAAAAAAAAAA.AAAA",
        "v2.1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "v2.1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=.x",
        "v2.1800000000.AAAAAAAAAAAAAAAA",
        "", "v1", "v2", "v1.x.y", "v2.1.AAAA", "....", String(repeating: "A", count: 500),
        "v2.1800000000.AAAAAAAAAAAAAAAA." + String(repeating: "A", count: 10_000),
    ])
    func malformedTokensAreRefusedWithoutTrapping(_ token: String) async {
        let credentials = PeerCredentials(nodeName: "holder") { [ClusterKey.generate()] }
        #expect(!(await credentials.verify(token, method: "GET", target: "/v2/", now: Self.now)))
    }

    /// The MAC's last base64 character before `=` has two unused bits: the
    /// three other spellings of a valid token's MAC are refused (found by
    /// the peer-token fuzz target). One row per spelling.
    @Test(arguments: 1...3)
    func otherSpellingsOfTheMACAreRefused(flip: Int) async throws {
        let key = ClusterKey.generate()
        let credentials = PeerCredentials(nodeName: "holder") { [key] }
        let token = try #require(await credentials.token(method: "GET", target: "/v2/", destination: "holder", now: Self.now))
        #expect(await credentials.verify(token, method: "GET", target: "/v2/", now: Self.now))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var characters = Array(token)
        let last = characters.count - 2  // before the `=`
        let value = alphabet.firstIndex(of: characters[last])!
        characters[last] = alphabet[value ^ flip]
        let respelled = String(characters)
        #expect(Data(base64Encoded: String(respelled.split(separator: ".")[3])) == Data(base64Encoded: String(token.split(separator: ".")[3])))
        #expect(!(await credentials.verify(respelled, method: "GET", target: "/v2/", now: Self.now)))
    }

    /// The time with a leading zero is another spelling of the same token:
    /// refused (found by the peer-token fuzz target). One row per spelling.
    @Test(arguments: ["0", "00", "000000"])
    func timesWithLeadingZerosAreRefused(zeros: String) async throws {
        let key = ClusterKey.generate()
        let credentials = PeerCredentials(nodeName: "holder") { [key] }
        let token = try #require(await credentials.token(method: "GET", target: "/v2/", destination: "holder", now: Self.now))
        var fields = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        fields[1] = zeros + fields[1]
        #expect(!(await credentials.verify(fields.joined(separator: "."), method: "GET", target: "/v2/", now: Self.now)))
    }

    @Test func freshnessNeverOverflows() {
        let credentials = PeerCredentials(nodeName: "n") { [] }
        #expect(credentials.isFresh(1_800_000_000, now: Self.now))
        #expect(!credentials.isFresh(.min, now: Self.now))
        #expect(!credentials.isFresh(.max, now: Self.now))
        #expect(!credentials.isFresh(.max, now: Date(timeIntervalSince1970: -1e300)))
        #expect(!credentials.isFresh(.min, now: Date(timeIntervalSince1970: 1e300)))
    }

    @Test func rotationKeepsOldTokensValid() async throws {
        let old = ClusterKey.generate()
        let new = ClusterKey.generate()
        let before = PeerCredentials(nodeName: "a") { [old] }
        let during = PeerCredentials(nodeName: "b") { [new, old] }
        let token = try #require(await before.token(method: "GET", target: "/v2/", destination: "b"))
        #expect(await during.verify(token, method: "GET", target: "/v2/"))
    }
}

import Catalog
import Gossip
import NIOHTTP1
import Testing

@testable import Registry

/// The claim protocol's wire forms (`ClaimMessage`, `ClaimAnswer`) and the
/// gossiped announcement (`FetchAnnouncement`): what is sent parses back to
/// itself, and anything else is refused whole.
@Suite struct ClaimProtocolTests {
    static let digest = Digest("sha256:" + String(repeating: "0f", count: 32))!

    static let messages: [ClaimMessage] = [
        ClaimMessage(digest: digest, member: "host-1", operation: .ask(unreachable: nil)),
        ClaimMessage(digest: digest, member: "node-a.b_c", operation: .ask(unreachable: "Host.2")),
        ClaimMessage(digest: digest, member: "host-1", operation: .ask(unreachable: "host-3")),
        ClaimMessage(digest: digest, member: "host-1", operation: .renew),
        ClaimMessage(digest: digest, member: "host-1", operation: .release(completed: true)),
        ClaimMessage(digest: digest, member: "host-1", operation: .release(completed: false)),
    ]

    @Test("a message's target parses back to the message", arguments: messages)
    func roundTrip(_ message: ClaimMessage) throws {
        let request = HTTPRequest(method: .GET, uri: message.target, headers: [:], remoteAddress: nil)
        #expect(try ClaimMessage.parse(path: request.path, query: request.query) == message)
    }

    static let hex = String(repeating: "0f", count: 32)
    static let malformed: [(String, [String: String])] = [
        ("/v2/a/blobs/sha256:\(hex)", ["member": "a", "op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:abc", ["member": "a", "op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)/x", ["member": "a", "op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "", "op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": String(repeating: "m", count: SWIM.MemberName.maximumLength + 1), "op": "ask"]),
        // Only what SWIM admits as a member name (`SWIM.MemberName`).
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "node a/b?&=%", "op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a", "op": "ask", "unreachable": "host 2"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a\u{0}b", "op": "ask"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a", "op": "steal"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a", "op": "ask", "fetch": "0"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a", "op": "renew", "unreachable": "b"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a", "op": "ask", "extra": "1"]),
        ("/_gossip-mirror/v1/claims/sha256:\(hex)", ["member": "a", "op": "ask", "unreachable": ""]),
    ]

    @Test("anything else is refused", arguments: malformed)
    func refuses(_ path: String, _ query: [String: String]) {
        #expect(throws: ClaimMessage.ParseError.self) { try ClaimMessage.parse(path: Substring(path), query: query) }
    }

    static let answers: [ClaimAnswer] = [
        .decision(.fetch), .decision(.follow("host-2")), .decision(.follow("node-a.b_c")), .decision(.none),
        .renewal(.renewed), .renewal(.adopted), .renewal(.superseded(by: "host-4")), .released,
    ]

    @Test("an answer's text parses back to the answer", arguments: answers)
    func answerRoundTrip(_ answer: ClaimAnswer) {
        #expect(ClaimAnswer(text: answer.text) == answer)
    }

    @Test("other answer texts are refused", arguments: ["", "fetch host-1", "follow", "follow ", "follow a b", "FETCH", "maybe", "none\n", "renewed x"])
    func refusesAnswer(_ text: String) {
        #expect(ClaimAnswer(text: text) == nil)
    }

    @Test func announcementsCarryDigestPrefixesWithinTheMetadataBudget() {
        let digests = (0..<20).map { SHA256.hash([UInt8($0)]) }
        let value = FetchAnnouncement.encode(digests)!
        #expect(value.utf8.count <= FetchAnnouncement.maximumEntries * (FetchAnnouncement.prefixLength + 1))
        let prefixes = FetchAnnouncement.decode(value)
        // The newest 16 are announced.
        #expect(prefixes == Set(digests.suffix(16).map(FetchAnnouncement.prefix(of:))))
        #expect(!prefixes.contains(FetchAnnouncement.prefix(of: digests[0])))
        #expect(FetchAnnouncement.encode([]) == nil)
    }

    @Test("malformed announcements announce nothing", arguments: [
        "", "0123", "0123456789abcdeF", "0123456789abcdef,", ",0123456789abcdef", "0123456789abcdef0",
        Array(repeating: "0123456789abcdef", count: 17).joined(separator: ","),
    ])
    func malformedAnnouncement(_ value: String) {
        #expect(FetchAnnouncement.decode(value).isEmpty)
    }
}

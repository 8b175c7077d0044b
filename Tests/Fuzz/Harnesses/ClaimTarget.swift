import Catalog
import NIOHTTP1
import Registry

/// The cold-pull claim protocol (`Sources/Registry/ColdPull/ClaimProtocol.swift`):
/// the request a coordinator parses (any request target, as the HTTP server
/// splits it into a path and a percent-decoded query) and the one-line answer
/// a member parses.
///
/// Mode 0: an arbitrary request target either is refused or parses to a
/// message whose own `target` parses back to the same message. Mode 1: an
/// arbitrary answer line either is refused or parses to an answer whose
/// `text` is exactly the line (one spelling per answer).
extension FuzzTarget {
    static let claim = FuzzTarget(
        name: "claim",
        summary: "ClaimMessage.parse of any request target (via HTTPRequest) and ClaimAnswer of any line; print/parse round trips",
        seeds: ClaimFuzzing.seeds,
        run: ClaimFuzzing.run)
}

enum ClaimFuzzing {
    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        guard let mode = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        if mode % 2 == 0 {
            guard let message = try? parse(text) else { return }
            let printed = message.target
            let again: ClaimMessage
            do { again = try parse(printed) } catch {
                throw PropertyViolation("\(text.debugDescription) parsed, but its target \(printed) does not: \(error)")
            }
            try require(again == message, "\(text.debugDescription) prints as \(printed), which parses otherwise")
            try require(again.target == printed, "printing is not stable: \(printed) then \(again.target)")
        } else {
            guard let answer = ClaimAnswer(text: text) else { return }
            try require(answer.text == text, "the answer \(text.debugDescription) prints as \(answer.text.debugDescription)")
            try require(ClaimAnswer(text: answer.text) == answer, "\(answer.text) reads back otherwise")
        }
    }

    static func parse(_ target: String) throws(ClaimMessage.ParseError) -> ClaimMessage {
        let request = HTTPRequest(method: .GET, uri: target, headers: [:], remoteAddress: nil)
        return try ClaimMessage.parse(path: request.path, query: request.query)
    }

    static func seeds() -> [[UInt8]] {
        let digest = "sha256:" + String(repeating: "0123456789abcdef", count: 4)
        let targets = [
            "/_gossip-mirror/v1/claims/\(digest)?member=node-a&op=ask",
            "/_gossip-mirror/v1/claims/\(digest)?member=node-a&op=ask&unreachable=node%20b",
            "/_gossip-mirror/v1/claims/\(digest)?op=renew&member=n%2Bx", "/_gossip-mirror/v1/claims/\(digest)?member=a&op=done",
            "/_gossip-mirror/v1/claims/\(digest)?member=%E2%9C%93&op=failed&op=ask", "/_gossip-mirror/v1/claims/sha256:AB?member=a&op=ask",
        ]
        let answers = ["fetch", "follow node-a", "none", "renewed", "adopted", "superseded node b", "released", "follow ", "fetch x"]
        return targets.map { [0] + Array($0.utf8) } + answers.map { [1] + Array($0.utf8) }
    }
}

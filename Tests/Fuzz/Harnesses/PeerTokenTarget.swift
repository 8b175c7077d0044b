import Foundation
import Gossip
import Registry

/// Peer tokens (`X-Gossip-Mirror-Token`), as any host that reaches the
/// registry port can send them (issue 9, finding 1: one header crashed the
/// node).
///
/// Mode 0 verifies an arbitrary header value: it must not trap, and it must
/// not be accepted (that would be a forgery). Mode 1 edits a valid token
/// (replaces its time field, or flips bits of one byte) and verifies that.
/// Mode 2 mints a token for a fuzzer-chosen method, target and time and
/// checks it verifies for exactly that request to that node within the
/// window, and for no other request, node or time.
extension FuzzTarget {
    static let peerToken = FuzzTarget(
        name: "peer-token",
        summary: "PeerCredentials.verify of arbitrary and edited tokens; mint/verify round trip within the window only",
        seeds: PeerTokenFuzzing.seeds,
        runAsync: PeerTokenFuzzing.run)
}

enum PeerTokenFuzzing {
    static let key = try! ClusterKey(bytes: Array(repeating: 7, count: 32))
    static let node = "node-b"
    static let credentials = PeerCredentials(nodeName: node, window: 120, keys: { [key] })
    /// Another node of the same cluster: a token for `node` must not pass here.
    static let otherNode = PeerCredentials(nodeName: "node-c", window: 120, keys: { [key] })
    static let methods = ["GET", "HEAD", "POST", "get", ""]
    /// Any time a clock can show while the token format holds it (12 digits
    /// of Unix seconds: until the year 33,658), less the largest skew tried.
    static let latestTime: UInt64 = 999_999_999_000

    static func run(_ bytes: [UInt8]) async throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        let mode = input.byte() % 3
        let now = Date(timeIntervalSince1970: TimeInterval(input.integer(UInt64.self) % PeerTokenFuzzing.latestTime))
        let method = input.pick(methods)
        let target = String(decoding: input.chunk(maximum: 300), as: UTF8.self)
        switch mode {
        case 0:
            let token = String(decoding: input.rest(), as: UTF8.self)
            let accepted = await credentials.verify(token, method: method, target: target, now: now)
            try require(!accepted, "an arbitrary token was accepted: \(token.debugDescription)")
        case 1:
            guard let valid = await credentials.token(method: method, target: target, destination: node, now: now) else { return }
            var edited = Array(valid.utf8)
            if input.bool() {
                // Replace the time field with fuzzer text.
                var fields = valid.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
                fields[1] = String(decoding: input.chunk(maximum: 40), as: UTF8.self)
                edited = Array(fields.joined(separator: ".").utf8)
            } else {
                let at = Int(input.integer(UInt16.self)) % edited.count
                edited[at] ^= max(1, input.byte())
            }
            let token = String(decoding: edited, as: UTF8.self)
            let accepted = await credentials.verify(token, method: method, target: target, now: now)
            // Strict parsing: another spelling of the same time or MAC (`+`,
            // leading zeros, base64 padding bits) is another token, refused.
            try require(!accepted || token == valid, "an edited token was accepted: \(token.debugDescription) (from \(valid))")
        default:
            guard let token = await credentials.token(method: method, target: target, destination: node, now: now) else { return }
            let skew = TimeInterval(input.integer(UInt16.self) % 400) - 200
            let later = now.addingTimeInterval(skew)
            let inWindow = abs(floor(later.timeIntervalSince1970) - floor(now.timeIntervalSince1970)) <= 120
            let accepted = await credentials.verify(token, method: method, target: target, now: later)
            try require(accepted == inWindow, "a fresh token \(accepted ? "accepted" : "refused") \(skew) s later")
            try require(!(await credentials.verify(token, method: method, target: target + "x", now: now)),
                    "a token was accepted for another target")
            let otherMethod = method == "GET" ? "HEAD" : "GET"
            try require(!(await credentials.verify(token, method: otherMethod, target: target, now: now)),
                    "a token was accepted for another method")
            try require(!(await otherNode.verify(token, method: method, target: target, now: now)),
                    "a token for \(node) was accepted by another node")
        }
    }

    static func seeds() -> [[UInt8]] {
        func seed(_ mode: UInt8, now: UInt64, method: UInt8, target: String, _ rest: [UInt8]) -> [UInt8] {
            var builder = FuzzInput.Builder()
            builder.byte(mode)
            builder.integer(now)
            builder.byte(method)
            builder.chunk(Array(target.utf8))
            builder.raw(rest)
            return builder.bytes
        }
        let path = "/v2/library/ubuntu/manifests/latest?ns=docker.io"
        let mac = String(repeating: "A", count: 43) + "="
        let nonce = String(repeating: "A", count: 16)
        return [
            // Finding 1 of issue 9: the smallest Int64 as the time (v1 and v2 forms).
            seed(0, now: 1_700_000_000, method: 0, target: path, Array("v1.-9223372036854775808.\(mac)".utf8)),
            seed(0, now: 1_700_000_000, method: 0, target: path, Array("v2.-9223372036854775808.\(nonce).\(mac)".utf8)),
            seed(0, now: 1_700_000_000, method: 1, target: path, Array("v2.1700000000.\(nonce).\(mac)".utf8)),
            seed(1, now: 1_700_000_000, method: 0, target: path, [1, 0, 4] + Array("+0x1".utf8)),
            seed(1, now: 1_700_000_000, method: 0, target: path, [0, 0, 9, 0x20]),
            seed(2, now: 1_700_000_000, method: 0, target: path, [0, 0x50]),
        ]
    }
}

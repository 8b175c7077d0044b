import Foundation
import Gossip

/// How peers prove membership to each other's registry port.
///
/// A peer request carries `X-Gossip-Mirror-Token: v2.<unix seconds>.<nonce>.<mac>`,
/// where the MAC (keyed BLAKE2b under a key derived from the cluster key)
/// covers the version, the time, a random nonce, the member the request is
/// meant for, the method and the path with its query. The registry port
/// therefore does not hand images to anyone who can merely reach it, and a
/// captured token is good only for the same request to the same node within
/// the clock window (issue 9, finding 9: a token no longer replays to another
/// node). The nonce makes every token unique, so a holder's answer, which is
/// MAC'd over the token (`PeerAnswerSeal`), cannot be replayed to another
/// request. Every installed key is accepted, so key rotation does not
/// interrupt pulls. Peer requests also carry `X-Gossip-Mirror-Hop: 1`: the
/// receiving node serves only what it holds and never forwards (no loops).
///
/// Tokens are parsed strictly before any arithmetic (issue 9, finding 1):
/// the time is 1 to 12 ASCII digits, the nonce 16 base64url characters, the
/// MAC 44 base64 characters, the whole at most `maximumTokenLength` bytes.
public struct PeerCredentials: Sendable {
    public static let tokenHeader = "X-Gossip-Mirror-Token"
    public static let hopHeader = "X-Gossip-Mirror-Hop"
    static let context = "gossip-mirror registry peer token v2"
    static let version = "v2"
    /// Longer header values are refused before they are parsed.
    static let maximumTokenLength = 128
    /// Unix seconds have 10 digits until the year 2286; 12 is plenty.
    static let maximumTimeDigits = 12
    static let nonceBytes = 12
    static let nonceCharacters = 16
    static let macCharacters = 44

    /// This node's member name: the destination a token must name to be
    /// accepted here.
    public let nodeName: String
    /// The installed keys, the first one primary (read on every use so that
    /// rotation takes effect at once).
    public let keys: @Sendable () async -> [ClusterKey]
    /// Accepted clock difference between nodes, in seconds.
    public let window: Int64

    public init(nodeName: String, window: Int64 = 120, keys: @escaping @Sendable () async -> [ClusterKey]) {
        self.nodeName = nodeName
        self.keys = keys
        self.window = window
    }

    /// A parsed token (not yet verified).
    struct Token: Hashable, Sendable {
        var time: Int64
        var nonce: Substring
        var mac: [UInt8]

        /// Strict parse of a header value; nil for anything but the exact form.
        init?(_ text: String) {
            guard text.utf8.count <= PeerCredentials.maximumTokenLength else { return nil }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == PeerCredentials.version,
                let time = PeerCredentials.canonicalTime(parts[1]),
                parts[2].utf8.count == PeerCredentials.nonceCharacters, parts[2].utf8.allSatisfy(Self.isBase64URL),
                let mac = PeerCredentials.canonicalMAC(parts[3])
            else { return nil }
            self.time = time
            self.nonce = parts[2]
            self.mac = mac
        }

        static func isBase64URL(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"):
                true
            default: false
            }
        }
    }

    private static func message(time: Int64, nonce: Substring, destination: String, method: String, target: String) -> [UInt8] {
        MACInput.encode([version, "\(time)", String(nonce), destination, method, target])
    }

    /// A token for one request (`target` is the path with its query) to the
    /// member named `destination`. Each call draws a fresh nonce.
    public func token(method: String, target: String, destination: String, now: Date = Date()) async -> String? {
        guard let key = await keys().first else { return nil }
        let time = Self.unixSeconds(now)
        var random = SystemRandomNumberGenerator()
        let nonce = Self.base64URL((0..<Self.nonceBytes).map { _ in UInt8.random(in: 0...255, using: &random) })
        let message = Self.message(time: time, nonce: Substring(nonce), destination: destination, method: method, target: target)
        let mac = key.authenticate(message, context: Self.context)
        return "\(Self.version).\(time).\(nonce).\(Data(mac).base64EncodedString())"
    }

    /// Whether `token` is valid for this request to this node now.
    public func verify(_ token: String, method: String, target: String, now: Date = Date()) async -> Bool {
        guard let parsed = Token(token), isFresh(parsed.time, now: now) else { return false }
        let message = Self.message(
            time: parsed.time, nonce: parsed.nonce, destination: nodeName, method: method, target: target)
        for key in await keys() where key.verify(parsed.mac, for: message, context: Self.context) {
            return true
        }
        return false
    }

    /// Whether `time` (unix seconds) is within `window` of `now`; no
    /// arithmetic here can overflow whatever the inputs.
    func isFresh(_ time: Int64, now: Date) -> Bool {
        let (difference, overflow) = Self.unixSeconds(now).subtractingReportingOverflow(time)
        return !overflow && difference.magnitude <= window.magnitude
    }

    static func unixSeconds(_ date: Date) -> Int64 {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        return Int64(exactly: seconds) ?? 0
    }

    /// Unix seconds in their one decimal spelling: `StrictDecimal`, and no
    /// leading zero (`00` and `0` are the same time under one MAC; found by
    /// fuzzing: an edited token was accepted).
    static func canonicalTime(_ text: Substring) -> Int64? {
        guard let time = StrictDecimal.parse(text, maximumDigits: maximumTimeDigits), String(time) == text else { return nil }
        return time
    }

    /// A 32-byte MAC in its one base64 spelling (44 characters). The last
    /// character before `=` carries two unused bits, so four spellings
    /// decode to the same MAC; the other three are refused (found by
    /// fuzzing: an edited token was accepted).
    static func canonicalMAC(_ text: Substring) -> [UInt8]? {
        guard text.utf8.count == macCharacters, let mac = Data(base64Encoded: String(text)), mac.count == 32,
            mac.base64EncodedString() == text
        else { return nil }
        return Array(mac)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Unambiguous MAC input: each field as a 4-byte big-endian length and its
/// UTF-8 bytes, so no choice of field contents (a `|` in a query, say) can
/// make two different field lists authenticate alike.
enum MACInput {
    static func encode(_ fields: [String]) -> [UInt8] {
        var out: [UInt8] = []
        for field in fields {
            let bytes = Array(field.utf8)
            let count = UInt32(truncatingIfNeeded: bytes.count)
            out += [UInt8(truncatingIfNeeded: count >> 24), UInt8(truncatingIfNeeded: count >> 16),
                    UInt8(truncatingIfNeeded: count >> 8), UInt8(truncatingIfNeeded: count)]
            out += bytes
        }
        return out
    }
}

import Foundation
import Gossip
import NIOHTTP1

/// A holder's signature on its answer to a peer request (issue 9, finding 4).
///
/// Peer HTTP is plain, so without this someone on the path between two nodes
/// could rewrite an answer, and what a relay takes on the peer's word (which
/// digest a tag names, the media type, the length) would be theirs to choose.
/// The holder therefore sends `X-Gossip-Mirror-Answer: v1.<unix seconds>.<mac>`,
/// a MAC under a key derived from the cluster key over everything the relay
/// relies on: the responder's member name, the request's own token (which
/// carries a fresh nonce, so an answer cannot be replayed to another
/// request), the method and target (the requested tag or digest), the status,
/// `Docker-Content-Digest`, `Content-Type`, `Content-Length`, `Content-Range`,
/// and the time. A relay refuses a 200 or 206 without a valid seal.
///
/// Bytes are not covered: blobs and manifests are checked against their
/// digest, which is. A member holding the cluster key can still sign what it
/// likes (see docs/security.md on what the key allows).
public struct PeerAnswerSeal: Sendable {
    public static let header = "X-Gossip-Mirror-Answer"
    static let context = "gossip-mirror registry peer answer v1"
    static let version = "v1"
    static let maximumLength = 96

    let credentials: PeerCredentials

    public init(credentials: PeerCredentials) {
        self.credentials = credentials
    }

    /// The fields of an answer that the MAC covers, as sent on the wire.
    struct Fields: Hashable, Sendable {
        var status: Int
        var digest: String?
        var mediaType: String?
        var length: String?
        var contentRange: String?

        init(status: Int, headers: HTTPHeaders) {
            self.status = status
            self.digest = headers.first(name: "Docker-Content-Digest")
            self.mediaType = headers.first(name: "Content-Type")
            self.length = headers.first(name: "Content-Length")
            self.contentRange = headers.first(name: "Content-Range")
        }

        /// A present header is `+value`, an absent one `-`: with absent
        /// written as `-` and values as they are, an answer without
        /// `Content-Type` and one with `Content-Type: -` had the same MAC, so
        /// someone on the path could add such headers (found by fuzzing).
        var encoded: [String] {
            ["\(status)"] + [digest, mediaType, length, contentRange].map { $0.map { "+" + $0 } ?? "-" }
        }
    }

    private static func message(
        time: Int64, responder: String, token: String, method: String, target: String, fields: Fields
    ) -> [UInt8] {
        MACInput.encode([version, "\(time)", responder, token, method, target] + fields.encoded)
    }

    /// The header value sealing `fields`, answered by this node to a request
    /// that carried `token`.
    func seal(token: String, method: String, target: String, fields: Fields, now: Date = Date()) async -> String? {
        guard let key = await credentials.keys().first else { return nil }
        let time = PeerCredentials.unixSeconds(now)
        let message = Self.message(
            time: time, responder: credentials.nodeName, token: token, method: method, target: target, fields: fields)
        return "\(Self.version).\(time).\(Data(key.authenticate(message, context: Self.context)).base64EncodedString())"
    }

    /// Whether `head` carries a valid seal from `responder` for the request
    /// this node sent with `token`.
    public func verify(
        _ head: PeerResponseHead, responder: String, token: String, method: String, target: String, now: Date = Date()
    ) async -> Bool {
        guard let value = head.headers.first(name: Self.header), value.utf8.count <= Self.maximumLength else { return false }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == Self.version,
            let time = PeerCredentials.canonicalTime(parts[1]),
            credentials.isFresh(time, now: now),
            let mac = PeerCredentials.canonicalMAC(parts[2])
        else { return false }
        let message = Self.message(
            time: time, responder: responder, token: token, method: method, target: target,
            fields: Fields(status: head.status, headers: head.headers))
        for key in await credentials.keys() where key.verify(mac, for: message, context: Self.context) {
            return true
        }
        return false
    }
}

extension HTTPResponse {
    /// The body length the server will declare for this response.
    var declaredLength: Int64? {
        switch body {
        case .empty: headers.first(name: "Content-Length").flatMap { StrictDecimal.parse($0) } ?? 0
        case .bytes(let b): Int64(b.readableBytes)
        case .file(_, _, let length): length
        case .stream(let length, _): length
        }
    }

    /// Seals this response to a peer request that carried `token` (see
    /// `PeerAnswerSeal`). `Content-Length` is set here, so that the sealed
    /// value is the one the server sends.
    mutating func seal(with seal: PeerAnswerSeal, token: String, method: String, target: String) async {
        if let length = declaredLength { headers.replaceOrAdd(name: "Content-Length", value: "\(length)") }
        let fields = PeerAnswerSeal.Fields(status: Int(status.code), headers: headers)
        if let value = await seal.seal(token: token, method: method, target: target, fields: fields) {
            headers.replaceOrAdd(name: PeerAnswerSeal.header, value: value)
        }
    }
}

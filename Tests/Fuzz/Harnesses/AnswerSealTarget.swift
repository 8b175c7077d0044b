#if DEBUG || GOSSIP_MIRROR_FUZZ
import Catalog
import Foundation
import Gossip
import NIOHTTP1
@testable import Registry

/// A holder's answer to a peer request, as a relay reads it: the
/// `X-Gossip-Mirror-Answer` seal (`PeerAnswerSeal`, issue 9, finding 4) and
/// the headers it covers (`PeerResponseHead`'s strict readers).
///
/// Mode 0: an answer with arbitrary header values and an arbitrary seal is
/// never accepted, and reading its `Content-Length`, digest and
/// `Content-Range` never traps and gives only sane values. Mode 1: a real
/// seal over fuzzer-chosen headers verifies; with one covered header, the
/// status, the seal or the time changed, it does not.
extension FuzzTarget {
    static let answerSeal = FuzzTarget(
        name: "answer-seal",
        summary: "PeerAnswerSeal.verify of arbitrary and edited answers; PeerResponseHead length, digest and range readers",
        seeds: AnswerSealFuzzing.seeds,
        runAsync: AnswerSealFuzzing.run)
}

enum AnswerSealFuzzing {
    static let key = try! ClusterKey(bytes: Array(repeating: 9, count: 32))
    static let holder = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "holder", window: 120, keys: { [key] }))
    static let relay = PeerAnswerSeal(credentials: PeerCredentials(nodeName: "relay", window: 120, keys: { [key] }))
    static let covered = ["Docker-Content-Digest", "Content-Type", "Content-Length", "Content-Range"]
    static let token = "v2.1800000000.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    static let target = "/v2/a/manifests/v1"

    static func run(_ bytes: [UInt8]) async throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        let mode = input.byte() % 2
        let now = Date(timeIntervalSince1970: TimeInterval(input.integer(UInt64.self) % PeerTokenFuzzing.latestTime))
        let status = Int(input.integer(UInt16.self) % 1000)
        var headers = HTTPHeaders()
        for name in covered where input.bool() {
            headers.add(name: name, value: text(input.chunk(maximum: 200)))
        }
        try checkReaders(PeerResponseHead(status: status, headers: headers))
        if mode == 0 {
            headers.add(name: PeerAnswerSeal.header, value: text(input.rest()))
            let accepted = await relay.verify(
                PeerResponseHead(status: status, headers: headers), responder: "holder", token: token, method: "GET",
                target: target, now: now)
            try require(!accepted, "an arbitrary seal was accepted: \(headers)")
            return
        }
        let fields = PeerAnswerSeal.Fields(status: status, headers: headers)
        guard let seal = await holder.seal(token: token, method: "GET", target: target, fields: fields, now: now) else { return }
        var sealed = headers
        sealed.add(name: PeerAnswerSeal.header, value: seal)
        let head = PeerResponseHead(status: status, headers: sealed)
        try require(await relay.verify(head, responder: "holder", token: token, method: "GET", target: target, now: now),
                "a sealed answer was refused: \(sealed)")
        var edited = head
        switch input.byte() % 4 {
        case 0:
            let name = input.pick(covered)
            let value = text(input.chunk(maximum: 200))
            if headers.first(name: name) == value { return }
            edited.headers.replaceOrAdd(name: name, value: value)
        case 1:
            let changed = Int(input.integer(UInt16.self) % 1000)
            if changed == status { return }
            edited.status = changed
        case 2:
            var value = Array(seal.utf8)
            value[Int(input.integer(UInt16.self)) % value.count] ^= max(1, input.byte())
            edited.headers.replaceOrAdd(name: PeerAnswerSeal.header, value: String(decoding: value, as: UTF8.self))
        default:
            let skew = TimeInterval(121 + input.integer(UInt16.self) % 1000)
            let accepted = await relay.verify(
                head, responder: "holder", token: token, method: "GET", target: target,
                now: now.addingTimeInterval(input.bool() ? skew : -skew))
            try require(!accepted, "a seal was accepted \(skew) s away from its time")
            return
        }
        let accepted = await relay.verify(edited, responder: "holder", token: token, method: "GET", target: target, now: now)
        try require(!accepted, "an edited answer was accepted: \(edited.status) \(edited.headers) (sealed \(sealed))")
    }

    /// The relay's readers: strict, and nothing out of range.
    private static func checkReaders(_ head: PeerResponseHead) throws(PropertyViolation) {
        if let length = head.contentLength {
            try require(length >= 0 && length < 1_000_000_000_000_000_000, "Content-Length read as \(length)")
        }
        if let digest = head.dockerContentDigest {
            try require(Digest(digest.description) == digest, "digest \(digest) does not read back")
        }
        if let range = head.contentRange {
            try require(range.first >= 0 && range.first <= range.last && range.count > 0, "Content-Range read as \(range)")
            if let complete = range.complete { try require(range.last < complete, "Content-Range past its length: \(range)") }
        }
    }

    /// Header values as NIO would hand them over (no CR or LF in a value).
    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.filter { $0 != 0x0A && $0 != 0x0D }, as: UTF8.self)
    }

    static func seeds() -> [[UInt8]] {
        func seed(_ mode: UInt8, status: UInt16, headers: [String?], _ rest: [UInt8]) -> [UInt8] {
            var builder = FuzzInput.Builder()
            builder.byte(mode)
            builder.integer(UInt64(1_800_000_000))
            builder.integer(status)
            for value in headers {
                builder.byte(value == nil ? 0 : 1)
                if let value { builder.chunk(Array(value.utf8)) }
            }
            builder.raw(rest)
            return builder.bytes
        }
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let full = [digest, "application/vnd.oci.image.manifest.v1+json", "512", "bytes 0-511/1024"]
        return [
            seed(0, status: 200, headers: full, Array("v1.1800000000.\(String(repeating: "A", count: 43))=".utf8)),
            seed(0, status: 206, headers: [nil, nil, "-1", "bytes 0-9223372036854775807/*"], Array("v1.-9223372036854775808.x".utf8)),
            seed(1, status: 200, headers: full, [0, 2, 0, 3] + Array("513".utf8)),
            seed(1, status: 206, headers: full, [1, 0, 200]),
            seed(1, status: 200, headers: [digest, nil, "0", nil], [2, 0, 5, 1]),
            seed(1, status: 200, headers: full, [3, 0, 0, 1]),
        ]
    }
}
#endif

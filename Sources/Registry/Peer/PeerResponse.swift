import Catalog
import NIOHTTP1

/// The status line and headers of a peer's answer, available as soon as the
/// peer has sent them (before any body byte).
public struct PeerResponseHead: Sendable {
    public var status: Int
    public var headers: HTTPHeaders

    public init(status: Int, headers: HTTPHeaders) {
        self.status = status
        self.headers = headers
    }

    /// `Content-Length`, when present and well-formed: digits only, at most
    /// 18 of them (no sign; see `StrictDecimal`), a single value.
    public var contentLength: Int64? {
        let values = headers["Content-Length"]
        guard values.count == 1 else { return nil }
        return StrictDecimal.parse(values[0].trimmingASCIISpaces)
    }

    public var contentType: String? { headers.first(name: "Content-Type") }

    /// `Docker-Content-Digest`, when present and a valid sha256 digest.
    public var dockerContentDigest: Digest? {
        headers.first(name: "Docker-Content-Digest").flatMap { Digest($0.trimmingASCIISpaces) }
    }

    /// `Content-Range`, when present and a satisfied byte range.
    public var contentRange: ContentRange? {
        headers.first(name: "Content-Range").flatMap(ContentRange.init(headerValue:))
    }
}

/// A peer's answer: the head, and the body as a stream with backpressure.
///
/// Dropping the response (and every copy of its body) without reading to the
/// end aborts the transfer.
public struct PeerResponse: Sendable {
    public var head: PeerResponseHead
    public var body: PeerBody

    public var status: Int { head.status }
    public var headers: HTTPHeaders { head.headers }
    public var contentLength: Int64? { head.contentLength }
    public var contentType: String? { head.contentType }
    public var dockerContentDigest: Digest? { head.dockerContentDigest }
    public var contentRange: PeerResponseHead.ContentRange? { head.contentRange }

    /// 200 and 206 (what a blob or manifest GET can usefully return).
    public var isSuccess: Bool { status == 200 || status == 206 }
}

extension PeerResponseHead {
    /// A parsed `Content-Range: bytes first-last/complete` (RFC 9110 §14.4);
    /// `complete` is nil for `*`.
    public struct ContentRange: Sendable, Hashable {
        public var first: Int64
        public var last: Int64
        public var complete: Int64?

        public init(first: Int64, last: Int64, complete: Int64?) {
            self.first = first
            self.last = last
            self.complete = complete
        }

        /// Parses the satisfied form; `bytes */length` (unsatisfied) gives nil.
        public init?(headerValue: String) {
            let value = headerValue.trimmingASCIISpaces
            guard value.hasPrefix("bytes ") else { return nil }
            let spec = value.dropFirst(6)
            let parts = spec.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { return nil }
            let bounds = parts[0].split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard bounds.count == 2, let first = StrictDecimal.parse(bounds[0]), let last = StrictDecimal.parse(bounds[1]),
                first >= 0, last >= first
            else { return nil }
            let complete: Int64?
            if parts[1] == "*" {
                complete = nil
            } else {
                guard let c = StrictDecimal.parse(parts[1]), c > last else { return nil }
                complete = c
            }
            self.init(first: first, last: last, complete: complete)
        }

        /// Number of bytes in the range.
        public var count: Int64 { last - first + 1 }
    }
}

extension StringProtocol {  // fileprivate: other files of the module may name their own helpers alike
    fileprivate var trimmingASCIISpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// A single byte range from a `Range: bytes=…` header (RFC 9110 §14.1.2),
/// resolved against a length: `first...last`, both inclusive.
public struct ResolvedRange: Hashable, Sendable {
    public var first: Int64
    public var last: Int64

    public var count: Int64 { last - first + 1 }

    public enum Problem: Error, Hashable, Sendable {
        /// Not `bytes=a-b`, `bytes=a-` or `bytes=-n`, or several ranges: 400.
        case malformed
        /// Well formed but outside the content: 416.
        case unsatisfiable
    }

    /// Parses a header value against a content length.
    public static func parse(_ header: String, length: Int64) throws(Problem) -> ResolvedRange {
        try RangeRequest.parse(header).resolve(length: length)
    }

    /// `bytes first-last/length` for `Content-Range`.
    public func contentRange(length: Int64) -> String { "bytes \(first)-\(last)/\(length)" }
}

/// A `Range` header parsed but not yet resolved: the handler parses it before
/// it knows where the blob is (a malformed one is 400 on every path) and
/// resolves it once against the size, local or relayed alike.
public enum RangeRequest: Hashable, Sendable {
    /// `bytes=first-` or `bytes=first-last`.
    case from(Int64, through: Int64?)
    /// `bytes=-count`: the last `count` bytes.
    case suffix(Int64)

    /// Parses a header value; numbers strictly (`StrictDecimal`).
    public static func parse(_ header: String) throws(ResolvedRange.Problem) -> RangeRequest {
        guard header.utf8.count <= 64, header.hasPrefix("bytes=") else { throw .malformed }
        let spec = header.dropFirst(6).trimmingCharacters(in: " ")
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { throw .malformed }
        let start = spec[..<dash]
        let end = spec[spec.index(after: dash)...]
        func number(_ s: Substring) throws(ResolvedRange.Problem) -> Int64 {
            guard let v = StrictDecimal.parse(s) else { throw .malformed }
            return v
        }
        if start.isEmpty { return .suffix(try number(end)) }
        let first = try number(start)
        guard !end.isEmpty else { return .from(first, through: nil) }
        let last = try number(end)
        guard last >= first else { throw .malformed }
        return .from(first, through: last)
    }

    /// The range within `length` bytes; `.unsatisfiable` when none of it is.
    public func resolve(length: Int64) throws(ResolvedRange.Problem) -> ResolvedRange {
        switch self {
        case .suffix(let count):
            guard count > 0, length > 0 else { throw .unsatisfiable }
            return ResolvedRange(first: max(0, length - count), last: length - 1)
        case .from(let first, let through):
            guard first < length else { throw .unsatisfiable }
            return ResolvedRange(first: first, last: min(through ?? length - 1, length - 1))
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}

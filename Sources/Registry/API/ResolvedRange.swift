/// A single byte range from a `Range: bytes=…` header (RFC 9110 §14.1.2),
/// resolved against a length: `first...last`, both inclusive.
public struct ResolvedRange: Hashable, Sendable {
    public var first: Int64
    public var last: Int64

    public var count: Int64 { last - first + 1 }

    public enum Problem: Error, Hashable, Sendable {
        /// Not `bytes=a-b`, `bytes=a-` or `bytes=-n`, or several ranges.
        case malformed
        /// Well formed but outside the content.
        case unsatisfiable
    }

    /// Parses a header value against a content length.
    public static func parse(_ header: String, length: Int64) throws(Problem) -> ResolvedRange {
        guard header.utf8.count <= 64, header.hasPrefix("bytes=") else { throw .malformed }
        let spec = header.dropFirst(6).trimmingCharacters(in: " ")
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { throw .malformed }
        let start = spec[..<dash]
        let end = spec[spec.index(after: dash)...]
        func number(_ s: Substring) throws(Problem) -> Int64 {
            guard let v = StrictDecimal.parse(s) else { throw .malformed }
            return v
        }
        if start.isEmpty {
            // Suffix: the last n bytes.
            let n = try number(end)
            guard n > 0, length > 0 else { throw .unsatisfiable }
            return ResolvedRange(first: max(0, length - n), last: length - 1)
        }
        let first = try number(start)
        let last = end.isEmpty ? length - 1 : min(try number(end), length - 1)
        guard first < length, first <= last else {
            if !end.isEmpty, let requested = StrictDecimal.parse(end), requested < first { throw .malformed }
            throw .unsatisfiable
        }
        return ResolvedRange(first: first, last: last)
    }

    /// `bytes first-last/length` for `Content-Range`.
    public func contentRange(length: Int64) -> String { "bytes \(first)-\(last)/\(length)" }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return s
    }
}

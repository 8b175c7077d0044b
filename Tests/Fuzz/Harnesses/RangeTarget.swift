import Registry

/// Byte ranges: the `Range` header a node serves (`ResolvedRange.parse`), the
/// `Content-Range` a relay reads from a peer (`PeerResponseHead.ContentRange`)
/// and the `Range` a relay sends when it resumes (`PeerRequest.ByteRange`).
///
/// Mode 0 parses a `Range` header against a fuzzer-chosen length: a result
/// lies within the content, its count is computed without overflow, and the
/// `Content-Range` printed for it reads back as the same range. Mode 1 parses
/// a `Content-Range` header: a result's count does not trap, and it prints
/// back to a header that reads back equal (`bytes 0-9223372036854775807/*`,
/// whose count trapped, is refused: 19 digits). Mode 2 writes a resume
/// request's `Range` and checks that the server side resolves it to what was
/// asked. Mode 3 checks `StrictDecimal`, which every number read from the
/// network goes through: it reads exactly 1 to 18 ASCII digits, as `Int64`
/// would.
extension FuzzTarget {
    static let range = FuzzTarget(
        name: "range",
        summary: "Range (ResolvedRange.parse), Content-Range, resume ranges, StrictDecimal; bounds and print/parse round trips",
        seeds: RangeFuzzing.seeds,
        run: RangeFuzzing.run)
}

enum RangeFuzzing {
    typealias ContentRange = PeerResponseHead.ContentRange

    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        let mode = input.byte() % 4
        // Content of up to 10^18 - 1 bytes (an exabyte): every number in a
        // range header then has at most 18 digits, all `StrictDecimal`
        // reads. (Ranges of longer content would print 19 digits, which the
        // relay's `Content-Range` reader refuses: no such blob exists.)
        let length = Int64(input.integer(UInt64.self) % 1_000_000_000_000_000_000)
        switch mode {
        case 0:
            let header = String(decoding: input.rest(), as: UTF8.self)
            guard let range = try? ResolvedRange.parse(header, length: length) else { return }
            try require(0 <= range.first && range.first <= range.last && range.last < length,
                    "\(header.debugDescription) on \(length) bytes resolved to \(range.first)-\(range.last)")
            try require(range.count == range.last - range.first + 1 && range.count > 0, "count \(range.count)")
            let printed = range.contentRange(length: length)
            try require(ContentRange(headerValue: printed) == ContentRange(first: range.first, last: range.last, complete: length),
                    "\(printed) does not read back")
        case 1:
            let header = String(decoding: input.rest(), as: UTF8.self)
            guard let range = ContentRange(headerValue: header) else { return }
            try require(range.count > 0, "\(header.debugDescription): count \(range.count)")
            let printed = "bytes \(range.first)-\(range.last)/" + (range.complete.map { "\($0)" } ?? "*")
            try require(ContentRange(headerValue: printed) == range, "\(header.debugDescription) prints as \(printed), which reads otherwise")
        case 3:
            let text = String(decoding: input.rest(), as: UTF8.self)
            let digitsOnly = !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            let value = StrictDecimal.parse(text)
            try require((value != nil) == (digitsOnly && text.utf8.count <= StrictDecimal.maximumDigits),
                    "StrictDecimal \(value.map { "read \($0) from" } ?? "refused") \(text.debugDescription)")
            if let value { try require(Int64(text) == value, "StrictDecimal read \(value) from \(text)") }
        default:
            let start = Int64(input.integer(UInt64.self) >> 1)
            let end = input.bool() ? Int64(input.integer(UInt64.self) >> 1) : nil
            if let end, end < start { return }  // PeerRequest refuses these before sending
            let request = PeerRequest.ByteRange(start: start, end: end)
            let resolved: ResolvedRange
            do { resolved = try ResolvedRange.parse(request.headerValue, length: length) } catch {
                // Beyond the content, or numbers longer than the server reads.
                let tooLong = "\(start)".count > 18 || end.map { "\($0)".count > 18 } ?? false
                try require(start >= length || (tooLong && error == .malformed),
                        "\(request.headerValue) on \(length) bytes refused: \(error)")
                return
            }
            try require(resolved.first == start && resolved.last == min(end ?? (length - 1), length - 1),
                    "\(request.headerValue) on \(length) bytes resolved to \(resolved.first)-\(resolved.last)")
        }
    }

    static func seeds() -> [[UInt8]] {
        func seed(_ mode: UInt8, length: Int64, _ text: String) -> [UInt8] {
            var builder = FuzzInput.Builder()
            builder.byte(mode)
            builder.integer(UInt64(length))
            builder.raw(Array(text.utf8))
            return builder.bytes
        }
        return [
            seed(0, length: 1000, "bytes=0-499"), seed(0, length: 1000, "bytes=500-"), seed(0, length: 1000, "bytes=-200"),
            seed(0, length: 10, "bytes= 3-999999999999999999"), seed(0, length: 999_999_999_999_999_999, "bytes=999999999999999998-"),
            seed(1, length: 0, "bytes 0-9/10"), seed(1, length: 0, "bytes 5-9/*"), seed(1, length: 0, "bytes 0-9223372036854775806/*"),
            seed(1, length: 0, " bytes 1-2/9223372036854775807\t"), seed(2, length: 1 << 20, "") + [0, 0, 0, 0, 0, 0, 0x10, 0, 0],
            seed(1, length: 0, "bytes 0-9223372036854775807/*"), seed(3, length: 0, "000000000000000123"),
            seed(3, length: 0, "9223372036854775808"), seed(3, length: 0, "-1"),
        ]
    }
}

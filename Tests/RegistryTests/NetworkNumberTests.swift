import NIOHTTP1
import Testing

@testable import Registry

/// Issue 9, finding 1, beyond tokens: every number this module reads from the
/// network is parsed strictly (ASCII digits, no sign, at most 18 digits), so
/// arithmetic on it cannot overflow.
@Suite struct NetworkNumberTests {
    @Test(arguments: [
        ("0", Int64?.some(0)), ("42", 42), ("999999999999999999", 999_999_999_999_999_999),
        ("9999999999999999999", nil), ("9223372036854775807", nil), ("-9223372036854775808", nil), ("-1", nil),
        ("+1", nil), (" 1", nil), ("1 ", nil), ("", nil), ("0x10", nil), ("1e3", nil), ("١٢", nil), ("1_000", nil),
    ])
    func strictDecimals(_ text: String, _ value: Int64?) {
        #expect(StrictDecimal.parse(text) == value)
    }

    @Test func peersContentLengthIsStrict() {
        func length(_ values: [String]) -> Int64? {
            var headers = HTTPHeaders()
            for v in values { headers.add(name: "Content-Length", value: v) }
            return PeerResponseHead(status: 200, headers: headers).contentLength
        }
        #expect(length(["1024"]) == 1024)
        #expect(length([" 1024 "]) == 1024)
        for bad in [["+1024"], ["-1"], ["-9223372036854775808"], ["9223372036854775807"], ["1024", "1024"], ["1e3"], []] {
            #expect(length(bad) == nil, "\(bad)")
        }
    }

    @Test func peersContentRangeIsStrict() {
        typealias CR = PeerResponseHead.ContentRange
        #expect(CR(headerValue: "bytes 0-0/1") == .init(first: 0, last: 0, complete: 1))
        for bad in [
            "bytes +0-1/2", "bytes 0-+1/2", "bytes 0-1/+2", "bytes -0-1/2", "bytes 0-9223372036854775807/*",
            "bytes 0-9223372036854775806/9223372036854775807", "bytes 1000000000000000000-1000000000000000001/*",
        ] {
            #expect(CR(headerValue: bad) == nil, "\(bad)")
        }
    }

    @Test func rangeHeadersAreStrict() {
        for bad in ["bytes=+1-2", "bytes=1-+2", "bytes=-+2", "bytes=-9223372036854775808", "bytes=0-9223372036854775807"] {
            #expect(throws: ResolvedRange.Problem.malformed, "\(bad)") { try ResolvedRange.parse(bad, length: 1000) }
        }
    }
}

import NIOHTTP1

/// Assembles a `PeerResponseHead` from the header lines libcurl hands to
/// `CURLOPT_HEADERFUNCTION`, one complete line (with its CRLF) per call.
///
/// libcurl passes every header block it sees, including interim `1xx`
/// responses; a block is complete at its empty line, and only a final (non
/// `1xx`) block is a response head.
struct ResponseHeadParser {
    private var status: Int?
    private var headers = HTTPHeaders()
    private(set) var isComplete = false

    enum LineError: Error { case malformedStatusLine(String) }

    /// Feeds one line; returns the head when `line` completes a final block.
    mutating func consume(_ line: UnsafeRawBufferPointer) throws(LineError) -> PeerResponseHead? {
        guard !isComplete else { return nil }  // trailers: not used by peers
        var bytes = line[...]
        while let last = bytes.last, last == 13 || last == 10 { bytes = bytes.dropLast() }
        if bytes.isEmpty {
            guard let status else { return nil }
            if (100..<200).contains(status) {
                self.status = nil
                headers = HTTPHeaders()
                return nil
            }
            isComplete = true
            return PeerResponseHead(status: status, headers: headers)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            // "HTTP/1.1 200 OK", "HTTP/2 404"
            let fields = text.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            guard fields.count >= 2, fields[1].utf8.count == 3, let code = StrictDecimal.parse(fields[1], maximumDigits: 3).map(Int.init) else {
                throw .malformedStatusLine(text)
            }
            status = code
            headers = HTTPHeaders()
            return nil
        }
        guard status != nil, let colon = text.firstIndex(of: ":") else { return nil }  // obs-fold or junk: ignore
        let name = String(text[..<colon])
        var value = text[text.index(after: colon)...]
        while let f = value.first, f == " " || f == "\t" { value = value.dropFirst() }
        while let l = value.last, l == " " || l == "\t" { value = value.dropLast() }
        headers.add(name: name, value: String(value))
        return nil
    }
}

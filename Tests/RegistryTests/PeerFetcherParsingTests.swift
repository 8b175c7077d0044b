import Testing

@testable import Registry

@Suite struct PeerFetcherParsingTests {
    private func feed(_ parser: inout ResponseHeadParser, _ lines: [String]) throws -> [PeerResponseHead] {
        var heads: [PeerResponseHead] = []
        for line in lines {
            let bytes = Array((line + "\r\n").utf8)
            if let head = try bytes.withUnsafeBytes({ try parser.consume($0) }) { heads.append(head) }
        }
        return heads
    }

    @Test func parsesStatusAndHeaders() throws {
        var parser = ResponseHeadParser()
        let heads = try feed(
            &parser,
            [
                "HTTP/1.1 206 Partial Content", "Content-Length: 100", "content-type:  application/octet-stream ",
                "Docker-Content-Digest: sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "Content-Range: bytes 100-199/5000", "",
            ])
        #expect(heads.count == 1)
        let head = try #require(heads.first)
        #expect(head.status == 206)
        #expect(head.contentLength == 100)
        #expect(head.contentType == "application/octet-stream")
        #expect(head.dockerContentDigest?.hex.hasPrefix("e3b0c442") == true)
        #expect(head.contentRange == .init(first: 100, last: 199, complete: 5000))
        #expect(parser.isComplete)
    }

    @Test func skipsInterimResponses() throws {
        var parser = ResponseHeadParser()
        let heads = try feed(&parser, ["HTTP/1.1 100 Continue", "", "HTTP/1.1 200 OK", "Content-Length: 5", ""])
        #expect(heads.map(\.status) == [200])
        #expect(heads.first?.headers["Content-Length"] == ["5"])
    }

    @Test func rejectsAMalformedStatusLine() {
        var parser = ResponseHeadParser()
        #expect(throws: ResponseHeadParser.LineError.self) { _ = try feed(&parser, ["HTTP/1.1 OK"]) }
    }

    @Test func contentRangeForms() {
        #expect(PeerResponseHead.ContentRange(headerValue: "bytes 0-0/1") == .init(first: 0, last: 0, complete: 1))
        #expect(PeerResponseHead.ContentRange(headerValue: "bytes 5-9/*") == .init(first: 5, last: 9, complete: nil))
        #expect(PeerResponseHead.ContentRange(headerValue: "bytes */100") == nil)
        #expect(PeerResponseHead.ContentRange(headerValue: "bytes 9-5/100") == nil)
        #expect(PeerResponseHead.ContentRange(headerValue: "bytes 0-99/99") == nil)
        #expect(PeerResponseHead.ContentRange(headerValue: "items 0-1/2") == nil)
    }

    @Test func rangeHeaderValues() {
        #expect(PeerRequest.ByteRange(start: 10).headerValue == "bytes=10-")
        #expect(PeerRequest.ByteRange(start: 10, end: 19).headerValue == "bytes=10-19")
    }
}

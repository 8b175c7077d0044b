import Catalog
import NIOCore
import Testing

@testable import Registry

@Suite struct DigestVerifierTests {
    @Test func knownVectors() {
        #expect(DigestVerifier().finish().description == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            DigestVerifier.digest(of: Array("abc".utf8)).description
                == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func incrementalEqualsOneShotAndCatalogHash() {
        let payload = fetchTestPayload(size: 1_000_003, seed: 7)
        let whole = DigestVerifier.digest(of: payload)
        #expect(whole == Catalog.SHA256.hash(payload.readableBytesView))
        var verifier = DigestVerifier()
        var rest = payload
        var size = 1
        while rest.readableBytes > 0 {
            verifier.update(rest.readSlice(length: min(size, rest.readableBytes))!)
            size = size * 3 + 1  // odd sizes straddle the 64-byte block boundary
        }
        #expect(verifier.byteCount == Int64(payload.readableBytes))
        #expect(verifier.finish() == whole)
        #expect(verifier.finish() == whole, "finish() does not consume the state")
        #expect(verifier.matches(whole))
    }

    @Test func verifyThrowsMismatchWithBothDigests() {
        var verifier = DigestVerifier()
        verifier.update(Array("hello".utf8))
        let expected = DigestVerifier.digest(of: Array("world".utf8))
        #expect(!verifier.matches(expected))
        #expect(throws: PeerFetchError.digestMismatch(expected: expected, actual: verifier.finish())) {
            try verifier.verify(expected)
        }
    }

    @Test func verifyingBodyPassesCorrectBytesThrough() async throws {
        let chunks = (0..<5).map { fetchTestPayload(size: 1000 + $0, seed: UInt64($0)) }
        var all = ByteBuffer()
        for var c in chunks { all.writeBuffer(&c) }
        var received = ByteBuffer()
        for try await chunk in VerifyingBody(chunks.asyncChunks, expected: DigestVerifier.digest(of: all)) {
            received.writeImmutableBuffer(chunk)
        }
        #expect(received == all)
    }

    @Test func verifyingBodyWithholdsTheLastChunkOfWrongBytes() async throws {
        let chunks = (0..<5).map { fetchTestPayload(size: 1000, seed: UInt64($0)) }
        let wrong = DigestVerifier.digest(of: Array("something else".utf8))
        var iterator = VerifyingBody(chunks.asyncChunks, expected: wrong).makeAsyncIterator()
        var released = 0
        await #expect(throws: PeerFetchError.self) {
            while let chunk = try await iterator.next() { released += chunk.readableBytes }
        }
        #expect(released == 4000, "all but the last chunk: the stream ends one chunk short of the blob")
        #expect(try await iterator.next() == nil)
    }

    @Test func verifyingBodyStopsAtMaxLength() async throws {
        let chunks = (0..<3).map { fetchTestPayload(size: 1000, seed: UInt64($0)) }
        var iterator = VerifyingBody(chunks.asyncChunks, expected: DigestVerifier().finish(), maxLength: 2500).makeAsyncIterator()
        await #expect(throws: PeerFetchError.tooLarge) {
            while try await iterator.next() != nil {}
        }
    }
}

extension Array where Element == ByteBuffer {
    /// The chunks as an async sequence (a stand-in for a peer body).
    var asyncChunks: AsyncStream<ByteBuffer> {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        for chunk in self { continuation.yield(chunk) }
        continuation.finish()
        return stream
    }
}

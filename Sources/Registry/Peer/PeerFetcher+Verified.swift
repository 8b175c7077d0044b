import Catalog
import NIOCore

extension PeerResponse {
    /// The whole body, hashed as it arrives: `.tooLarge` (the transfer
    /// cancelled) as soon as it passes `limit` bytes, `.digestMismatch` if it
    /// does not hash to `expected`.
    func collect(upTo limit: Int, verifying expected: Digest) async throws -> ByteBuffer {
        var bytes = ByteBufferAllocator().buffer(capacity: Int(min(contentLength ?? 0, Int64(limit))))
        var verifier = DigestVerifier()
        for try await chunk in body {
            guard bytes.readableBytes + chunk.readableBytes <= limit else {
                body.cancel()
                throw PeerFetchError.tooLarge
            }
            verifier.update(chunk)
            bytes.writeImmutableBuffer(chunk)
        }
        try verifier.verify(expected)
        return bytes
    }
}

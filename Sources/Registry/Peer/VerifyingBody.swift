import Catalog
import NIOCore

/// Passes a byte stream through while hashing it, and ends with
/// `.digestMismatch` instead of completing when the bytes are wrong.
///
/// The last chunk is held back until the digest is checked: each chunk is
/// released only once the next one (or the end of the base stream) has been
/// seen. A server relaying this stream with a `Content-Length` therefore never
/// writes the final byte of a wrong blob: on mismatch it aborts the
/// connection one chunk short, and the client cannot mistake the truncated
/// body for a complete one. The cost is one chunk of latency, no copies.
///
/// `maxLength` (the descriptor's size, when known) turns a peer that sends
/// more than that into `.tooLarge` as soon as it happens.
public struct VerifyingBody<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    public typealias Element = ByteBuffer

    let base: Base
    let expected: Digest
    let maxLength: Int64?

    public init(_ base: Base, expected: Digest, maxLength: Int64? = nil) {
        self.base = base
        self.expected = expected
        self.maxLength = maxLength
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let expected: Digest
        let maxLength: Int64?
        var verifier = DigestVerifier()
        /// Seen and hashed, not yet released.
        var held: ByteBuffer?
        var done = false

        public mutating func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            while true {
                let chunk: ByteBuffer?
                do {
                    chunk = try await base.next()
                } catch {
                    done = true
                    held = nil
                    throw error
                }
                guard let chunk else {
                    done = true
                    defer { held = nil }
                    try verifier.verify(expected)
                    return held
                }
                guard chunk.readableBytes > 0 else { continue }
                if let maxLength, verifier.byteCount + Int64(chunk.readableBytes) > maxLength {
                    done = true
                    held = nil
                    throw PeerFetchError.tooLarge
                }
                verifier.update(chunk)
                let previous = held
                held = chunk
                if let previous { return previous }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), expected: expected, maxLength: maxLength)
    }
}

extension VerifyingBody: Sendable where Base: Sendable {}
extension VerifyingBody.AsyncIterator: Sendable where Base.AsyncIterator: Sendable {}

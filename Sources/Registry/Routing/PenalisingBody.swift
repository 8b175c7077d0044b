import Catalog
import NIOCore

/// Passes a verified byte stream through, reporting each chunk as it goes out
/// (`onChunk`, for byte counts) and calling `onMismatch` once if it ends with
/// `.digestMismatch`, so the peers that served it can be penalised. It pulls
/// only when its consumer does: backpressure reaches the peer transfer.
struct PenalisingBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element == ByteBuffer, Base.AsyncIterator: Sendable {
    typealias Element = ByteBuffer
    let base: Base
    let onChunk: @Sendable (Int) -> Void
    let onMismatch: @Sendable () -> Void

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var base: Base.AsyncIterator
        let onChunk: @Sendable (Int) -> Void
        let onMismatch: @Sendable () -> Void

        mutating func next() async throws -> ByteBuffer? {
            do {
                let chunk = try await base.next()
                if let chunk { onChunk(chunk.readableBytes) }
                return chunk
            } catch let error as PeerFetchError {
                if case .digestMismatch = error { onMismatch() }
                throw error
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), onChunk: onChunk, onMismatch: onMismatch)
    }
}


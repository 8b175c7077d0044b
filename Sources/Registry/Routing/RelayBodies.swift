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

/// The bytes of `window` out of a whole, verified blob stream. The base is
/// read to its end (so the digest check covers the whole blob), and the last
/// chunk of the window is held back until the base has ended without error:
/// a client never receives a complete range of a wrong blob.
struct WindowedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element == ByteBuffer, Base.AsyncIterator: Sendable {
    typealias Element = ByteBuffer
    let base: Base
    let window: ResolvedRange

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var base: Base.AsyncIterator
        let window: ResolvedRange
        var position: Int64 = 0
        var held: ByteBuffer?

        mutating func next() async throws -> ByteBuffer? {
            while let chunk = try await base.next() {
                let start = position
                position += Int64(chunk.readableBytes)
                let from = Swift.max(window.first, start)
                let to = Swift.min(window.last + 1, position)
                guard from < to, let slice = chunk.getSlice(at: chunk.readerIndex + Int(from - start), length: Int(to - from)) else {
                    continue
                }
                if let previous = held {
                    held = slice
                    return previous
                }
                held = slice
            }
            // The base ended cleanly, so the blob verified: release the rest.
            defer { held = nil }
            return held
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), window: window) }
}

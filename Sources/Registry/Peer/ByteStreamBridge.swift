import NIOCore
import Synchronization

extension AsyncSequence where Element == ByteBuffer, AsyncIterator: Sendable {
    /// This byte stream as the `AsyncThrowingStream` that
    /// `HTTPResponse.Body.stream` takes, keeping backpressure.
    ///
    /// Built with `AsyncThrowingStream(unfolding:)`, which pulls one chunk
    /// each time the consumer asks for one: nothing is read ahead, so a slow
    /// client still pauses the peer transfer. An error (e.g.
    /// `.digestMismatch`) reaches the consumer as the stream's error; when the
    /// consumer stops early, dropping the stream drops the iterator, which
    /// aborts a peer transfer behind it.
    public func throwingStream() -> AsyncThrowingStream<ByteBuffer, any Error> {
        let source = PullSource(makeAsyncIterator())
        return AsyncThrowingStream(unfolding: { try await source.next() })
    }
}

/// Holds an iterator for a `@Sendable` pull closure. The iterator is taken out
/// of the mutex for the duration of each `next()` and put back afterwards, so
/// it is never used by two callers at once; a second, concurrent caller gets
/// an error instead of a data race.
private final class PullSource<Iterator: AsyncIteratorProtocol & Sendable>: Sendable where Iterator.Element == ByteBuffer {
    private let slot: Mutex<Iterator?>

    init(_ iterator: Iterator) {
        slot = Mutex(iterator)
    }

    func next() async throws -> ByteBuffer? {
        guard var iterator = slot.withLock({ $0.take() }) else {
            throw PeerFetchError.invalidRequest("a byte stream is being read by two tasks at once")
        }
        do {
            let chunk = try await iterator.next()
            slot.withLock { $0 = iterator }
            return chunk
        } catch {
            slot.withLock { $0 = iterator }
            throw error
        }
    }
}

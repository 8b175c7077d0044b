import NIOCore

/// A peer response body: `ByteBuffer` chunks in order, with backpressure.
///
/// At most `Statistics.bufferLimit` bytes wait between the network and the
/// consumer; beyond that the transfer is paused until the consumer catches
/// up, so a slow client slows the peer download instead of growing memory.
/// Iteration throws the transfer's `PeerFetchError` after the bytes that
/// arrived before the failure.
///
/// Read it from one task at a time. Cancelling that task, calling `cancel()`,
/// or dropping every copy of the body and its iterators before the end aborts
/// the transfer and closes its connection.
public struct PeerBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    /// Debug and metrics view of the body's buffer.
    public struct Statistics: Sendable, Hashable {
        /// Bytes waiting for the consumer now.
        public var bufferedBytes: Int
        /// The most that ever waited.
        public var peakBufferedBytes: Int
        /// The bound `peakBufferedBytes` stays within.
        public var bufferLimit: Int
        /// How often the transfer was paused because the buffer was full.
        public var pauses: Int
        /// Whether the transfer is paused right now.
        public var isPaused: Bool
    }

    /// Cancels the transfer when the last copy of the body (or of an
    /// iterator) goes away; a finished transfer makes that a no-op.
    final class Lifetime: Sendable {
        let channel: TransferChannel
        init(_ channel: TransferChannel) { self.channel = channel }
        deinit { channel.cancel() }
    }

    let lifetime: Lifetime

    init(_ lifetime: Lifetime) {
        self.lifetime = lifetime
    }

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let lifetime: Lifetime

        public mutating func next() async throws -> ByteBuffer? {
            try await lifetime.channel.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(lifetime: lifetime)
    }

    public var statistics: Statistics { lifetime.channel.statistics }

    /// Aborts the transfer; readers get `.cancelled`.
    public func cancel() {
        lifetime.channel.cancel()
    }

    /// Gets rid of an unwanted body (an error page, say): one of at most
    /// `limit` bytes is read to its end so that its keep-alive connection is
    /// reused; a longer one is cancelled, which closes the connection.
    public func discard(upTo limit: Int = 64 * 1024) async {
        var seen = 0
        do {
            for try await chunk in self {
                seen += chunk.readableBytes
                if seen > limit { break }
            }
        } catch {}
        cancel()
    }
}

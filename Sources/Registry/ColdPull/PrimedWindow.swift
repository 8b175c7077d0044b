import NIOCore

/// A whole-blob byte stream windowed to one range, whose first slice has
/// already been read: a relay that sends its response head only once it
/// holds a byte to send. Until then a failure can still become a 404 (and
/// the client goes to the upstream); after the head, every failure comes
/// after progress, which containerd resumes from (see "Cold pulls" in
/// `docs/architecture.md`). The windowing rule is `ByteWindow`'s: the last
/// slice is held back until the base ends cleanly.
struct PrimedWindow<Base: AsyncIteratorProtocol & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let base: Base
    let window: ByteWindow
    let first: ByteBuffer

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var base: Base
        var window: ByteWindow
        var first: ByteBuffer?
        var ended = false

        mutating func next() async throws -> ByteBuffer? {
            if let first {
                self.first = nil
                return first
            }
            guard !ended else { return nil }
            while let chunk = try await base.next() {
                if let slice = window.take(chunk) { return slice }
            }
            ended = true
            return window.finish()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base, window: window, first: first) }
}

extension AsyncSequence where Self: Sendable, Element == ByteBuffer, AsyncIterator: Sendable {
    /// Reads this whole-blob stream until the first slice of `range` may go
    /// out; throws what the stream throws, or `.transferFailed` if it ends
    /// before.
    func primed(to range: ResolvedRange) async throws -> PrimedWindow<AsyncIterator> {
        var iterator = makeAsyncIterator()
        var window = ByteWindow(range)
        while true {
            guard let chunk = try await iterator.next() else {
                guard let last = window.finish() else { throw PeerFetchError.transferFailed("the blob ended before the range") }
                return PrimedWindow(base: iterator, window: window, first: last)
            }
            if let slice = window.take(chunk) { return PrimedWindow(base: iterator, window: window, first: slice) }
        }
    }
}

import NIOCore

/// The bytes of one range out of a whole blob's chunks, in order: the one
/// windowing rule for local and relayed bodies alike (the range itself is
/// resolved once, by the handler, against the blob's size).
///
/// The last slice is held back until the whole blob has passed cleanly
/// (`finish()`): the base is read to its end, so a verified relay's digest
/// check covers the whole blob and a client never receives a complete range
/// of a wrong blob (the response is aborted one slice short instead).
struct ByteWindow: Sendable {
    let range: ResolvedRange
    private var position: Int64 = 0
    private var held: ByteBuffer?

    init(_ range: ResolvedRange) {
        self.range = range
    }

    /// Takes the next chunk of the whole blob; returns a slice that may go
    /// out now, if any.
    mutating func take(_ chunk: ByteBuffer) -> ByteBuffer? {
        let start = position
        position += Int64(chunk.readableBytes)
        let from = max(range.first, start)
        let to = min(range.last + 1, position)
        guard from < to, let slice = chunk.getSlice(at: chunk.readerIndex + Int(from - start), length: Int(to - from)) else {
            return nil
        }
        defer { held = slice }
        return held
    }

    /// The whole blob ended cleanly: the slice held back.
    mutating func finish() -> ByteBuffer? {
        defer { held = nil }
        return held
    }
}

/// A whole-blob byte stream windowed to one range (`ByteWindow`), pulling
/// only when its consumer does, so backpressure reaches the source.
struct WindowedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable
where Base.Element == ByteBuffer, Base.AsyncIterator: Sendable {
    typealias Element = ByteBuffer
    let base: Base
    let range: ResolvedRange

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        var base: Base.AsyncIterator
        var window: ByteWindow
        var ended = false

        mutating func next() async throws -> ByteBuffer? {
            guard !ended else { return nil }
            while let chunk = try await base.next() {
                if let slice = window.take(chunk) { return slice }
            }
            ended = true
            return window.finish()
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), window: ByteWindow(range)) }
}

/// Chunks of a store's `[UInt8]` stream as `ByteBuffer`s, optionally windowed
/// (`ByteWindow`), pulled one at a time: the actor owns the source's
/// iterator (which is not `Sendable`) and advances it on its own executor.
actor StoreChunks {
    private var source: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var window: ByteWindow?
    private var ended = false

    init(_ chunks: AsyncThrowingStream<[UInt8], any Error>, range: ResolvedRange?) {
        self.source = chunks.makeAsyncIterator()
        self.window = range.map(ByteWindow.init)
    }

    func next() async throws -> ByteBuffer? {
        guard !ended else { return nil }
        while true {
            // The iterator is the actor's own; it is advanced on the actor.
            var iterator = source
            let next = try await iterator.next(isolation: self)
            source = iterator
            guard let bytes = next else { break }
            let chunk = ByteBuffer(bytes: bytes)
            guard window != nil else { return chunk }
            if let slice = window!.take(chunk) { return slice }
        }
        ended = true
        return window?.finish()
    }

    /// The stream a response body takes.
    nonisolated func stream() -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream(unfolding: { try await self.next() })
    }
}

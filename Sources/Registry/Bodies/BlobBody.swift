import NIOCore

/// A blob's bytes as the handler serves them, local or relayed; `window`
/// turns them into the response body for one resolved range.
public enum BlobBody: Sendable {
    /// An open file of the local store, written with sendfile(2).
    case file(NIOFileHandle)
    /// The whole blob in memory (a small relayed blob, verified).
    case buffered(ByteBuffer)
    /// The whole blob as a stream of chunks, given the range to window it to
    /// (`WindowedBody` or `StoreChunks`, both by `ByteWindow`). The stream
    /// throws instead of ending when the bytes are wrong.
    case stream(@Sendable (ResolvedRange?) -> AsyncThrowingStream<ByteBuffer, any Error>)

    /// A verified whole-blob stream (the relayed path).
    static func stream<S: AsyncSequence & Sendable>(_ chunks: S) -> BlobBody
    where S.Element == ByteBuffer, S.AsyncIterator: Sendable {
        .stream { range in
            guard let range else { return chunks.throwingStream() }
            return WindowedBody(base: chunks, range: range).throwingStream()
        }
    }

    /// The response body carrying `range` of this blob of `size` bytes (nil: all of it).
    func window(_ range: ResolvedRange?, size: Int64) -> HTTPResponse.Body {
        switch self {
        case .file(let handle):
            return .file(handle, offset: range?.first ?? 0, length: range?.count ?? size)
        case .buffered(let bytes):
            guard let range else { return .bytes(bytes) }
            return .bytes(bytes.getSlice(at: bytes.readerIndex + Int(range.first), length: Int(range.count))!)
        case .stream(let make):
            return .stream(length: range?.count ?? size, make(range))
        }
    }

    /// Lets go of what a body that will not be sent holds (an open file; a
    /// stream's transfer ends when it is dropped).
    func discard() {
        if case .file(let handle) = self { try? handle.close() }
    }
}

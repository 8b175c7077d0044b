/// A blob read through containerd's `Content.Read`, for when its file cannot be
/// read directly (no access to the content root, or a remote daemon).
///
/// Each element is one window of the blob fetched by its own ranged call, and the
/// next call is made only when the consumer asks for more: a slow client slows
/// the reads instead of filling memory, and cancelling the consumer stops them.
enum ContainerdBlobStream {
    /// Bytes per call: four of containerd's 1 MiB messages, so the call overhead
    /// on the unix socket stays small against the transfer.
    static let window: Int64 = 4 << 20

    static func chunks(
        of digest: Digest,
        size: Int64,
        from connection: ContainerdConnection
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        let cursor = Cursor(total: size)
        return AsyncThrowingStream(unfolding: {
            guard let range = await cursor.claim(window) else { return nil }
            let bytes = try await connection.read(digest, offset: range.offset, size: range.length)
            guard Int64(bytes.count) == range.length else {
                throw ContainerdError.protocolViolation(
                    "Content.Read of \(digest) at \(range.offset) returned \(bytes.count) bytes, expected \(range.length)"
                )
            }
            return bytes
        })
    }

    private actor Cursor {
        let total: Int64
        var offset: Int64 = 0

        init(total: Int64) { self.total = total }

        func claim(_ window: Int64) -> (offset: Int64, length: Int64)? {
            guard offset < total else { return nil }
            let length = min(window, total - offset)
            defer { offset += length }
            return (offset, length)
        }
    }
}

/// How big the chunks of a peer body are and how many may wait for the
/// consumer, as a share of one memory budget for all running transfers.
///
/// Chunk size is the main lever on relay throughput: every chunk costs a
/// consumer wake-up, a hash call and a socket write on the way out, and
/// those fixed costs dominate small chunks. On a 2-CPU machine, relaying a
/// 256 MiB blob measured about 0.9 GB/s with 64 KiB chunks and about
/// 1.15 GB/s with 1 MiB chunks (see docs/benchmarks.md). Big chunks for
/// hundreds of concurrent transfers would cost hundreds of MiB, though, so a
/// transfer's chunk size is its share of `budget`: one transfer alone gets
/// `maxChunkSize`, many share the budget down to `minChunkSize` each. The
/// share is recomputed at every delivery, so transfers that started while
/// the node was quiet shrink when others join.
struct BodyBufferPolicy: Sendable, Hashable {
    /// Smallest chunk, whatever the number of transfers.
    var minChunkSize: Int
    /// Largest chunk, for a transfer that has the budget to itself.
    var maxChunkSize: Int
    /// Chunks that may wait before the transfer is paused.
    var bufferedChunks: Int
    /// Bytes that the buffers of all running transfers may hold together.
    var budget: Int

    /// Chunks a relayed body holds outside this buffer: one held back by
    /// `VerifyingBody` until the next arrives, one in the server's socket
    /// write. Counted against the budget too.
    static let chunksOutsideTheBuffer = 2

    /// The chunk size while `activeTransfers` transfers share the budget: a
    /// power-of-two multiple of `minChunkSize`, at most `maxChunkSize`.
    func chunkSize(activeTransfers: Int) -> Int {
        let share = budget / max(1, activeTransfers) / (bufferedChunks + Self.chunksOutsideTheBuffer)
        let ceiling = min(share, maxChunkSize)
        var size = minChunkSize
        while size * 2 <= ceiling { size *= 2 }
        return size
    }

    /// Above this many buffered bytes the transfer is paused.
    func bufferLimit(chunkSize: Int) -> Int { chunkSize * bufferedChunks }
}

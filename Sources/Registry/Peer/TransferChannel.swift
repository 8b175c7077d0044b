import NIOCore
import Synchronization

/// The meeting point of one transfer's two sides: the transfer thread, which
/// produces the head, body bytes and the outcome, and the consumer task, which
/// awaits the head and pulls the body.
///
/// Deliveries (16 KiB each from libcurl) are gathered into chunks of the
/// policy's current size. A waiting consumer is woken when a chunk is full,
/// or by `flush()` at the end of each pass of the transfer thread, so that a
/// fast consumer takes large chunks instead of one wake-up per delivery, and
/// a small body still goes out at once.
///
/// The body buffer is bounded: when a delivery would take it past the
/// policy's limit, `offer` answers `.pause` (libcurl keeps that delivery
/// and stops reading the socket, so TCP flow control slows the peer); when the
/// consumer has drained it to half the limit, it asks the transfer thread to
/// unpause. Memory per transfer is therefore bounded by the limit, whatever
/// the blob size.
///
/// Sendable because all mutable state is inside a `Mutex`; continuations are
/// resumed after the lock is released.
final class TransferChannel: Sendable {
    enum Offer { case accepted, pause, abort }

    let policy: BodyBufferPolicy
    /// libcurl's receive buffer for this transfer (`CURLOPT_BUFFERSIZE`).
    let receiveBufferSize: Int
    private let state = Mutex(State())
    private let control: CurlMultiThread
    private let counters: PeerFetcherCounters

    init(policy: BodyBufferPolicy, receiveBufferSize: Int, control: CurlMultiThread, counters: PeerFetcherCounters) {
        self.policy = policy
        self.receiveBufferSize = receiveBufferSize
        self.control = control
        self.counters = counters
    }

    fileprivate struct State {
        var head: PeerResponseHead?
        var headWaiter: CheckedContinuation<PeerResponseHead, any Error>?
        var chunks = CircularBuffer<ByteBuffer>(initialCapacity: 8)
        var bufferedBytes = 0
        var peakBufferedBytes = 0
        /// The largest limit applied so far (limits shrink as transfers join).
        var largestLimit = 0
        /// The limit that pausing compares with; resuming waits for half of it.
        var limit = 0
        var pauses = 0
        var producerPaused = false
        var resumeRequested = false
        /// Set once by the transfer thread when libcurl is done with the transfer.
        var outcome: Result<Void, PeerFetchError>?
        /// Set once by the consumer side when it no longer wants the bytes.
        var cancelled = false
        var bodyWaiter: CheckedContinuation<ByteBuffer?, any Error>?
    }

    fileprivate enum Poll {
        case chunk(ByteBuffer, requestResume: Bool)
        case end
        case failed(PeerFetchError)
        case empty
    }

    // MARK: Transfer thread side

    /// Stores the response head and wakes `head()`.
    func deliverHead(_ head: PeerResponseHead) {
        let waiter = state.withLock { s -> CheckedContinuation<PeerResponseHead, any Error>? in
            s.head = head
            return s.headWaiter.take()
        }
        waiter?.resume(returning: head)
    }

    /// Offers one libcurl delivery (at most `CURL_MAX_WRITE_SIZE`, 16 KiB:
    /// libcurl chops bigger reads). `.pause` leaves the bytes with libcurl,
    /// which offers them again after `curl_easy_pause(CURLPAUSE_CONT)`.
    func offer(_ bytes: UnsafeRawBufferPointer) -> Offer {
        let n = bytes.count
        guard n > 0 else { return .accepted }  // libcurl may report an empty body so
        let chunkSize = policy.chunkSize(activeTransfers: counters.activeTransfers)
        let limit = policy.bufferLimit(chunkSize: chunkSize)
        let (offer, waiter, poll) = state.withLock { s -> (Offer, CheckedContinuation<ByteBuffer?, any Error>?, Poll) in
            if s.cancelled { return (.abort, nil, .empty) }
            s.limit = limit
            s.largestLimit = max(s.largestLimit, limit)
            // A delivery is never refused into an empty buffer (libcurl
            // cannot take part of one back); as deliveries are at most 16 KiB
            // <= chunk size <= limit, the buffer never exceeds the largest limit.
            // A pause with a consumer waiting (possible with one buffered
            // chunk) is handed over by the `flush()` at the end of this pass,
            // which also asks for the resume.
            if s.bufferedBytes > 0, s.bufferedBytes + n > limit {
                s.producerPaused = true
                s.pauses += 1
                return (.pause, nil, .empty)
            }
            if var last = s.chunks.last, last.readableBytes + n <= chunkSize, last.writableBytes >= n {
                // Coalesce into the newest chunk. Dropping the deque's copy
                // first keeps the write in place (unique storage).
                s.chunks[s.chunks.index(before: s.chunks.endIndex)] = ByteBuffer()
                last.writeBytes(bytes)
                s.chunks[s.chunks.index(before: s.chunks.endIndex)] = last
            } else {
                var buffer = ByteBufferAllocator().buffer(capacity: max(n, chunkSize))
                buffer.writeBytes(bytes)
                s.chunks.append(buffer)
            }
            s.bufferedBytes += n
            s.peakBufferedBytes = max(s.peakBufferedBytes, s.bufferedBytes)
            counters.buffered(n)
            // Wake a waiting consumer only for a full chunk; `flush()` hands
            // over the rest at the end of the transfer thread's pass.
            guard s.bodyWaiter != nil, s.chunks.count > 1 || s.chunks.first!.readableBytes >= chunkSize else {
                return (.accepted, nil, .empty)
            }
            return (.accepted, s.bodyWaiter.take(), s.poll(counters))
        }
        if let waiter { Self.resume(waiter, with: poll, control: control, channel: self) }
        return offer
    }

    /// Hands whatever is buffered to a waiting consumer. Called by the
    /// transfer thread after each pass over its transfers.
    func flush() {
        let (waiter, poll) = state.withLock { s -> (CheckedContinuation<ByteBuffer?, any Error>?, Poll) in
            guard s.bodyWaiter != nil, !s.chunks.isEmpty else { return (nil, .empty) }
            return (s.bodyWaiter.take(), s.poll(counters))
        }
        if let waiter { Self.resume(waiter, with: poll, control: control, channel: self) }
    }

    /// Called from the transfer thread after `.pause`, right before it unpauses.
    func willResume() {
        state.withLock { s in
            s.producerPaused = false
            s.resumeRequested = false
        }
    }

    /// Records how the transfer ended and wakes whoever waits. Idempotent:
    /// the first outcome wins.
    func finish(_ outcome: Result<Void, PeerFetchError>) {
        let (headWaiter, headError, bodyWaiter, bodyResult) = state.withLock {
            s -> (CheckedContinuation<PeerResponseHead, any Error>?, PeerFetchError, CheckedContinuation<ByteBuffer?, any Error>?, Poll) in
            if s.outcome == nil { s.outcome = outcome }
            let headError: PeerFetchError
            switch s.outcome! {
            case .failure(let e): headError = e
            case .success: headError = .invalidResponse("the transfer ended without a response head")
            }
            let headWaiter = s.head == nil ? s.headWaiter.take() : nil
            let bodyWaiter = s.bodyWaiter.take()
            let result = bodyWaiter == nil ? Poll.empty : s.poll(counters)
            return (headWaiter, headError, bodyWaiter, result)
        }
        headWaiter?.resume(throwing: headError)
        if let bodyWaiter { Self.resume(bodyWaiter, with: bodyResult, control: control, channel: self) }
    }

    // MARK: Consumer side

    /// Waits for the response head (or the failure that prevents one).
    func head() async throws -> PeerResponseHead {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PeerResponseHead, any Error>) in
                let ready = state.withLock { s -> Result<PeerResponseHead, PeerFetchError>? in
                    if let head = s.head { return .success(head) }
                    if s.cancelled { return .failure(.cancelled) }
                    if case .failure(let e) = s.outcome { return .failure(e) }
                    if s.outcome != nil { return .failure(.invalidResponse("the transfer ended without a response head")) }
                    s.headWaiter = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            cancel()
        }
    }

    /// The next body chunk, nil at the end; throws the transfer's failure
    /// after the bytes that arrived before it.
    func next() async throws -> ByteBuffer? {
        let poll = state.withLock { $0.poll(counters) }
        switch poll {
        case .chunk(let chunk, let requestResume):
            if requestResume { control.resume(self) }
            return chunk
        case .end: return nil
        case .failed(let error): throw error
        case .empty: break
        }
        if Task.isCancelled {
            cancel()
            throw PeerFetchError.cancelled
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ByteBuffer?, any Error>) in
                let poll = state.withLock { s -> Poll in
                    let poll = s.poll(counters)
                    if case .empty = poll {
                        if s.bodyWaiter != nil { return .failed(.invalidRequest("a peer body is being read by two tasks at once")) }
                        s.bodyWaiter = continuation
                    }
                    return poll
                }
                if case .empty = poll { return }
                Self.resume(continuation, with: poll, control: control, channel: self)
            }
        } onCancel: {
            cancel()
        }
    }

    /// The consumer no longer wants the body: frees the buffer, fails waiters
    /// with `.cancelled` and, if the transfer is still running, has the
    /// transfer thread abort it (which closes its connection).
    func cancel() {
        let (headWaiter, bodyWaiter, abortTransfer) = state.withLock {
            s -> (CheckedContinuation<PeerResponseHead, any Error>?, CheckedContinuation<ByteBuffer?, any Error>?, Bool) in
            if s.cancelled { return (nil, nil, false) }
            s.cancelled = true
            counters.buffered(-s.bufferedBytes)
            s.chunks.removeAll()
            s.bufferedBytes = 0
            return (s.headWaiter.take(), s.bodyWaiter.take(), s.outcome == nil)
        }
        headWaiter?.resume(throwing: PeerFetchError.cancelled)
        bodyWaiter?.resume(throwing: PeerFetchError.cancelled)
        if abortTransfer { control.cancel(self) }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    var statistics: PeerBody.Statistics {
        state.withLock { s in
            PeerBody.Statistics(
                bufferedBytes: s.bufferedBytes, peakBufferedBytes: s.peakBufferedBytes,
                bufferLimit: s.largestLimit, pauses: s.pauses, isPaused: s.producerPaused)
        }
    }

    /// Resumes a waiting consumer (outside the lock), asking the transfer
    /// thread to unpause first if taking the chunk made room.
    private static func resume(
        _ continuation: CheckedContinuation<ByteBuffer?, any Error>, with poll: Poll,
        control: CurlMultiThread, channel: TransferChannel
    ) {
        switch poll {
        case .chunk(let chunk, let requestResume):
            if requestResume { control.resume(channel) }
            continuation.resume(returning: chunk)
        case .end: continuation.resume(returning: nil)
        case .failed(let error): continuation.resume(throwing: error)
        case .empty: continuation.resume(throwing: PeerFetchError.transferFailed("internal: woken without data"))
        }
    }
}

extension TransferChannel.State {
    /// Takes the next chunk, or reports the end, under the lock. The
    /// fetcher-wide counter moves under the same lock as `bufferedBytes`, so
    /// their sum over transfers is exact at every instant.
    fileprivate mutating func poll(_ counters: PeerFetcherCounters) -> TransferChannel.Poll {
        if cancelled { return .failed(.cancelled) }
        if let chunk = chunks.popFirst() {
            bufferedBytes -= chunk.readableBytes
            counters.buffered(-chunk.readableBytes)
            var requestResume = false
            if producerPaused, !resumeRequested, outcome == nil, bufferedBytes <= limit / 2 {
                resumeRequested = true
                requestResume = true
            }
            return .chunk(chunk, requestResume: requestResume)
        }
        switch outcome {
        case .success: return .end
        case .failure(let error): return .failed(error)
        case nil: return .empty
        }
    }
}

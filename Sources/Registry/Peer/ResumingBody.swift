import Catalog
import NIOCore

/// What happened while a `ResumingBody` moved between candidates.
public enum PeerResumeEvent: Sendable, Hashable {
    /// `url` starts serving bytes from `offset` (0 for the first peer; more
    /// means a resume). Every peer so reported contributed to the blob.
    case serving(url: String, offset: Int64)
    /// `url` failed after `offset` bytes of the blob had been received in
    /// total; the next candidate will be tried.
    case failed(url: String, error: PeerFetchError, offset: Int64)
}

/// The bytes of one blob stitched together from a list of candidate peers:
/// on a failure (connect, status, broken or stalled transfer) the next
/// candidate is asked for `Range: bytes=<received>-` and the stream goes on
/// where it stopped. Cancellation is not a failure and is never retried.
///
/// A candidate that ignores `Range` and answers 200 is accepted: the bytes
/// already received are skipped. A 206 must start exactly at the offset asked
/// for, and every candidate must agree on the total length.
///
/// This type only stitches; wrap it in `VerifyingBody` (as
/// `PeerFetcher.fetchResuming` does) so one SHA-256 covers all the bytes.
public struct ResumingBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer

    let fetcher: PeerFetcher
    let candidates: [PeerRequest]
    let expected: Digest
    let expectedLength: Int64?
    let onEvent: (@Sendable (PeerResumeEvent) -> Void)?
    /// Whether to take a response head from a candidate (e.g. its answer
    /// seal); a refused one counts as that candidate's failure.
    let accept: (@Sendable (PeerRequest, PeerResponseHead) async -> Bool)?

    public init(
        fetcher: PeerFetcher, candidates: [PeerRequest], expected: Digest, expectedLength: Int64? = nil,
        onEvent: (@Sendable (PeerResumeEvent) -> Void)? = nil,
        accept: (@Sendable (PeerRequest, PeerResponseHead) async -> Bool)? = nil
    ) {
        self.fetcher = fetcher
        self.candidates = candidates
        self.expected = expected
        self.expectedLength = expectedLength
        self.onEvent = onEvent
        self.accept = accept
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: self, knownLength: expectedLength)
    }

    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let body: ResumingBody
        /// Total length: given, or learnt from the first response.
        var knownLength: Int64?
        var nextCandidate = 0
        var received: Int64 = 0
        var current: PeerBody.AsyncIterator?
        var currentURL = ""
        /// Bytes still to drop from a candidate that ignored our Range.
        var skip: Int64 = 0
        var lastError: PeerFetchError?
        var finished = false

        public mutating func next() async throws -> ByteBuffer? {
            while !finished {
                if current == nil { try await openNextCandidate() }
                let chunk: ByteBuffer?
                do {
                    chunk = try await current!.next()
                } catch {
                    let error = error as? PeerFetchError ?? .transferFailed("\(error)")
                    current = nil
                    if error == .cancelled || Task.isCancelled { throw PeerFetchError.cancelled }
                    if let knownLength, received == knownLength {
                        finished = true  // every byte arrived; the connection failed afterwards
                        return nil
                    }
                    fail(error)
                    continue
                }
                guard var chunk else {
                    current = nil
                    if let knownLength, received < knownLength {
                        fail(.transferFailed("response ended at byte \(received) of \(knownLength)"))
                        continue
                    }
                    finished = true
                    return nil
                }
                if skip > 0 {
                    let drop = Int(Swift.min(skip, Int64(chunk.readableBytes)))
                    chunk.moveReaderIndex(forwardBy: drop)
                    skip -= Int64(drop)
                    if chunk.readableBytes == 0 { continue }
                }
                if let knownLength, received + Int64(chunk.readableBytes) > knownLength {
                    // Never more than the blob: extra bytes are the peer's
                    // error, and the digest check judges what we keep.
                    chunk = chunk.getSlice(at: chunk.readerIndex, length: Int(knownLength - received))!
                    received = knownLength
                    finished = true
                    current = nil  // aborts the rest of that transfer
                    return chunk.readableBytes > 0 ? chunk : nil
                }
                received += Int64(chunk.readableBytes)
                return chunk
            }
            return nil
        }

        private mutating func fail(_ error: PeerFetchError) {
            lastError = error
            body.onEvent?(.failed(url: currentURL, error: error, offset: received))
        }

        /// Opens candidates in order until one answers usefully from
        /// `received`; throws the last failure when none is left.
        private mutating func openNextCandidate() async throws {
            while nextCandidate < body.candidates.count {
                var request = body.candidates[nextCandidate]
                nextCandidate += 1
                currentURL = request.url
                request.range = received > 0 ? PeerRequest.ByteRange(start: received) : nil
                let response: PeerResponse
                do {
                    response = try await body.fetcher.fetch(request)
                } catch {
                    let error = error as? PeerFetchError ?? .transferFailed("\(error)")
                    if error == .cancelled || Task.isCancelled { throw PeerFetchError.cancelled }
                    fail(error)
                    continue
                }
                if let problem = check(response) {
                    await response.body.discard()
                    fail(problem)
                    continue
                }
                if let accept = body.accept, !(await accept(request, response.head)) {
                    response.body.cancel()
                    fail(.invalidResponse("the answer is not sealed by the peer"))
                    continue
                }
                body.onEvent?(.serving(url: request.url, offset: received))
                current = response.body.makeAsyncIterator()
                return
            }
            throw lastError ?? PeerFetchError.connectFailed("no candidate peers")
        }

        /// Accepts a response that continues the blob at `received`, learning
        /// the total length on the way; otherwise says why not.
        private mutating func check(_ response: PeerResponse) -> PeerFetchError? {
            if let claimed = response.dockerContentDigest, claimed != body.expected {
                return .invalidResponse("peer labels the content \(claimed), expected \(body.expected)")
            }
            let total: Int64?
            switch response.status {
            case 200:
                total = response.contentLength
                skip = received
            case 206 where received > 0:
                guard let range = response.contentRange, range.first == received else {
                    return .invalidResponse("206 without a Content-Range starting at \(received)")
                }
                total = range.complete
                skip = 0
            default:
                return .httpStatus(response.status)
            }
            if let total {
                if let knownLength, knownLength != total {
                    return .invalidResponse("length \(total), expected \(knownLength)")
                }
                knownLength = total
            }
            return nil
        }
    }
}

import Catalog
import NIOCore
import Synchronization

/// The bytes of one large blob from the cluster: from the holder that
/// answered first, then, after a failure (the holder died, stalled, broke
/// the connection), from the next holder with `Range: bytes=<received>-`,
/// on and on until the blob is whole or no holder is left.
///
/// Every resume is a new attempt (`PeerRouter.open`): its own lease and a
/// freshly minted token, so a resume long after the start (a large layer to a
/// slow client) is not refused for an old token, and the holders asked are
/// those alive and unbanned now. A 206 must start exactly where we stopped
/// and name the same total length; a holder that ignores `Range` and answers
/// 200 is taken too, the bytes already received skipped. Each attempt's
/// lease ends with how it went; a stream dropped early ends its lease as
/// cancelled.
///
/// This type only stitches: `VerifyingBody` around it hashes every byte,
/// across resumes, with one running SHA-256.
struct RelayedStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let router: PeerRouter
    let digest: Digest
    let target: String
    let size: Int64
    let first: PeerRouter.OpenAttempt
    /// Holders that contributed bytes (banned if the whole does not verify).
    let served: ServedBy

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self, current: Current(first), resumesLeft: router.settings.maximumAttempts)
    }

    /// The attempt being read and its body's iterator.
    struct Current: Sendable {
        let attempt: PeerRouter.OpenAttempt
        var body: PeerBody.AsyncIterator
        init(_ attempt: PeerRouter.OpenAttempt) {
            self.attempt = attempt
            self.body = attempt.response.body.makeAsyncIterator()
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        let stream: RelayedStream
        var current: Current?
        var resumesLeft: Int
        var received: Int64 = 0
        /// Bytes still to drop from a holder that answered a resume with 200.
        var skip: Int64 = 0
        var failed: Set<String> = []
        var lastError: PeerFetchError?
        var finished = false
        var announced = false

        init(stream: RelayedStream, current: Current, resumesLeft: Int) {
            self.stream = stream
            self.current = current
            self.resumesLeft = resumesLeft
        }

        mutating func next() async throws -> ByteBuffer? {
            while !finished {
                if current == nil { try await resume() }
                if !announced {
                    announced = true
                    stream.served.add(current!.attempt.peer)
                }
                let chunk: ByteBuffer?
                do {
                    chunk = try await current!.body.next()
                } catch {
                    let error = error as? PeerFetchError ?? .transferFailed("\(error)")
                    if error == .cancelled || Task.isCancelled {
                        current?.attempt.lease.end(.cancelled)
                        current = nil
                        throw PeerFetchError.cancelled
                    }
                    if received == stream.size {
                        finish()  // every byte arrived; the connection failed afterwards
                        return nil
                    }
                    fail(error)
                    continue
                }
                guard var chunk else {
                    if received < stream.size {
                        fail(.transferFailed("the answer ended at byte \(received) of \(stream.size)"))
                        continue
                    }
                    finish()
                    return nil
                }
                if received == stream.size {
                    // Bytes past the end: the holder's error; what we kept is
                    // the whole blob, and the digest check judges it.
                    current?.attempt.response.body.cancel()
                    finish()
                    return nil
                }
                if skip > 0 {
                    let drop = Int(Swift.min(skip, Int64(chunk.readableBytes)))
                    chunk.moveReaderIndex(forwardBy: drop)
                    skip -= Int64(drop)
                    if chunk.readableBytes == 0 { continue }
                }
                if received + Int64(chunk.readableBytes) > stream.size {
                    chunk = chunk.getSlice(at: chunk.readerIndex, length: Int(stream.size - received))!
                }
                received += Int64(chunk.readableBytes)
                // At the last byte the next call waits for the holder's end
                // of the answer, so its connection stays open for reuse.
                return chunk
            }
            return nil
        }

        private mutating func finish() {
            finished = true
            current?.attempt.lease.end(.served)
            current = nil
        }

        private mutating func fail(_ error: PeerFetchError) {
            if let current {
                current.attempt.fail(error)
                failed.insert(current.attempt.peer)
                stream.router.logger.info(
                    "peer transfer failed, resuming elsewhere",
                    metadata: ["peer": "\(current.attempt.peer)", "offset": "\(received)", "error": "\(error)"])
            }
            lastError = error
            current = nil
        }

        /// Opens holders that are candidates now, in order, until one
        /// continues the blob at `received`; throws the last failure when none
        /// is left.
        private mutating func resume() async throws {
            let router = stream.router
            for peer in router.candidates(for: SummaryKey(stream.digest), excluding: failed) where resumesLeft > 0 {
                resumesLeft -= 1
                switch await router.open(peer, target: stream.target, method: .get, from: received) {
                case .failure(let error):
                    if error == .cancelled || Task.isCancelled { throw PeerFetchError.cancelled }
                    failed.insert(peer.name)
                    lastError = error
                case .success(let attempt):
                    if let problem = check(attempt.response) {
                        attempt.fail(problem)
                        failed.insert(peer.name)
                        lastError = problem
                        continue
                    }
                    current = Current(attempt)
                    announced = false
                    return
                }
            }
            finished = true
            throw lastError ?? PeerFetchError.connectFailed("no holder left to resume from")
        }

        /// Accepts an answer that continues the blob at `received`.
        private mutating func check(_ response: PeerResponse) -> PeerFetchError? {
            if let claimed = response.dockerContentDigest, claimed != stream.digest {
                return .invalidResponse("the holder labels the content \(claimed)")
            }
            switch response.status {
            case 200:
                guard response.contentLength == stream.size else { return .invalidResponse("length differs from \(stream.size)") }
                skip = received
            case 206:
                guard let range = response.contentRange, range.first == received, range.complete == stream.size else {
                    return .invalidResponse("206 without a Content-Range from \(received) of \(stream.size)")
                }
                skip = 0
            default:
                return .httpStatus(response.status)
            }
            return nil
        }
    }
}

/// Names of the holders that contributed bytes to one relayed blob.
final class ServedBy: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ name: String) { storage.withLock { if !$0.contains(name) { $0.append(name) } } }
    var names: [String] { storage.withLock { $0 } }
}

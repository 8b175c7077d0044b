import Catalog
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TestSupport

@testable import Registry

/// `PeerFetcher` against real sockets on 127.0.0.1, with our `HTTPServer` as
/// the peer. Serialized: several tests assert timings (fast failure, stall
/// detection) that two 64 MiB transfers on 2 cores would blur.
@Suite(.serialized) struct PeerFetcherTests {
    static let blob64 = fetchTestPayload(size: 64 << 20, seed: 64)
    static let blob64Digest = DigestVerifier.digest(of: blob64)

    @Test func fetches64MiBAndVerifiesItsDigest() async throws {
        let peer = try await FetchTestPeer.serving(Self.blob64)
        let fetcher = PeerFetcher()
        let start = ContinuousClock.now
        let response = try await fetcher.fetch(PeerRequest(url: peer.url))
        #expect(response.status == 200)
        #expect(response.contentLength == Int64(Self.blob64.readableBytes))
        var verifier = DigestVerifier()
        for try await chunk in response.body { verifier.update(chunk) }
        let elapsed = ContinuousClock.now - start
        #expect(verifier.byteCount == Int64(Self.blob64.readableBytes))
        #expect(verifier.finish() == Self.blob64Digest)
        let stats = response.body.statistics
        #expect(stats.peakBufferedBytes <= stats.bufferLimit)
        print("peer fetch: 64 MiB fetched and hashed in \(elapsed) = \(fetchTestMBps(64 << 20, elapsed)) MB/s")
    }

    @Test func slowConsumerKeepsTheBufferWithinItsBound() async throws {
        let peer = try await FetchTestPeer.serving(Self.blob64)
        let fetcher = PeerFetcher(configuration: .fixed(chunkSize: 64 * 1024, maxBufferedChunks: 4))
        // A 1 s low-speed time, shorter than the consumer's pause below.
        let response = try await fetcher.fetch(PeerRequest(url: peer.url, lowSpeedLimit: 1024, lowSpeedTime: .seconds(1)))
        let body = response.body
        var iterator = body.makeAsyncIterator()
        var verifier = DigestVerifier()
        verifier.update(try #require(try await iterator.next()))

        // Stop reading: the fetcher must pause the transfer, not buffer the blob.
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { body.statistics.isPaused } != nil)
        let paused = body.statistics
        #expect(paused.bufferedBytes <= paused.bufferLimit)
        #expect(paused.bufferLimit == 256 * 1024)
        // A slow client, slower than the low-speed time: a transfer we paused
        // ourselves is not a stalled peer.
        try await Task.sleep(for: .milliseconds(2500))
        #expect(body.statistics.bufferedBytes <= paused.bufferLimit)

        var chunks = 0
        var worst = 0
        while let chunk = try await iterator.next() {
            verifier.update(chunk)
            chunks += 1
            worst = max(worst, body.statistics.bufferedBytes)
            if chunks % 16 == 0 { try await Task.sleep(for: .milliseconds(1)) }  // stay slower than loopback
        }
        #expect(verifier.finish() == Self.blob64Digest)
        let stats = body.statistics
        #expect(worst <= stats.bufferLimit)
        #expect(stats.peakBufferedBytes <= stats.bufferLimit)
        #expect(stats.pauses > 0)
        #expect(fetcher.statistics.peakBufferedBytes <= stats.bufferLimit)
        print("peer fetch: slow consumer, peak buffer \(stats.peakBufferedBytes) of \(stats.bufferLimit) bytes, \(stats.pauses) pauses")
    }

    @Test func refusedConnectionFailsFast() async throws {
        let port = try SocketProbes.freeLoopbackPort()
        let fetcher = PeerFetcher()
        var latencies: [Duration] = []
        for _ in 0..<10 {
            let start = ContinuousClock.now
            let error = await peerFetchError { try await fetcher.fetch(PeerRequest(url: "http://127.0.0.1:\(port)/v2/")) }
            latencies.append(ContinuousClock.now - start)
            guard case .connectFailed = error else {
                Issue.record("expected connectFailed, got \(String(describing: error))")
                return
            }
        }
        latencies.sort()
        #expect(latencies.last! < .milliseconds(100))
        print("peer fetch: refused connect fails in \(latencies[latencies.count / 2]) (median), \(latencies.last!) (max)")
    }

    @Test func unansweredConnectGivesUpAtTheConnectTimeout() async throws {
        let listener = try FullBacklogListener()
        let fetcher = PeerFetcher()
        let start = ContinuousClock.now
        let error = await peerFetchError {
            try await fetcher.fetch(PeerRequest(url: "http://127.0.0.1:\(listener.port)/v2/", connectTimeout: .milliseconds(200)))
        }
        let elapsed = ContinuousClock.now - start
        guard case .connectFailed = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(elapsed >= .milliseconds(190))
        #expect(elapsed < .milliseconds(700))
        withExtendedLifetime(listener) {}
    }

    @Test func wrongBytesNeverVerify() async throws {
        let good = fetchTestPayload(size: 3 << 20, seed: 3)
        var bad = good
        bad.setInteger(~bad.getInteger(at: 1_000_000, as: UInt8.self)!, at: 1_000_000)
        let expected = DigestVerifier.digest(of: good)
        let actual = DigestVerifier.digest(of: bad)
        let mismatch = PeerFetchError.digestMismatch(expected: expected, actual: actual)
        let peer = try await FetchTestPeer.serving(bad)
        let fetcher = PeerFetcher()

        // Buffered: nothing is returned.
        let buffered = await peerFetchError {
            try await fetcher.fetchVerified(PeerRequest(url: peer.url), expected: expected, bufferLimit: 4 << 20)
        }
        #expect(buffered == mismatch)

        // Streaming: the bytes pass through, but the stream ends in the
        // mismatch, never completes, and withholds its last chunk.
        let response = try await fetcher.fetch(PeerRequest(url: peer.url))
        var released = 0
        var completed = false
        let streamed = await peerFetchError {
            for try await chunk in VerifyingBody(response.body, expected: expected, maxLength: Int64(good.readableBytes)) {
                released += chunk.readableBytes
            }
            completed = true
        }
        #expect(streamed == mismatch)
        #expect(!completed)
        #expect(released > 0 && released < good.readableBytes)

        // The same through the HTTP server bridge.
        var bridged = 0
        let viaBridge = await peerFetchError {
            let response = try await fetcher.fetch(PeerRequest(url: peer.url))
            for try await chunk in VerifyingBody(response.body, expected: expected).throwingStream() {
                bridged += chunk.readableBytes
            }
        }
        #expect(viaBridge == mismatch)
        #expect(bridged < good.readableBytes)

        // And the right bytes do verify.
        let goodPeer = try await FetchTestPeer.serving(good)
        let content = try await fetcher.fetchVerified(PeerRequest(url: goodPeer.url), expected: expected, bufferLimit: 4 << 20)
        #expect(content.bytes == good)
        let tooSmall = await peerFetchError {
            try await fetcher.fetchVerified(PeerRequest(url: goodPeer.url), expected: expected, bufferLimit: 1 << 20)
        }
        #expect(tooSmall == .tooLarge)
    }

    @Test func stalledPeerFailsWithinTheLowSpeedTime() async throws {
        let peer = try await FetchTestPeer.start { _ in
            fetchTestBrokenResponse(prefix: fetchTestPayload(size: 100, seed: 1), declaredLength: 1 << 20, thenStall: true)
        }
        let fetcher = PeerFetcher()
        let start = ContinuousClock.now
        let error = await peerFetchError {
            let response = try await fetcher.fetch(PeerRequest(url: peer.url, lowSpeedLimit: 1024, lowSpeedTime: .seconds(1)))
            for try await _ in response.body {}
        }
        let elapsed = ContinuousClock.now - start
        #expect(error == .stalled)
        #expect(elapsed >= .seconds(1))
        #expect(elapsed < .milliseconds(2500))
        print("peer fetch: stall (1 KiB/s for 1 s) detected after \(elapsed)")
    }

    @Test func totalTimeoutIsTimedOut() async throws {
        let peer = try await FetchTestPeer.start { _ in
            fetchTestBrokenResponse(prefix: fetchTestPayload(size: 100, seed: 1), declaredLength: 1 << 20, thenStall: true)
        }
        let fetcher = PeerFetcher()
        let start = ContinuousClock.now
        let error = await peerFetchError {
            let response = try await fetcher.fetch(
                PeerRequest(url: peer.url, lowSpeedLimit: 1024, lowSpeedTime: .seconds(5), timeout: .milliseconds(400)))
            for try await _ in response.body {}
        }
        let elapsed = ContinuousClock.now - start
        #expect(error == .timedOut)
        #expect(elapsed >= .milliseconds(390) && elapsed < .milliseconds(1500))
    }

    @Test func sequentialFetchesReuseOneConnection() async throws {
        let blob = fetchTestPayload(size: 10_000, seed: 2)
        let digest = DigestVerifier.digest(of: blob)
        let peer = try await FetchTestPeer.serving(blob)
        let fetcher = PeerFetcher()
        let headers: HTTPHeaders = ["X-Gossip-Mirror-Hop": "1", "Authorization": "Bearer cluster-token"]
        for _ in 0..<20 {
            let content = try await fetcher.fetchVerified(PeerRequest(url: peer.url, headers: headers), expected: digest, bufferLimit: 1 << 20)
            #expect(content.bytes == blob)
        }
        #expect(peer.requests.count == 20)
        #expect(peer.connections == 1)
        #expect(fetcher.statistics.connectionsOpened == 1)
        #expect(fetcher.statistics.transfersStarted == 20)
        #expect(
            peer.requests.allSatisfy {
                $0.headers.first(name: "X-Gossip-Mirror-Hop") == "1" && $0.headers.first(name: "Authorization") == "Bearer cluster-token"
            })
    }

    @Test func cancellingAReadingConsumerAbortsTheTransfer() async throws {
        let probe = FetchStreamProbe()
        let total = 1 << 30
        let peer = try await FetchTestPeer.start { _ in HTTPResponse(status: .ok, body: probe.body(total: total)) }
        let fetcher = PeerFetcher()
        let (progress, reached) = AsyncStream<Void>.makeStream()
        let consumer = Task {
            let response = try await fetcher.fetch(PeerRequest(url: peer.url))
            var count = 0
            for try await chunk in response.body {
                count += chunk.readableBytes
                if count >= 1 << 20 { reached.yield() }
            }
            return count
        }
        var iterator = progress.makeAsyncIterator()
        _ = await iterator.next()
        consumer.cancel()
        let result = await consumer.result
        #expect(throws: PeerFetchError.cancelled) { try result.get() }
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { probe.droppedEarly } != nil, "the server saw the connection close")
        #expect(probe.produced < total)
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { fetcher.statistics.transfersActive == 0 } != nil)
    }

    /// While paused, libcurl calls no callback that could refuse data: only
    /// the abort the consumer side sends to the transfer thread can end it.
    @Test func cancellingAConsumerThatHoldsAPausedTransferAbortsIt() async throws {
        let probe = FetchStreamProbe()
        let total = 1 << 30
        let peer = try await FetchTestPeer.start { _ in HTTPResponse(status: .ok, body: probe.body(total: total)) }
        let fetcher = PeerFetcher()
        let (paused, signalPaused) = AsyncStream<Void>.makeStream()
        let consumer = Task {
            let response = try await fetcher.fetch(PeerRequest(url: peer.url))
            var iterator = response.body.makeAsyncIterator()
            var count = 0
            while count < 1 << 20, let chunk = try await iterator.next() { count += chunk.readableBytes }
            guard await poll(timeout: .seconds(5), every: .milliseconds(5), { response.body.statistics.isSettledPause }) != nil else { throw FetchTestFailure("never paused") }
            signalPaused.yield()
            try await Task.sleep(for: .seconds(3600))  // a consumer busy elsewhere, until cancelled
        }
        var iterator = paused.makeAsyncIterator()
        _ = await iterator.next()
        consumer.cancel()
        _ = await consumer.result
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { probe.droppedEarly } != nil, "the server saw the connection close")
        #expect(probe.produced < total)
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { fetcher.statistics.transfersActive == 0 && fetcher.statistics.bufferedBytes == 0 } != nil)
    }

    @Test func droppingAPausedBodyAbortsTheTransfer() async throws {
        let probe = FetchStreamProbe()
        let total = 1 << 30
        let peer = try await FetchTestPeer.start { _ in HTTPResponse(status: .ok, body: probe.body(total: total)) }
        let fetcher = PeerFetcher()
        do {
            let response = try await fetcher.fetch(PeerRequest(url: peer.url))
            var count = 0
            for try await chunk in response.body {
                count += chunk.readableBytes
                if count >= 1 << 20 { break }
            }
            #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { response.body.statistics.isSettledPause } != nil)
        }
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { probe.droppedEarly } != nil, "the server saw the connection close")
        #expect(probe.produced < total)
        #expect(await poll(timeout: .seconds(5), every: .milliseconds(5)) { fetcher.statistics.transfersActive == 0 && fetcher.statistics.bufferedBytes == 0 } != nil)
    }

    @Test func statusesAreAnswersAndHeadHasNoBody() async throws {
        let blob = fetchTestPayload(size: 5000, seed: 5)
        let digest = DigestVerifier.digest(of: blob)
        let peer = try await FetchTestPeer.start { request in
            request.path.hasSuffix("/missing")
                ? .text(.notFound, "no")
                : fetchTestRangeResponse(blob, request, extraHeaders: ["Docker-Content-Digest": digest.description])
        }
        let fetcher = PeerFetcher()
        let missing = try await fetcher.fetch(PeerRequest(url: "http://127.0.0.1:\(peer.port)/v2/x/blobs/missing"))
        #expect(missing.status == 404)
        let error = await peerFetchError {
            try await fetcher.fetchVerified(PeerRequest(url: "http://127.0.0.1:\(peer.port)/missing"), expected: digest, bufferLimit: 1 << 20)
        }
        #expect(error == .httpStatus(404))

        let head = try await fetcher.fetch(PeerRequest(url: peer.url, method: .head))
        #expect(head.status == 200)
        #expect(head.contentLength == 5000)
        #expect(head.dockerContentDigest == digest)
        #expect(head.contentType == "application/octet-stream")
        var bytes = 0
        for try await chunk in head.body { bytes += chunk.readableBytes }
        #expect(bytes == 0)

        let partial = try await fetcher.fetch(PeerRequest(url: peer.url, range: .init(start: 100, end: 199)))
        #expect(partial.status == 206)
        #expect(partial.contentRange == .init(first: 100, last: 199, complete: 5000))
        var slice = ByteBuffer()
        for try await chunk in partial.body { slice.writeImmutableBuffer(chunk) }
        #expect(slice == blob.getSlice(at: 100, length: 100))
    }

    @Test func requestsThatCouldSplitAreRefused() async throws {
        let fetcher = PeerFetcher()
        let injected = await peerFetchError {
            try await fetcher.fetch(PeerRequest(url: "http://127.0.0.1:1/", headers: ["X-Token": "a\r\nX-Evil: 1"]))
        }
        guard case .invalidRequest = injected else {
            Issue.record("got \(String(describing: injected))")
            return
        }
        let scheme = await peerFetchError { try await fetcher.fetch(PeerRequest(url: "file:///etc/passwd")) }
        guard case .invalidRequest = scheme else {
            Issue.record("got \(String(describing: scheme))")
            return
        }
    }
}

/// The error an operation threw, if it was a `PeerFetchError`.
func peerFetchError<T>(_ operation: () async throws -> T) async -> PeerFetchError? {
    do {
        _ = try await operation()
        return nil
    } catch let error as PeerFetchError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

extension PeerFetcher {
    /// GET `request` whole, at most `bufferLimit` bytes, verified against
    /// `expected` (the router reads small blobs this way).
    func fetchVerified(_ request: PeerRequest, expected: Digest, bufferLimit: Int) async throws -> (head: PeerResponseHead, bytes: ByteBuffer) {
        let response = try await fetch(request)
        guard response.status == 200 else {
            await response.body.discard()
            throw PeerFetchError.httpStatus(response.status)
        }
        return (response.head, try await response.collect(upTo: bufferLimit, verifying: expected))
    }
}

func fetchTestMBps(_ bytes: Int, _ elapsed: Duration) -> Int {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return Int(Double(bytes) / 1_000_000 / seconds)
}

extension PeerBody.Statistics {
    /// Paused with more than half the buffer waiting: no resume is pending,
    /// so with nobody reading it stays paused and libcurl calls nothing.
    var isSettledPause: Bool { isPaused && bufferedBytes > bufferLimit / 2 }
}

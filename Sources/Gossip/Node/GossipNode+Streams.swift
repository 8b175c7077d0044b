/// Streams: a request and its answer, each in sealed chunks (`StreamChunk`),
/// inbound (admitted under `StreamAdmission`, answered by the instance) and
/// outbound (for `.openStream`, the answer fed back to the instance).
extension GossipNode {
    // MARK: Inbound

    /// Admits a connection under the caps before anything is read from it,
    /// serves it, and frees its slot; connections beyond a cap are closed.
    nonisolated func accept(_ connection: any GossipConnection) async {
        let address = connection.remote.host
        guard await admit(address) else {
            await connection.close()
            return
        }
        await serve(connection)
        await release(address)
    }

    private func admit(_ address: String) -> Bool {
        guard admission.admit(address) else {
            counters.count(.streamRefused)
            logger.debug("inbound stream refused: over the cap", metadata: ["from": "\(address)"])
            return false
        }
        counters.count(.streamAccepted)
        return true
    }

    private func release(_ address: String) { admission.release(address) }

    /// One inbound exchange. The first chunk must open within the first-frame
    /// deadline, the whole exchange end within the stream timeout.
    private nonisolated func serve(_ connection: any GossipConnection) async {
        let source = connection.remote
        let first = configuration.streamLimits.firstFrameTimeout
        do {
            try await withStreamDeadlines(first: first, overall: configuration.streamTimeout) { firstFrame in
                try await connection.withFrames { frames in
                    var assembler = StreamAssembler(direction: .request)
                    guard let request = try await self.readMessage(&frames, into: &assembler, from: source, firstFrame: firstFrame),
                        let streamID = assembler.streamID,
                        let answer = await self.answer(request, streamID: streamID, from: source)
                    else { return }
                    try await frames.send(answer)
                }
            }
        } catch {
            await streamFailed(error, peer: source)
        }
    }

    /// Reads sealed chunks until `assembler` holds a whole message. Nil when
    /// the peer closes first, or (counted as rejected) when a chunk does not
    /// open, is stale or replayed, or does not continue the message.
    private nonisolated func readMessage(
        _ frames: inout any FrameStream, into assembler: inout StreamAssembler, from source: SWIM.Endpoint,
        firstFrame: FirstFrame?
    ) async throws -> [UInt8]? {
        while let sealed = try await frames.receive() {
            guard let chunk = await open(chunk: sealed, from: source) else { return nil }
            firstFrame?.arrived()
            do {
                if let message = try assembler.add(chunk) { return message }
            } catch {
                await reject(.malformed("\(error)"), from: "\(source)")
                return nil
            }
        }
        return nil
    }

    private func open(chunk sealed: [UInt8], from source: SWIM.Endpoint) -> [UInt8]? {
        counters.count(.streamBytesReceived(sealed.count))
        do { return try security.open(sealed, at: Self.wallClockMilliseconds) } catch {
            reject(error, from: "\(source)")
            return nil
        }
    }

    /// Decodes a request and hands it to the instance, whose `.replyStream`
    /// the interpreter keeps under this request's id; that answer is sealed
    /// as chunks of the same exchange.
    private func answer(_ body: [UInt8], streamID: UInt64, from source: SWIM.Endpoint) async -> [[UInt8]]? {
        let request: SWIM.StreamMessage
        do { request = try WireCodec.decodeStreamMessage(body, maximumMembers: memberCap) } catch {
            reject(.malformed("\(error)"), from: "\(source)")
            return nil
        }
        nextStreamID += 1
        let id = nextStreamID
        pendingAnswers[id] = .some(nil)
        await handle(.streamRequest(id: id, request, from: source))
        guard let reply = pendingAnswers.removeValue(forKey: id) ?? nil else { return nil }
        return sealChunks(WireCodec.encode(reply), direction: .answer, streamID: streamID)
    }

    private func sealChunks(_ message: [UInt8], direction: StreamChunk.Direction, streamID: UInt64) -> [[UInt8]]? {
        guard
            let frames = security.sealChunks(message, direction: direction, streamID: streamID, at: Self.wallClockMilliseconds)
        else {
            logger.warning("stream message over the limit not sent", metadata: ["bytes": "\(message.count)"])
            return nil
        }
        counters.count(.streamBytesSent(frames.reduce(0) { $0 + $1.count }))
        return frames
    }

    private func streamFailed(_ error: any Error, peer: SWIM.Endpoint) {
        counters.count(.streamFailed)
        logger.debug("stream failed", metadata: ["peer": "\(peer)", "error": "\(error)"])
    }

    // MARK: Outbound

    /// One outbound exchange; the answer (or the failure) goes back to the instance.
    nonisolated func exchange(_ message: SWIM.StreamMessage, with endpoint: SWIM.Endpoint) async {
        // Random, so that the answer is bound to this request (`StreamChunk`).
        let streamID = UInt64.random(in: .min ... .max)
        guard let request = await sealRequest(message, streamID: streamID) else {
            await handle(.streamFailed(message, to: endpoint))
            return
        }
        let timeout = configuration.streamTimeout
        let transport = self.transport
        do {
            let answer: [UInt8]? = try await withDeadline(timeout) {
                let connection = try await transport.connect(to: endpoint, timeout: min(.seconds(2), timeout))
                return try await connection.withFrames { frames in
                    try await frames.send(request)
                    var assembler = StreamAssembler(direction: .answer, streamID: streamID)
                    return try await self.readMessage(&frames, into: &assembler, from: endpoint, firstFrame: nil)
                }
            }
            guard let answer else { throw StreamClosed() }
            await receiveAnswer(answer, to: message, from: endpoint)
        } catch {
            await streamFailed(error, peer: endpoint)
            await handle(.streamFailed(message, to: endpoint))
        }
    }

    struct StreamClosed: Error, CustomStringConvertible {
        var description: String { "the peer closed the stream without a valid answer (wrong key?)" }
    }

    private func sealRequest(_ message: SWIM.StreamMessage, streamID: UInt64) -> [[UInt8]]? {
        counters.count(.streamOpened)
        return sealChunks(WireCodec.encode(message), direction: .request, streamID: streamID)
    }

    /// Push/pulls with more member records than this are malformed.
    private var memberCap: Int { configuration.settings.limits.maximumMembers }

    private func receiveAnswer(_ body: [UInt8], to request: SWIM.StreamMessage, from endpoint: SWIM.Endpoint) async {
        do {
            await handle(.streamReply(try WireCodec.decodeStreamMessage(body, maximumMembers: memberCap), from: endpoint))
        } catch {
            reject(.malformed("\(error)"), from: "\(endpoint)")
            await handle(.streamFailed(request, to: endpoint))
        }
    }
}

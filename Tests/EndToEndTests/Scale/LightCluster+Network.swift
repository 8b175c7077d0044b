@testable import Gossip

/// What crosses the network between a harness member and the real node: the
/// member's `NIOTransport` delivers datagrams and connections here, and
/// streams to the real node go out through it, framed and sealed as the
/// node's own (`GossipNode+Streams.swift`).
struct LightReceiver: TransportReceiver {
    let member: Int
    let cluster: LightCluster

    func receive(_ datagram: [UInt8], from source: SWIM.Endpoint) async {
        await cluster.received(datagram, by: member, from: source)
    }

    /// One request from the real node, answered by the member's instance.
    func accept(_ connection: any GossipConnection) async {
        let cluster = self.cluster
        let member = self.member
        let source = connection.remote
        _ = try? await withDeadline(.seconds(10)) {
            try await connection.withFrames { frames in
                var assembler = StreamAssembler(direction: .request)
                guard let request = try await LightCluster.readMessage(&frames, into: &assembler, cluster: cluster),
                    let streamID = assembler.streamID,
                    let answer = await cluster.answer(request, to: member, from: source, streamID: streamID)
                else { return }
                try await frames.send(answer)
            }
        }
    }

    func datagramSocketReopened() async {}
}

extension LightCluster {
    /// Binds member `i`'s sockets and serves them until the cluster stops;
    /// `bound` runs once they are bound.
    nonisolated func serve(_ i: Int, bound: @escaping @Sendable () async -> Void) async throws {
        let transport = await transport(i)
        try await transport.run(receiver: LightReceiver(member: i, cluster: self)) {
            await bound()
            while await !self.stopped { try await Task.sleep(for: .seconds(1)) }
        }
    }

    /// Member `i`'s exchange with the real node: the request's sealed chunks
    /// out, the answer's in; the answer (or the failure) goes to the instance.
    nonisolated func exchangeWithReal(
        _ request: (streamID: UInt64, frames: [[UInt8]])?, _ message: SWIM.StreamMessage, from i: Int
    ) async {
        guard let request else {
            await exchangeEnded(nil, for: message, member: i)
            return
        }
        let transport = await transport(i)
        let real = self.real
        let answer: [UInt8]? = try? await withDeadline(.seconds(10)) {
            let connection = try await transport.connect(to: real, timeout: .seconds(2))
            return try await connection.withFrames { frames in
                try await frames.send(request.frames)
                var assembler = StreamAssembler(direction: .answer, streamID: request.streamID)
                return try await LightCluster.readMessage(&frames, into: &assembler, cluster: self)
            }
        }
        await exchangeEnded(answer, for: message, member: i)
    }

    /// Reads sealed chunks until `assembler` holds a whole message; nil when
    /// the peer closes first or a chunk does not open or continue it.
    static func readMessage(
        _ frames: inout any FrameStream, into assembler: inout StreamAssembler, cluster: LightCluster
    ) async throws -> [UInt8]? {
        while let sealed = try await frames.receive() {
            guard let chunk = await cluster.openChunk(sealed) else { return nil }
            do {
                if let message = try assembler.add(chunk) { return message }
            } catch {
                return nil
            }
        }
        return nil
    }
}

import Testing

@testable import Gossip

/// Stream messages in sealed chunks (issue 9, finding 2): every frame is
/// small, and chunks that do not continue their exchange are refused.
@Suite struct StreamChunkTests {
    static let capacity = StreamChunk.capacity

    static func message(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    static func assemble(_ chunks: [[UInt8]], direction: StreamChunk.Direction = .request, streamID: UInt64? = nil) throws
        -> [UInt8]?
    {
        var assembler = StreamAssembler(direction: direction, streamID: streamID)
        var result: [UInt8]?
        for chunk in chunks { result = try assembler.add(chunk) }
        return result
    }

    @Test(arguments: [1, 100, capacity - 1, capacity, capacity + 1, 3 * capacity + 5])
    func messagesRoundTripInSmallChunks(_ size: Int) throws {
        let body = Self.message(size)
        let chunks = StreamChunk.split(body, direction: .answer, streamID: 42)
        #expect(chunks.count == (size + Self.capacity - 1) / Self.capacity)
        #expect(chunks.allSatisfy { $0.count + Envelope.overhead <= StreamChunk.maximumFrameSize })
        #expect(try Self.assemble(chunks, direction: .answer, streamID: 42) == body)
        // Complete only with the last chunk.
        #expect(try Self.assemble(Array(chunks.dropLast()), direction: .answer, streamID: 42) == nil)
    }

    @Test func theLargestMessageFitsAndSealsIntoSmallFrames() throws {
        let body = [UInt8](repeating: 9, count: WireCodec.maximumStreamMessageSize)
        let chunks = StreamChunk.split(body, direction: .request, streamID: 1)
        #expect(chunks.count == WireCodec.maximumStreamMessageSize / Self.capacity)
        #expect(try Self.assemble(chunks) == body)
        #expect(StreamChunk.maximumFrameSize < 17 << 10, "a frame stays about 16 KiB")
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var what: String
        var chunks: @Sendable ([[UInt8]]) -> [[UInt8]]
        var expected: StreamChunk.Error
        var testDescription: String { what }
    }

    /// A three-chunk request of stream 7, tampered with before assembly
    /// (each chunk would open: these are what a key holder or someone on the
    /// path replaying sealed chunks could send).
    static let refusals: [Refusal] = [
        Refusal(what: "a chunk from another exchange", chunks: { c in [c[0], rewrite(c[1], streamID: 8)] }, expected: .wrongStream),
        Refusal(what: "an answer where a request is due", chunks: { c in [rewrite(c[0], direction: 0x22)] }, expected: .wrongDirection(0x22)),
        Refusal(what: "a frame of the old format (a whole message)", chunks: { _ in [[1, 1] + [UInt8](repeating: 0, count: 20)] }, expected: .wrongDirection(1)),
        Refusal(what: "a skipped chunk", chunks: { c in [c[0], c[2]] }, expected: .outOfOrder(expected: 1, got: 2)),
        Refusal(what: "a repeated chunk", chunks: { c in [c[0], c[0]] }, expected: .outOfOrder(expected: 1, got: 0)),
        Refusal(what: "a total that changes", chunks: { c in [c[0], rewrite(c[1], total: 5)] }, expected: .badTotal(5)),
        Refusal(what: "an empty message", chunks: { c in [rewrite(c[0], total: 0)] }, expected: .badTotal(0)),
        Refusal(
            what: "a total over the limit", chunks: { c in [rewrite(c[0], total: UInt32(WireCodec.maximumStreamMessageSize + 1))] },
            expected: .badTotal(UInt32(WireCodec.maximumStreamMessageSize + 1))),
        Refusal(what: "a total of UInt32.max", chunks: { c in [rewrite(c[0], total: .max)] }, expected: .badTotal(.max)),
        Refusal(
            what: "a short middle chunk", chunks: { c in [c[0], Array(c[1].dropLast())] },
            expected: .wrongLength(expected: capacity, got: capacity - 1)),
        Refusal(what: "a header cut short", chunks: { c in [Array(c[0].prefix(10))] }, expected: .truncated),
        Refusal(what: "a chunk after the end", chunks: { c in c + [rewrite(c[2], index: 3)] }, expected: .afterEnd),
    ]

    @Test(arguments: refusals) func chunksThatDoNotContinueTheirExchangeAreRefused(_ refusal: Refusal) {
        let chunks = StreamChunk.split(Self.message(2 * Self.capacity + 10), direction: .request, streamID: 7)
        #expect(throws: refusal.expected) { try Self.assemble(refusal.chunks(chunks), streamID: 7) }
    }

    /// A chunk with one header field replaced.
    static func rewrite(
        _ chunk: [UInt8], direction: UInt8? = nil, streamID: UInt64? = nil, index: UInt32? = nil, total: UInt32? = nil
    ) -> [UInt8] {
        var w = ByteWriter()
        var r = ByteReader(chunk)
        w.write(direction ?? (try! r.readUInt8()))
        let id = try! r.readUInt64()
        w.write(streamID ?? id)
        let i = try! r.readUInt32()
        w.write(index ?? i)
        let t = try! r.readUInt32()
        w.write(total ?? t)
        w.writeRaw(chunk[StreamChunk.headerSize...])
        return w.bytes
    }

    @Test func admissionCapsStreamsGloballyAndPerAddress() {
        enum Step { case admit(String, Bool), release(String) }
        let steps: [Step] = [
            // Per address: the third from one address is refused, others still come in.
            .admit("10.0.0.1", true), .admit("10.0.0.1", true), .admit("10.0.0.1", false),
            .admit("10.0.0.2", true), .admit("10.0.0.3", true),
            // Globally: four at once, whoever asks.
            .admit("10.0.0.4", false),
            // A release frees a slot for that address and for everyone.
            .release("10.0.0.1"), .admit("10.0.0.4", true), .admit("10.0.0.1", false),
            // Releasing what was never admitted changes nothing.
            .release("10.9.9.9"), .admit("10.0.0.5", false),
        ]
        var admission = StreamAdmission(maximumInbound: 4, maximumPerAddress: 2)
        for (i, step) in steps.enumerated() {
            switch step {
            case .admit(let address, let expected):
                let admitted = admission.admit(address)
                #expect(admitted == expected, "step \(i): \(address)")
            case .release(let address):
                admission.release(address)
            }
        }
        #expect(admission.open == 4)
        #expect(admission.open(from: "10.0.0.1") == 1)
    }
}

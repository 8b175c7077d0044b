#if DEBUG || GOSSIP_MIRROR_FUZZ
@testable import Gossip

/// Gossip stream messages as they arrive on a TCP connection: sealed chunks
/// (`StreamChunk`, issue 9, finding 2), opened with `Envelope` and put back
/// together by `StreamAssembler`.
///
/// Mode 0 gives the assembler arbitrary chunk bodies (as a member with the
/// key could seal them): it never traps, never holds more than it was sent,
/// and a message it completes has exactly the announced length, within
/// `WireCodec.maximumStreamMessageSize`. Mode 1 splits a message, seals and
/// opens every chunk, and reassembles it: the same bytes come out; with a
/// chunk dropped, repeated, swapped or taken from another exchange, no
/// message comes out.
extension FuzzTarget {
    static let streamChunk = FuzzTarget(
        name: "stream-chunk",
        summary: "StreamAssembler over arbitrary chunks; split/seal/open/assemble round trip; dropped, repeated, spliced chunks",
        seeds: StreamChunkFuzzing.seeds,
        run: StreamChunkFuzzing.run)
}

enum StreamChunkFuzzing {
    static let keyring = try! Keyring([ClusterKey(bytes: Array(repeating: 3, count: 32))])
    static let envelope = Envelope(label: "fuzz")

    static func run(_ bytes: [UInt8]) throws(PropertyViolation) {
        var input = FuzzInput(bytes)
        let mode = input.byte() % 2
        let direction: StreamChunk.Direction = input.bool() ? .request : .answer
        if mode == 0 {
            let known: UInt64? = input.bool() ? input.integer(UInt64.self) : nil
            var assembler = StreamAssembler(direction: direction, streamID: known)
            var received = 0
            while !input.isExhausted {
                let chunk = input.chunk(maximum: StreamChunk.capacity + StreamChunk.headerSize)
                received += chunk.count
                let message: [UInt8]?
                do { message = try assembler.add(chunk) } catch { return }
                if let message {
                    try require(!message.isEmpty && message.count <= WireCodec.maximumStreamMessageSize && message.count <= received,
                            "assembled \(message.count) bytes from \(received) received")
                    return
                }
            }
            return
        }

        let streamID = input.integer(UInt64.self)
        let tamper = input.byte() % 5
        let at = Int(input.integer(UInt16.self))
        // One, two or three chunks (the third holding one byte at most).
        let size = 1 + Int(input.integer(UInt16.self)) % (2 * StreamChunk.capacity + 1)
        let knownInAdvance = input.bool()
        let pattern = input.rest()
        let unit = pattern.isEmpty ? [0x5A] : pattern
        var message = [UInt8](repeating: 0, count: size)
        for index in 0..<size { message[index] = unit[index % unit.count] }
        var chunks: [[UInt8]] = []
        for body in StreamChunk.split(message, direction: direction, streamID: streamID) {
            let sealed = envelope.seal(body, with: keyring, timestamp: 1_700_000_000_000)
            try require(sealed.count <= StreamChunk.maximumFrameSize, "a frame of \(sealed.count) bytes")
            guard let opened = try? envelope.open(sealed, with: keyring) else { throw PropertyViolation("a sealed chunk did not open") }
            try require(opened.body == body, "a chunk opened to other bytes")
            chunks.append(opened.body)
        }
        let index = at % chunks.count
        switch tamper {
        case 0:
            break
        case 1:
            guard chunks.count > 1 else { return }
            chunks.remove(at: index)
        case 2:
            chunks.insert(chunks[index], at: index)
        case 3:
            guard chunks.count > 1 else { return }
            chunks.swapAt(index, (index + 1) % chunks.count)
        default:
            // The same place in another exchange.
            let other = StreamChunk.split(message, direction: direction, streamID: streamID &+ 1)
            chunks[index] = other[index]
        }
        var assembler = StreamAssembler(direction: direction, streamID: knownInAdvance ? streamID : nil)
        var result: [UInt8]?
        for (position, chunk) in chunks.enumerated() {
            do {
                result = try assembler.add(chunk)
            } catch {
                try require(tamper != 0, "an untouched chunk \(position) was refused: \(error)")
                return
            }
            if result != nil {
                // A message is complete: nothing may follow it.
                if position + 1 < chunks.count {
                    try require((try? assembler.add(chunks[position + 1])) == nil, "a chunk after the end was taken")
                }
                break
            }
        }
        if tamper == 0 {
            try require(result == message, "reassembled \(result?.count ?? -1) bytes, sent \(message.count)")
        } else if tamper == 4 && index == 0 && assembler.streamID != streamID {
            // Splicing the first chunk while the exchange is not known in
            // advance just makes it another exchange, all of whose later
            // chunks are refused.
            try require(result == nil || chunks.count == 1, "a spliced exchange reassembled")
        } else {
            try require(result == nil || result == message, "a tampered stream reassembled to other bytes")
            try require(result == nil || tamper == 2 && index == chunks.count - 2, "a tampered stream reassembled")
        }
    }

    static func seeds() -> [[UInt8]] {
        var seeds: [[UInt8]] = []
        for tamper: UInt8 in 0..<5 {
            var builder = FuzzInput.Builder()
            builder.byte(1)
            builder.byte(tamper & 1)
            builder.integer(UInt64(0x0123_4567_89AB_CDEF))
            builder.byte(tamper)
            builder.integer(UInt16(tamper))
            builder.integer(UInt16(2 * StreamChunk.capacity + 10))
            builder.byte(tamper >> 1)
            builder.raw(Array("gossip".utf8))
            seeds.append(builder.bytes)
        }
        let body = StreamChunk.split(Array(repeating: 1, count: 40), direction: .request, streamID: 7)[0]
        var builder = FuzzInput.Builder()
        builder.byte(0)
        builder.byte(1)
        builder.byte(0)
        builder.chunk(body)
        seeds.append(builder.bytes)
        return seeds
    }
}
#endif

/// How a stream message travels on a gossip TCP connection: in sealed chunks
/// of at most `capacity` bytes, one chunk per frame, so that the receiver
/// authenticates every frame before it reads far past it.
///
/// Frames used to hold a whole message (up to 16 MiB), buffered before its
/// envelope was opened: anyone who could reach the port, key or no key,
/// made the node allocate 16 MiB per connection (issue 9, finding 2). Now
/// no frame exceeds `maximumFrameSize` (about 16 KiB), so an unauthenticated
/// connection costs at most a few frames of buffer, and a large message
/// grows only by chunks that opened with the cluster key.
///
/// Why chunks rather than a sealed length header followed by one large body
/// frame: the frame decoder runs on the event loop ahead of the task that
/// opens frames, so a limit raised by an authenticated header would race the
/// decoder, which has already framed (or refused) what follows. One fixed,
/// small limit for every frame needs no hand-over between the two.
///
/// Chunk body, sealed as any message (`Envelope`), all integers big-endian:
///
///     direction(1) ‖ stream id(8) ‖ index(4) ‖ total(4) ‖ data
///
/// `direction` tells a request from its answer, `stream id` is drawn at
/// random by the client and repeated in the answer, `index` counts from 0,
/// `total` is the message's length in bytes, and `data` fills every chunk
/// but the last to `capacity`. Each chunk thus names its exchange, its
/// direction and its place: chunks replayed from another exchange, or
/// reordered, dropped or spliced by someone on the path, are refused even
/// though each opens.
enum StreamChunk {
    enum Direction: UInt8, Sendable {
        // Not 1: a frame of the previous format (a whole `WireCodec` message,
        // which starts with version 1) is refused as such.
        case request = 0x21
        case answer = 0x22
    }

    /// Bytes of message data per chunk.
    static let capacity = 16 << 10
    static let headerSize = 1 + 8 + 4 + 4
    /// The largest frame on a gossip stream: one full sealed chunk.
    static let maximumFrameSize = capacity + headerSize + Envelope.overhead

    enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case truncated
        case wrongDirection(UInt8)
        case wrongStream
        case outOfOrder(expected: UInt32, got: UInt32)
        case badTotal(UInt32)
        case wrongLength(expected: Int, got: Int)
        case afterEnd

        var description: String {
            switch self {
            case .truncated: "stream chunk shorter than its header"
            case .wrongDirection(let d): "stream chunk of unknown or unexpected direction \(d)"
            case .wrongStream: "stream chunk of another exchange"
            case .outOfOrder(let expected, let got): "stream chunk \(got) where \(expected) was due"
            case .badTotal(let total): "stream message length \(total) is zero, over the limit, or changed between chunks"
            case .wrongLength(let expected, let got): "stream chunk holds \(got) bytes where \(expected) were due"
            case .afterEnd: "stream chunk after the end of its message"
            }
        }
    }

    /// The chunk bodies (before sealing) that carry `message`, which must be
    /// 1 to `WireCodec.maximumStreamMessageSize` bytes.
    static func split(_ message: [UInt8], direction: Direction, streamID: UInt64) -> [[UInt8]] {
        precondition(!message.isEmpty && message.count <= WireCodec.maximumStreamMessageSize, "stream message size")
        var chunks: [[UInt8]] = []
        chunks.reserveCapacity((message.count + capacity - 1) / capacity)
        var index: UInt32 = 0
        var start = 0
        while start < message.count {
            let end = min(start + capacity, message.count)
            var w = ByteWriter(capacity: headerSize + end - start)
            w.write(direction.rawValue)
            w.write(streamID)
            w.write(index)
            w.write(UInt32(message.count))
            w.writeRaw(message[start..<end])
            chunks.append(w.bytes)
            index += 1
            start = end
        }
        return chunks
    }
}

/// Puts one stream message back together from its opened chunks, refusing
/// any chunk that does not continue it (see `StreamChunk`).
///
/// Memory grows only with chunks that were authenticated before they got
/// here; the total a first chunk announces is checked against the limit but
/// never reserved.
struct StreamAssembler: Sendable {
    let direction: StreamChunk.Direction
    /// The exchange: set by the first chunk when serving, known in advance
    /// when waiting for an answer.
    private(set) var streamID: UInt64?
    private var total: UInt32 = 0
    private var nextIndex: UInt32 = 0
    private var message: [UInt8] = []

    init(direction: StreamChunk.Direction, streamID: UInt64? = nil) {
        self.direction = direction
        self.streamID = streamID
    }

    /// Adds the next chunk; returns the message once it is complete.
    mutating func add(_ chunk: [UInt8]) throws(StreamChunk.Error) -> [UInt8]? {
        guard nextIndex == 0 || message.count < Int(total) else { throw .afterEnd }
        guard chunk.count >= StreamChunk.headerSize else { throw .truncated }
        var r = ByteReader(chunk)
        // The header is there (checked above): these reads cannot fail.
        guard let directionByte = try? r.readUInt8(), let id = try? r.readUInt64(), let index = try? r.readUInt32(),
            let announced = try? r.readUInt32()
        else { throw .truncated }
        guard directionByte == direction.rawValue else { throw .wrongDirection(directionByte) }
        if let streamID { guard id == streamID else { throw .wrongStream } } else { streamID = id }
        guard index == nextIndex else { throw .outOfOrder(expected: nextIndex, got: index) }
        if index == 0 {
            guard announced > 0, Int(announced) <= WireCodec.maximumStreamMessageSize else { throw .badTotal(announced) }
            total = announced
        } else {
            guard announced == total else { throw .badTotal(announced) }
        }
        let due = min(StreamChunk.capacity, Int(total) - message.count)
        guard r.remaining == due else { throw .wrongLength(expected: due, got: r.remaining) }
        message.append(contentsOf: chunk[StreamChunk.headerSize...])
        nextIndex += 1
        return message.count == Int(total) ? message : nil
    }
}

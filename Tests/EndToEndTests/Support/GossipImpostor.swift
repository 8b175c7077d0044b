import Foundation
import Synchronization
import TestSupport

@testable import Gossip

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A member holding the cluster key, played by the test: what it sends is
/// built with the real `WireCodec`, cut into the real `StreamChunk`s and
/// sealed with the real `Envelope`, exactly as a node would, but it says
/// whatever the test makes it say. It owns a UDP socket on `endpoint` (the
/// gossip port of a loopback address), so nodes can probe it, and it can
/// answer their pings (`answerPings`) to stay alive in their views.
final class GossipImpostor: Sendable {
    let name: String
    let endpoint: SWIM.Endpoint
    let keyring: Keyring
    let envelope: Envelope
    /// The impostor's own signing key: it can sign its own records, not
    /// anyone else's.
    let identity = MemberIdentity.generate()
    private let socket: Int32
    private let stopped = Atomic<Bool>(false)
    private let answered = Atomic<Int>(0)

    /// - Parameters:
    ///   - keyFile: the cluster key the nodes were started with.
    ///   - label: the nodes' `--cluster-label`.
    init(name: String, host: String, port: UInt16 = 7946, keyFile: String, label: String = "gossip-mirror") throws {
        self.name = name
        self.endpoint = SWIM.Endpoint(host: host, port: port)
        self.keyring = try Keyring([try ClusterKey(contentsOfFile: keyFile)])
        self.envelope = Envelope(label: label)
        self.socket = try Datagrams.bound(host: host, port: port)
    }

    deinit { close(socket) }

    /// The impostor's own record, as it announces itself (signed).
    func state(incarnation: SWIM.Incarnation, metadata: SWIM.Metadata = [:], generation: UInt64 = 0) -> SWIM.MemberState {
        identity.signed(
            SWIM.MemberState(
                name: name, endpoint: endpoint, incarnation: incarnation, status: .alive, metadata: metadata,
                payloadGeneration: generation))
    }

    static var wallClockMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// `bytes` sealed now, as a datagram or a stream chunk.
    func seal(_ bytes: [UInt8]) -> [UInt8] {
        envelope.seal(bytes, with: keyring, timestamp: Self.wallClockMilliseconds)
    }

    /// `updates` in a `gossip` packet from the impostor, sealed now.
    func sealedGossip(_ updates: [SWIM.Update]) -> [UInt8] {
        seal(WireCodec.encode(SWIM.Packet(.gossip(from: name), updates: updates)))
    }

    /// Sends one datagram from the impostor's socket, as it is; false if
    /// the kernel did not take it.
    @discardableResult
    func send(_ datagram: [UInt8], to destination: SWIM.Endpoint) -> Bool {
        Datagrams.send(datagram, from: socket, to: destination)
    }

    /// Sends `updates` in a sealed `gossip` packet.
    func gossip(_ updates: [SWIM.Update], to destination: SWIM.Endpoint) {
        send(sealedGossip(updates), to: destination)
    }

    // MARK: Answering probes

    /// Pings answered so far.
    var pingsAnswered: Int { answered.load(ordering: .relaxed) }

    /// Answers every ping addressed to the impostor with an ack carrying its
    /// alive record at `incarnation` (a refutation, should anyone suspect
    /// it), on a thread of its own, until `stop()`.
    func answerPings(incarnation: SWIM.Incarnation, metadata: SWIM.Metadata = [:], generation: UInt64 = 0) {
        let me = state(incarnation: incarnation, metadata: metadata, generation: generation)
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !stopped.load(ordering: .relaxed) {
                guard let datagram = Datagrams.receive(on: socket, into: &buffer),
                    let opened = try? envelope.open(datagram, with: keyring),
                    let packet = try? WireCodec.decodePacket(opened.body),
                    case .ping(let sequence, let target, _, let from) = packet.message, target == name
                else { continue }
                let ack = SWIM.Packet(.ack(sequence: sequence, from: name), updates: [.alive(me)])
                send(seal(WireCodec.encode(ack)), to: from.endpoint)
                answered.add(1, ordering: .relaxed)
            }
        }
        thread.start()
    }

    func stop() { stopped.store(true, ordering: .relaxed) }

    // MARK: Streams

    /// Sends `message` on a new gossip TCP connection to `destination`, in
    /// sealed chunks as a node would, and returns the decoded answer (nil if
    /// the node closed the connection without one within `timeout`).
    func exchange(_ message: SWIM.StreamMessage, with destination: SWIM.Endpoint, timeout: Duration = .seconds(10)) throws
        -> SWIM.StreamMessage?
    {
        let streamID = UInt64.random(in: .min ... .max)
        let chunks = StreamChunk.split(WireCodec.encode(message), direction: .request, streamID: streamID)
        let connection = try FrameFlood.connect(host: destination.host, port: destination.port)
        defer { close(connection) }
        Datagrams.setReceiveTimeout(connection, timeout)
        for chunk in chunks { guard Self.writeFrame(seal(chunk), to: connection) else { return nil } }
        var assembler = StreamAssembler(direction: .answer, streamID: streamID)
        while let frame = Self.readFrame(from: connection) {
            guard let opened = try? envelope.open(frame, with: keyring) else { return nil }
            let whole: [UInt8]?
            do { whole = try assembler.add(opened.body) } catch { return nil }
            if let whole { return try? WireCodec.decodeStreamMessage(whole) }
        }
        return nil
    }

    /// Sends raw chunk bodies (the test builds their headers), each sealed,
    /// on a new connection; returns whether the node closed the connection
    /// within `timeout` without answering.
    func sendChunks(_ bodies: [[UInt8]], to destination: SWIM.Endpoint, timeout: Duration = .seconds(10)) throws -> Bool {
        let connection = try FrameFlood.connect(host: destination.host, port: destination.port)
        defer { close(connection) }
        Datagrams.setReceiveTimeout(connection, timeout)
        for body in bodies { guard Self.writeFrame(seal(body), to: connection) else { break } }
        return Self.readFrame(from: connection) == nil
    }

    /// A stream frame: a 4-byte big-endian length, then the sealed bytes.
    static func writeFrame(_ sealed: [UInt8], to fd: Int32) -> Bool {
        var frame = withUnsafeBytes(of: UInt32(sealed.count).bigEndian) { Array($0) }
        frame += sealed
        var sent = 0
        while sent < frame.count {
            let n = frame[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }

    /// The next frame, or nil at the end of the stream, an error or the timeout.
    static func readFrame(from fd: Int32) -> [UInt8]? {
        guard let header = readExactly(4, from: fd) else { return nil }
        let length = header.reduce(0) { $0 << 8 | Int($1) }
        guard length <= StreamChunk.maximumFrameSize else { return nil }
        return readExactly(length, from: fd)
    }

    private static func readExactly(_ count: Int, from fd: Int32) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var read = 0
        while read < count {
            let n = bytes[read...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { return nil }
            read += n
        }
        return bytes
    }
}

/// Plain IPv4 UDP sockets for the hostile tests.
enum Datagrams {
    static func address(_ host: String, _ port: UInt16) throws -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw POSIXError(.EINVAL) }
        return address
    }

    /// A UDP socket bound to `host:port` (port 0: any), receiving with a
    /// 200 ms timeout so a reading thread can notice it should stop.
    static func bound(host: String, port: UInt16 = 0) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var local = try address(host, port)
        let result = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        setReceiveTimeout(fd, .milliseconds(200))
        return fd
    }

    static func setReceiveTimeout(_ fd: Int32, _ timeout: Duration) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends without blocking; a full buffer drops the datagram (as UDP may).
    @discardableResult
    static func send(_ datagram: [UInt8], from fd: Int32, to destination: SWIM.Endpoint) -> Bool {
        guard var remote = try? address(destination.host, destination.port) else { return false }
        let sent = datagram.withUnsafeBytes { bytes in
            withUnsafePointer(to: &remote) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return sent == datagram.count
    }

    /// One datagram, or nil after the socket's receive timeout.
    static func receive(on fd: Int32, into buffer: inout [UInt8]) -> [UInt8]? {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(buffer[..<n]) : nil
    }
}

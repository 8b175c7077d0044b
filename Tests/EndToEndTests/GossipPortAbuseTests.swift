import Foundation
import Gossip
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What anyone who can reach the gossip TCP port can do without the key
/// (issue 9, finding 2): announce huge frames on many connections, or hold
/// connections open without sending. The node must stay small and keep
/// serving. Real `gossip-mirror run` processes on loopback addresses.
@Suite(.serialized) struct GossipPortAbuseTests {
    static let rssLimitKiB = 100 << 10
    /// The sampler kills the node past this, so a node that buffers
    /// everything fails the test quickly instead of exhausting the machine.
    static let safetyCapKiB = 1 << 20

    @Test func sixtyFourConnectionsAnnouncingSixteenMiBFramesLeaveTheNodeSmallAndServing() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let subnet = LoopbackCluster.subnet(10)
        let target = try MirrorProcess(
            name: "target", host: "\(subnet).1", keyFiles: [key], join: [], directory: dir.path,
            extra: ["--log-level", "info"])
        let other = try MirrorProcess(
            name: "other", host: "\(subnet).2", keyFiles: [key], join: ["\(subnet).1:7946"], directory: dir.path,
            extra: ["--log-level", "info"])
        defer { for n in [target, other] { kill(n.pid, SIGKILL) } }
        let formed = await poll(timeout: .seconds(10)) { await target.status()?.state(of: "other") == "alive" }
        try #require(formed != nil, "the two nodes did not form a cluster\n\(LoopbackCluster.logs([target, other]))")
        let before = RSSSampler.read(pid: target.pid, field: "VmRSS") ?? 0

        let sampler = RSSSampler(pid: target.pid, killAboveKiB: Self.safetyCapKiB)
        let sampling = Task { await sampler.run(every: .milliseconds(50)) }
        // Each connection announces a frame of 16 MiB (the old stream limit)
        // and then tries to send all of it, for 10 s (the old stream timeout,
        // for which such a connection used to be held).
        let attack = FrameFlood(host: "\(subnet).1", port: 7946, connections: 64, announced: 16 << 20)
        let sent = await Task.detached { attack.run(for: .seconds(10)) }.value
        let samples = await { sampling.cancel(); return await sampling.value }()

        print(
            "64 connections announcing 16 MiB frames: \(sent.connected) connected, \(sent.bytes >> 20) MiB sent; "
                + "VmRSS \(before >> 10) MiB before, peak \(samples.peakKiB >> 10) MiB")
        #expect(sent.connected > 0, "no attacking connection was accepted at all: the test proves nothing")
        #expect(!samples.killed, "the node passed \(Self.safetyCapKiB >> 10) MiB and was killed")
        #expect(samples.peakKiB < Self.rssLimitKiB, "peak VmRSS \(samples.peakKiB) KiB is not under \(Self.rssLimitKiB) KiB")
        #expect(target.isRunning, "the node died\n\(String(target.log.suffix(3000)))")

        // Still serving: its status port answers and the other member stays alive in its view.
        let serving = await poll(timeout: .seconds(5)) {
            guard let view = await target.status() else { return false }
            return view.state(of: "other") == "alive" && view.state(of: "target") == "alive"
        }
        #expect(serving != nil, "the node stopped serving\n\(LoopbackCluster.logs([target, other]))")
        #expect(await other.status()?.state(of: "target") == "alive")
    }

    /// Connections that send nothing are closed after the first-frame
    /// deadline, and those beyond the per-address cap at once.
    @Test func silentConnectionsAreClosedAndCapped() async throws {
        let dir = try ScratchDirectory()
        let key = try LoopbackCluster.writeKey(dir, "cluster.key")
        let host = "\(LoopbackCluster.subnet(11)).1"
        let node = try MirrorProcess(name: "silent", host: host, keyFiles: [key], join: [], directory: dir.path)
        defer { kill(node.pid, SIGKILL) }
        let up = await poll(timeout: .seconds(10)) { await node.status() != nil }
        try #require(up != nil, "the node did not start\n\(String(node.log.suffix(3000)))")

        let limits = GossipConfiguration.StreamLimits()
        let sockets = try (0..<(limits.maximumPerAddress + 4)).map { _ in try FrameFlood.connect(host: host, port: 7946) }
        defer { for s in sockets { close(s) } }
        // The connections past the per-address cap are closed at once ...
        let capped = await poll(timeout: .seconds(2), every: .milliseconds(20)) {
            sockets.filter { FrameFlood.isClosedByPeer($0) }.count >= 4
        }
        #expect(capped != nil, "connections past the per-address cap were not closed")
        // ... and the silent rest after the first-frame deadline (plus slack for a loaded machine).
        let closed = await poll(timeout: limits.firstFrameTimeout + .seconds(3), every: .milliseconds(50)) {
            sockets.allSatisfy { FrameFlood.isClosedByPeer($0) }
        }
        #expect(closed != nil, "silent connections were still open \(limits.firstFrameTimeout) after they were accepted")
        #expect(node.isRunning)
    }
}

/// Connections to a gossip port, each announcing one big stream frame (a
/// 4-byte big-endian length) and then sending zeros as fast as the node
/// takes them, on non-blocking sockets from one thread.
struct FrameFlood: Sendable {
    var host: String
    var port: UInt16
    var connections: Int
    var announced: UInt32

    struct Outcome: Sendable {
        var connected = 0
        var bytes = 0
    }

    /// Floods for `duration`, then closes every connection.
    func run(for duration: Duration) -> Outcome {
        var outcome = Outcome()
        var sockets: [(fd: Int32, left: Int)] = []
        for _ in 0..<connections {
            guard let fd = try? Self.connect(host: host, port: port) else { continue }
            outcome.connected += 1
            withUnsafeBytes(of: announced.bigEndian) { _ = send(fd, $0.baseAddress, 4, Int32(MSG_NOSIGNAL)) }
            sockets.append((fd, Int(announced)))
        }
        defer { for s in sockets { close(s.fd) } }
        let zeros = [UInt8](repeating: 0, count: 64 << 10)
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            var progressed = false
            for i in sockets.indices where sockets[i].left > 0 {
                let n = zeros.withUnsafeBytes {
                    send(sockets[i].fd, $0.baseAddress, min($0.count, sockets[i].left), Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if n > 0 {
                    sockets[i].left -= n
                    outcome.bytes += n
                    progressed = true
                } else if n < 0, errno != EAGAIN, errno != EWOULDBLOCK {
                    sockets[i].left = 0  // closed by the node
                }
            }
            if !progressed { usleep(5_000) }
        }
        return outcome
    }

    /// A blocking TCP connection to an IPv4 address.
    static func connect(host: String, port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw POSIXError(.EINVAL)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        return fd
    }

    /// Whether the peer has closed (or reset) the connection: a
    /// non-blocking read returns end of file or an error other than EAGAIN.
    static func isClosedByPeer(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if n == 0 { return true }
        return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK
    }
}

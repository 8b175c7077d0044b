import Catalog
import Foundation
import Gossip
import NIOHTTP1
import Synchronization
import TestSupport

@testable import Registry

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The registry port of a peer that stalls: it reads a peer request, answers
/// with a head a relay accepts (200, the blob's digest and length, sealed
/// with the cluster key under the peer's member name, as `PeerAnswerSeal`
/// wants) and then sends nothing, holding the connection until `stop()`.
/// Threads and blocking sockets, so a busy test process cannot delay it.
final class StallingPeer: Sendable {
    let address: String
    /// Blob digests (as in the request path) and their lengths.
    let blobs: [String: Int]
    private let seal: PeerAnswerSeal
    private let listener: Int32
    private let stopped = Atomic<Bool>(false)
    private let log = Mutex<(targets: [String], held: [Int32])>(([], []))

    /// Listens on `host:port` and answers as member `name` with `key`.
    init(name: String, host: String, port: UInt16, key: ClusterKey, blobs: [Digest: Int]) throws {
        self.address = "\(host):\(port)"
        self.blobs = Dictionary(uniqueKeysWithValues: blobs.map { ($0.key.description, $0.value) })
        self.seal = PeerAnswerSeal(credentials: PeerCredentials(nodeName: name) { [key] })
        let fd = try SocketProbes.listen(host: host, port: Int(port))
        Datagrams.setReceiveTimeout(fd, .milliseconds(200))  // accept wakes up to notice `stop()`
        listener = fd
        Thread { [self] in acceptLoop() }.start()
    }

    /// Request targets received, in order.
    var targets: [String] { log.withLock { $0.targets } }

    /// Closes the listener and every held connection.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        log.withLock { for fd in $0.held { close(fd) } }
        close(listener)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            Thread { [self] in serve(fd) }.start()
        }
    }

    /// Reads one request head and answers it with a sealed head and no body.
    private func serve(_ fd: Int32) {
        Datagrams.setReceiveTimeout(fd, .seconds(5))
        var head = [UInt8]()
        var byte: UInt8 = 0
        while !head.ends(with: Array("\r\n\r\n".utf8)), head.count < 16 << 10, recv(fd, &byte, 1, 0) == 1 { head.append(byte) }
        let lines = String(decoding: head, as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines.first?.split(separator: " ") ?? []
        guard requestLine.count == 3 else {
            close(fd)
            return
        }
        let method = String(requestLine[0])
        let target = String(requestLine[1])
        let token = lines.dropFirst().first { $0.lowercased().hasPrefix(PeerCredentials.tokenHeader.lowercased() + ":") }
            .map { String($0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)) }
        log.withLock {
            $0.targets.append(target)
            $0.held.append(fd)
        }
        let digest = target.split(separator: "?")[0].split(separator: "/").last.map(String.init) ?? ""
        guard let token, let size = blobs[digest] else {
            send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", to: fd)
            return
        }
        let headers: HTTPHeaders = [
            "Docker-Content-Digest": digest, "Content-Type": "application/octet-stream", "Content-Length": "\(size)",
        ]
        let sealed = Self.waiting {
            await self.seal.seal(
                token: token, method: method, target: target, fields: PeerAnswerSeal.Fields(status: 200, headers: headers))
        }
        var text = "HTTP/1.1 200 OK\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let sealed { text += "\(PeerAnswerSeal.header): \(sealed)\r\n" }
        send(text + "\r\n", to: fd)
        // And nothing more: the connection stays open until `stop()`.
    }

    private func send(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Runs async work from one of this class's own threads (never from the
    /// cooperative pool, which the wait would block).
    private static func waiting<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let result = Slot<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await work()
            result.value.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.value.withLock { $0! }
    }

    private final class Slot<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

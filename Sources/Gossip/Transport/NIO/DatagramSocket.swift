import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The gossip UDP socket, bound here: NIO reads a duplicate of its
/// descriptor, and datagrams go out with sendto(2) on this one.
///
/// Why not send through NIO: its datagram channel tolerates only EMSGSIZE and
/// EHOSTUNREACH on a send and closes the channel on any other error, such as
/// the EPERM a firewall rule returns for one blocked peer. For UDP such an
/// error concerns one datagram, and SWIM already treats the silence as a
/// failed probe; reopening the socket each time lost the datagrams to every
/// other member meanwhile. Here a failed send is counted and dropped, as is
/// one that finds the send buffer full (EAGAIN; UDP may drop anyway).
///
/// `Sendable`: the descriptor sits in an atomic, sendto(2) on one socket is
/// safe from any thread, and `close()` swaps it for -1 first. The owner
/// (`NIOTransport`) sends and closes under one lock, so a send never races
/// the close and finds a descriptor number already reused.
final class DatagramSocket: Sendable {
    private let descriptor: Atomic<CInt>

    /// A UDP socket bound to `address` with `SO_REUSEADDR`.
    init(binding address: SocketAddress) throws {
        let family: CInt
        switch address {
        case .v4: family = AF_INET
        case .v6: family = AF_INET6
        case .unixDomainSocket: throw IOError(errnoCode: EAFNOSUPPORT, reason: "gossip needs an IP address")
        }
        #if canImport(Darwin)
        let type = SOCK_DGRAM
        #else
        let type = CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #endif
        let fd = socket(family, type, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: CInt = 1
        var zero: CInt = 0
        let size = socklen_t(MemoryLayout<CInt>.size)
        // As NIO sets up its sockets: address reuse, and dual-stack for `::`
        // whatever `net.ipv6.bindv6only` says, so IPv4 peers reach an IPv6 bind.
        guard setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0,
            family != AF_INET6 || setsockopt(fd, CInt(IPPROTO_IPV6), IPV6_V6ONLY, &zero, size) == 0
        else {
            let code = errno
            _ = systemClose(fd)
            throw IOError(errnoCode: code, reason: "setsockopt")
        }
        let bound = Self.withSockAddr(address) { bind(fd, $0, $1) }
        guard bound == 0 else {
            let code = errno
            _ = systemClose(fd)
            throw IOError(errnoCode: code, reason: "bind(\(address))")
        }
        descriptor = Atomic(fd)
    }

    deinit {
        close()
    }

    /// Closes the socket (NIO's duplicate stays open until its channel
    /// closes). Idempotent. The port is free again once both are closed.
    func close() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { _ = systemClose(fd) }
    }

    /// A duplicate of the descriptor for NIO's channel, which closes it
    /// when the channel closes (and makes the socket non-blocking).
    func duplicateForReading() throws -> CInt {
        let fd = fcntl(descriptor.load(ordering: .acquiring), F_DUPFD_CLOEXEC, 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "dup") }
        return fd
    }

    /// Sends one datagram without blocking; nil if it went out, else the errno.
    func send(_ bytes: [UInt8], to address: SocketAddress) -> CInt? {
        let fd = descriptor.load(ordering: .acquiring)
        guard fd >= 0 else { return EBADF }
        let sent = bytes.withUnsafeBytes { buffer in
            Self.withSockAddr(address) { sockaddr, length in
                sendto(fd, buffer.baseAddress, buffer.count, CInt(MSG_DONTWAIT), sockaddr, length)
            }
        }
        return sent < 0 ? errno : nil
    }

    private static func withSockAddr<Result>(
        _ address: SocketAddress, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Result
    ) -> Result {
        switch address {
        case .v4(let v4):
            var storage = v4.address
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let v6):
            var storage = v6.address
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .unixDomainSocket:
            var empty = sockaddr()
            return body(&empty, 0)
        }
    }
}

/// close(2), named apart from `DatagramSocket.close()`.
private func systemClose(_ fd: CInt) -> CInt {
    #if canImport(Glibc)
    Glibc.close(fd)
    #elseif canImport(Musl)
    Musl.close(fd)
    #else
    Darwin.close(fd)
    #endif
}

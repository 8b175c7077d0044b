#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns seed strings into endpoints: `host:port` with an IP literal as is,
/// DNS names into every address they resolve to (a headless Service or a
/// Consul/Nomad service name yields all members at once).
public enum SeedResolver {
    /// Resolves every seed; unresolvable seeds are skipped (and reported).
    /// Blocking (getaddrinfo): call from a thread that may block.
    public static func resolve(_ seeds: [String], defaultPort: UInt16) -> (endpoints: [SWIM.Endpoint], failures: [String]) {
        var endpoints: [SWIM.Endpoint] = []
        var failures: [String] = []
        for seed in seeds {
            guard let parsed = SWIM.Endpoint(parsing: seed, defaultPort: defaultPort) else {
                failures.append("\(seed): not HOST:PORT")
                continue
            }
            let addresses = resolveHost(parsed.host)
            if addresses.isEmpty { failures.append("\(seed): does not resolve") }
            endpoints.append(contentsOf: addresses.map { SWIM.Endpoint(host: $0, port: parsed.port) })
        }
        return (Array(Set(endpoints)).sorted { $0.description < $1.description }, failures)
    }

    /// Numeric addresses of a host name or IP literal (IPv4 first).
    public static func resolveHost(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        #else
        hints.ai_socktype = SOCK_DGRAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var v4: [String] = []
        var v6: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let info = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if info.pointee.ai_family == AF_INET { if !v4.contains(text) { v4.append(text) } } else if !v6.contains(text) { v6.append(text) }
            }
            node = info.pointee.ai_next
        }
        return v4 + v6
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process's open-file limit.
enum DescriptorLimit {
    /// Raises the soft `RLIMIT_NOFILE` to the hard limit, as Go programs do
    /// at start (since Go 1.19), and returns the new soft limit. systemd
    /// starts services with a soft limit of 1024, which the HTTP servers'
    /// connection caps (`HTTPServerLimits`, 1024 per server by default) and
    /// gossip's own sockets would otherwise share; the hard limit is the
    /// operator's real bound. Never lowers anything.
    @discardableResult
    static func raiseToHardLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }
}

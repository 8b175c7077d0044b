#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The standard process metrics of Prometheus client libraries, read from
/// `/proc/self` at each scrape: CPU time, resident and virtual memory, open
/// and maximum file descriptors, start time.
///
/// They keep the names every client library exports (`process_…`, see
/// "Process metrics" in Prometheus's guide for client libraries) rather than
/// the `gossip_mirror_` prefix: dashboards and alerts for any exporter use
/// them by those names, and the `job` label tells processes apart.
enum ProcessMetrics {
    /// The exposition text (with `# HELP` and `# TYPE`), or "" off Linux.
    static func exposition() -> String {
        #if os(Linux)
        var lines: [String] = []
        func metric(_ name: String, _ type: String, _ help: String, _ value: Double?) {
            guard let value else { return }
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) \(type)")
            lines.append("\(name) \(format(value))")
        }
        let stat = selfStat()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        metric("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
               stat.map { Double($0.userTicks + $0.systemTicks) / ticks })
        metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
               stat.map { Double($0.residentPages) * pageSize })
        metric("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", stat.map { Double($0.virtualBytes) })
        metric("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
               stat.flatMap { s in bootTime().map { $0 + Double(s.startTicks) / ticks } })
        metric("process_open_fds", "gauge", "Number of open file descriptors.", openDescriptors())
        var limit = rlimit()
        metric("process_max_fds", "gauge", "Maximum number of open file descriptors.",
               getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : nil)
        return lines.joined(separator: "\n") + "\n"
        #else
        return ""
        #endif
    }

    struct Stat {
        var userTicks: UInt64
        var systemTicks: UInt64
        var startTicks: UInt64
        var virtualBytes: UInt64
        var residentPages: UInt64
    }

    /// Fields of `/proc/self/stat` (proc(5)): after the command name in
    /// parentheses (which may itself hold spaces and parentheses, hence the
    /// last `)`), utime and stime are fields 14 and 15, starttime 22, vsize
    /// 23, rss 24.
    static func parseStat(_ text: String) -> Stat? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state).
        func field(_ n: Int) -> UInt64? { n - 3 < fields.count ? UInt64(fields[n - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24)
        else { return nil }
        return Stat(userTicks: utime, systemTicks: stime, startTicks: start, virtualBytes: vsize, residentPages: rss)
    }

    static func selfStat() -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        return parseStat(text)
    }

    /// `btime` from `/proc/stat`: boot time in seconds since the epoch.
    static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    static func openDescriptors() -> Double? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return nil }
        return Double(entries.count)
    }

    /// Integers without a fraction, others with enough digits.
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}

import Foundation
import TestSupport

/// What a cluster created on this machine, written down as it is created so
/// that teardown removes exactly that, newest first: processes (SIGTERM, then
/// SIGKILL), network namespaces (with anything still running in them), links
/// (the bridge and the host ends of veth pairs), and the work directory.
///
/// The record is a file (`resources`, one `KIND NAME` per line, the same
/// format `scripts/cluster/lib.sh` writes) next to `owner` (the pid of the
/// test process). A run killed before its teardown (SIGKILL, a CI timeout)
/// leaves both behind; `sweepStale` removes such leftovers at the next start.
/// Nothing that is not in a ledger is ever touched: not the machine's
/// containerd, not its nftables ruleset, not other tests' namespaces.
final class ClusterLedger: @unchecked Sendable {
    // @unchecked: `torn` is guarded by `lock`; the file is appended under it.
    static let prefix = "gm-cluster-test"

    /// The work directory, kept until teardown removes it.
    private let scratch: ScratchDirectory
    var directory: String { scratch.path }
    private let lock = NSLock()
    private var torn = false

    init() throws {
        scratch = try ScratchDirectory(Self.prefix)
        try "\(getpid())\n".write(toFile: directory + "/owner", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: directory + "/resources", contents: nil)
    }

    enum Kind: String { case pid, netns, link }

    func record(_ kind: Kind, _ name: String) {
        lock.withLock {
            guard let handle = FileHandle(forWritingAtPath: directory + "/resources") else { return }
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: Data("\(kind.rawValue) \(name)\n".utf8))
        }
    }

    /// Removes everything recorded; a second call does nothing.
    func tearDown() async {
        let first = lock.withLock {
            defer { torn = true }
            return !torn
        }
        guard first else { return }
        await Self.tearDown(directory: directory)
    }

    static func entries(_ directory: String) -> [(Kind, String)] {
        guard let text = try? String(contentsOfFile: directory + "/resources", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let kind = Kind(rawValue: parts[0]) else { return nil }
            return (kind, parts[1])
        }.reversed()
    }

    static func tearDown(directory: String) async {
        let entries = entries(directory)
        // Only processes whose command line names this directory (every one a
        // cluster starts does): a recycled pid of a stale ledger is left alone.
        let pids = entries.compactMap { $0.0 == .pid ? Int32($0.1) : nil }.filter { commandLine(of: $0).contains(directory) }
        for pid in pids where isAlive(pid) { kill(pid, SIGTERM) }
        await poll(timeout: .seconds(5), every: .milliseconds(20)) { !pids.contains(where: isAlive) }
        for pid in pids where isAlive(pid) { kill(pid, SIGKILL) }
        for (kind, name) in entries {
            switch kind {
            case .pid: break
            case .netns:
                // Whatever still runs in a namespace of ours (a ctr cut short) is ours.
                if let listed = try? await Subprocess.run(["ip", "netns", "pids", name], deadline: .seconds(10), check: false) {
                    for pid in listed.stdout.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
                }
                _ = try? await Subprocess.run(["ip", "netns", "del", name], deadline: .seconds(10), check: false)
            case .link:
                _ = try? await Subprocess.run(["ip", "link", "del", name], deadline: .seconds(10), check: false)
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    /// A pid that exists and is not a zombie of ours waiting to be reaped.
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        return !stat[stat.index(after: close)...].hasPrefix(" Z")
    }

    /// Tears down the ledgers of earlier runs whose owner process is gone.
    static func sweepStale() async {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for name in names where name.hasPrefix(prefix + "-") {
            let directory = "/tmp/" + name
            guard FileManager.default.fileExists(atPath: directory + "/resources") else { continue }
            let owner = (try? String(contentsOfFile: directory + "/owner", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let owner, owner != getpid(), isAlive(owner) { continue }
            if owner == getpid() { continue }
            print("cluster: removing what an earlier run left behind (\(directory))")
            await tearDown(directory: directory)
        }
    }
}

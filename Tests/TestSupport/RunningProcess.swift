import Foundation

/// A daemon started by a test (containerd, docker-registry), its output in a log
/// file. Stop it with `stop()`; `ProcessReaper` kills whatever is left when the
/// test process exits.
public final class RunningProcess: @unchecked Sendable {
    // @unchecked: `process` is only mutated in init; Process itself is thread-safe
    // for the calls made here (isRunning, terminate, processIdentifier).
    public let command: [String]
    public let logPath: String
    private let process: Process
    private let exited = ExitSignal()

    init(
        executable: String,
        arguments: [String],
        logPath: String,
        environment: [String: String]?,
        workingDirectory: String?
    ) throws {
        command = [executable] + arguments
        self.logPath = logPath
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.standardInput = FileHandle.nullDevice
        if !FileManager.default.fileExists(atPath: logPath) {
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        let exited = self.exited
        // Unregistered as soon as it is gone: its pid may be reused after that.
        process.terminationHandler = { process in
            exited.fire()
            ProcessReaper.shared.unregister(process.processIdentifier)
        }
        try process.run()
        try? log.close()
        ProcessReaper.shared.register(process.processIdentifier)
        // It may have exited (and the handler run) before it was registered.
        if exited.hasFired { ProcessReaper.shared.unregister(process.processIdentifier) }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { !exited.hasFired }

    /// The exit status once stopped (a signal number if killed), else nil.
    public var terminationStatus: Int32? { exited.hasFired ? process.terminationStatus : nil }

    /// Sends SIGTERM, and SIGKILL if it has not exited after `grace`; returns once it is gone.
    public func stop(grace: Duration = .seconds(10)) async {
        if isRunning {
            kill(pid, SIGTERM)
            if await exited.wait(deadline: grace) {
                kill(pid, SIGKILL)
                _ = await exited.wait(deadline: .seconds(10))
            }
        }
        ProcessReaper.shared.unregister(pid)
    }

    /// Kills it at once (SIGKILL), as a crash would.
    public func kill9() async {
        if isRunning {
            kill(pid, SIGKILL)
            _ = await exited.wait(deadline: .seconds(10))
        }
        ProcessReaper.shared.unregister(pid)
    }

    /// Waits until it exits by itself; true if it did within `deadline`.
    public func waitForExit(deadline: Duration) async -> Bool {
        !(await exited.wait(deadline: deadline))
    }

    /// Whether it ended by a signal (a crash, or a SIGKILL) rather than by exiting.
    public var endedBySignal: Bool { exited.hasFired && process.terminationReason == .uncaughtSignal }

    /// Sends `signal` (SIGTERM for a graceful stop, SIGKILL for a crash) without waiting.
    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits, with `poll`, until `ready` holds (a socket answers) while the
    /// process runs. Throws the process's log tail if it exits first, and
    /// `TimedOut` after `deadline`.
    public func waitUntil(
        _ what: @autoclosure () -> String, within deadline: Duration = .seconds(30), every interval: Duration = .milliseconds(50),
        _ ready: () async throws -> Bool
    ) async throws {
        let held = try await poll(timeout: deadline, every: interval) {
            guard isRunning else { throw Subprocess.Failure(command: command, reason: "exited:\n\(logTail())") }
            return try await ready()
        }
        guard held != nil else { throw TimedOut(what: "\(what()) (`\(command.joined(separator: " "))`)", deadline: deadline) }
    }

    /// The last `lines` lines of its log, for failure messages.
    public func logTail(lines: Int = 60) -> String {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return "(no log at \(logPath))" }
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)
        return all.suffix(lines).joined(separator: "\n")
    }
}

/// Kills every daemon a test started that is still registered when the test
/// process exits (normally or through `exit`), so a failed or aborted test does
/// not leave containerd or a registry running.
public final class ProcessReaper: @unchecked Sendable {
    // @unchecked: `pids` is guarded by `lock`.
    public static let shared = ProcessReaper()
    private let lock = NSLock()
    private var pids: Set<Int32> = []

    private init() {
        atexit { ProcessReaper.shared.killAll() }
    }

    func register(_ pid: Int32) {
        lock.lock()
        pids.insert(pid)
        lock.unlock()
    }

    func unregister(_ pid: Int32) {
        lock.lock()
        pids.remove(pid)
        lock.unlock()
    }

    /// SIGKILLs every registered process.
    public func killAll() {
        lock.lock()
        let all = pids
        pids.removeAll()
        lock.unlock()
        for pid in all { kill(pid, SIGKILL) }
    }
}

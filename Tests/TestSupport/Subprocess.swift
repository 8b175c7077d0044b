import Foundation

/// Runs programs for tests that drive real processes, on Foundation's `Process`.
///
/// Short commands run to completion under a deadline (`run`); daemons are
/// launched with their output in a log file (`launch`) and are registered with
/// `ProcessReaper`, so none outlives the test process.
public enum Subprocess {
    /// What a finished command left behind.
    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var succeeded: Bool { status == 0 }
    }

    /// A command that failed, timed out, or could not be found.
    public struct Failure: Error, CustomStringConvertible {
        public var command: [String]
        public var reason: String
        public var output: Output?

        public var description: String {
            var text = "`\(command.joined(separator: " "))` \(reason)"
            if let output {
                if !output.stdout.isEmpty { text += "\n--- stdout\n" + output.stdout }
                if !output.stderr.isEmpty { text += "\n--- stderr\n" + output.stderr }
            }
            return text
        }

        public init(command: [String], reason: String, output: Output? = nil) {
            self.command = command
            self.reason = reason
            self.output = output
        }
    }

    /// The full path of `name` on `PATH` (plus the sbin folders, where daemons live),
    /// or nil. A name containing `/` is returned as is if executable.
    public static func find(_ name: String) -> String? {
        let fileManager = FileManager.default
        if name.contains("/") { return fileManager.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let folders = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        for folder in folders where !folder.isEmpty {
            let candidate = folder + "/" + name
            if fileManager.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `arguments[0]` (looked up with `find`) to completion, killing it when
    /// `deadline` passes. Throws `Failure` on a non-zero exit unless `check` is false.
    @discardableResult
    public static func run(
        _ arguments: [String],
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        deadline: Duration = .seconds(120),
        check: Bool = true
    ) async throws -> Output {
        guard let executable = arguments.first.flatMap(find) else {
            throw Failure(command: arguments, reason: "not found on PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        if let environment { process.environment = environment }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.standardInput = FileHandle.nullDevice

        // Output goes to temporary files rather than pipes: a chatty command can
        // not block on a full pipe, and nothing has to drain it concurrently.
        let scratch = try ScratchDirectory("subprocess")
        defer { scratch.remove() }
        let outPath = scratch.path + "/stdout", errPath = scratch.path + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = outHandle
        process.standardError = errHandle

        let exited = ExitSignal()
        process.terminationHandler = { _ in exited.fire() }
        try process.run()
        try? outHandle.close()
        try? errHandle.close()

        let timedOut = await exited.wait(deadline: deadline)
        if timedOut {
            process.terminate()
            if await exited.wait(deadline: .seconds(5)) { kill(process.processIdentifier, SIGKILL) }
            _ = await exited.wait(deadline: .seconds(5))
        }
        let output = Output(
            status: process.isRunning ? -1 : process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
        if timedOut {
            throw Failure(command: arguments, reason: "did not finish within \(deadline)", output: output)
        }
        if check && !output.succeeded {
            throw Failure(command: arguments, reason: "exited with status \(output.status)", output: output)
        }
        return output
    }

    /// Starts a long-running program with stdout and stderr appended to `logPath`.
    public static func launch(
        _ arguments: [String],
        logPath: String,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil
    ) throws -> RunningProcess {
        guard let executable = arguments.first.flatMap(find) else {
            throw Failure(command: arguments, reason: "not found on PATH")
        }
        return try RunningProcess(
            executable: executable,
            arguments: Array(arguments.dropFirst()),
            logPath: logPath,
            environment: environment,
            workingDirectory: workingDirectory
        )
    }
}

/// A one-shot signal that async code can wait on with a deadline; fired from
/// `Process.terminationHandler`, which runs on a Foundation thread.
final class ExitSignal: @unchecked Sendable {
    // @unchecked: `fired` and `waiters` are guarded by `lock`.
    private let lock = NSLock()
    private var fired = false
    private var waiters: [UUID: CheckedContinuation<Bool, Never>] = [:]
    /// Waits whose deadline passed before they registered.
    private var expired: Set<UUID> = []

    func fire() {
        lock.lock()
        fired = true
        let all = waiters.values
        waiters.removeAll()
        lock.unlock()
        for waiter in all { waiter.resume(returning: false) }
    }

    var hasFired: Bool {
        lock.lock()
        defer { lock.unlock() }
        return fired
    }

    /// Waits until fired (false) or until `deadline` passes (true: timed out).
    func wait(deadline: Duration) async -> Bool {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: deadline)
            self.timeOut(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            lock.lock()
            if fired {
                lock.unlock()
                continuation.resume(returning: false)
            } else if expired.remove(id) != nil {
                lock.unlock()
                continuation.resume(returning: true)
            } else {
                waiters[id] = continuation
                lock.unlock()
            }
        }
    }

    private func timeOut(_ id: UUID) {
        lock.lock()
        let waiter = waiters.removeValue(forKey: id)
        if waiter == nil && !fired { expired.insert(id) }
        lock.unlock()
        waiter?.resume(returning: true)
    }
}

import Synchronization

/// Runs `operation`, cancelling it and throwing `DeadlineExceeded` after `timeout`.
func withDeadline<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw DeadlineExceeded(timeout: timeout, what: "no answer")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Runs one inbound stream exchange under two deadlines: `operation` must
/// report its first authenticated frame (`FirstFrame.arrived()`) within
/// `first`, and finish within `overall`; it is cancelled otherwise.
///
/// The short first deadline is what frees a connection that sends nothing,
/// or drips bytes, without the key: it holds its slot (see
/// `StreamAdmission`) for `first`, not for the whole stream timeout.
func withStreamDeadlines<T: Sendable>(
    first: Duration, overall: Duration, _ operation: @escaping @Sendable (FirstFrame) async throws -> T
) async throws -> T {
    let firstFrame = FirstFrame()
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation(firstFrame) }
        group.addTask {
            let start = ContinuousClock.now
            try await Task.sleep(for: min(first, overall))
            guard firstFrame.hasArrived else { throw DeadlineExceeded(timeout: first, what: "no first authenticated frame") }
            try await Task.sleep(until: start + overall)
            throw DeadlineExceeded(timeout: overall, what: "exchange not finished")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Whether a stream's first authenticated frame has arrived (see `withStreamDeadlines`).
final class FirstFrame: Sendable {
    private let flag = Atomic<Bool>(false)

    func arrived() { flag.store(true, ordering: .releasing) }
    var hasArrived: Bool { flag.load(ordering: .acquiring) }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var timeout: Duration
    var what: String
    var description: String { "\(what) within \(timeout)" }
}

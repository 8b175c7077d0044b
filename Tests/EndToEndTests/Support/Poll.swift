import Foundation

/// Polls `condition` until it holds or `timeout` passes; returns the elapsed
/// time when it held, nil on timeout. Polling with a deadline, not sleeping
/// a fixed time, is how the tests wait for the system to reach a state.
func poll(
    timeout: Duration, every interval: Duration = .milliseconds(50), _ condition: () async -> Bool
) async -> Duration? {
    let start = ContinuousClock.now
    while true {
        if await condition() { return ContinuousClock.now - start }
        if ContinuousClock.now - start > timeout { return nil }
        try? await Task.sleep(for: interval)
    }
}

/// A temporary folder removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init(_ prefix: String = "gossip-mirror-test") throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        path = base.path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

import Foundation

/// The tests' one temporary directory: a fresh directory under `/tmp` (short
/// paths: unix socket paths are limited to 107 bytes), removed by `remove()`
/// or, at the latest, when the last reference to it goes. Keep it referenced
/// (or call `remove()` at the end) while processes still use the path.
public final class ScratchDirectory: Sendable {
    public let path: String

    public init(_ prefix: String = "gm-test") throws {
        let template = "/tmp/\(prefix)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw Subprocess.Failure(command: ["mkdtemp", template], reason: "failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    deinit { remove() }

    /// A path inside the directory.
    public func appending(_ component: String) -> String {
        path + "/" + component
    }

    /// Removes the directory and everything in it, ignoring errors.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

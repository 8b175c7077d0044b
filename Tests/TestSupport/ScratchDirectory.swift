import Foundation

/// A fresh directory under `/tmp` (short paths: unix socket paths are limited
/// to 107 bytes), removed by `remove()`.
public struct ScratchDirectory: Sendable {
    public let path: String

    public init(prefix: String) throws {
        let template = "/tmp/\(prefix)-XXXXXX"
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else {
            throw Subprocess.Failure(command: ["mkdtemp", template], reason: "failed: errno \(errno)")
        }
        path = String(cString: made)
    }

    /// A path inside the directory.
    public func appending(_ component: String) -> String {
        path + "/" + component
    }

    /// Removes the directory and everything in it, ignoring errors.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

import Foundation

/// Explains a failed connection by looking at the socket path itself, so an
/// operator reads "does not exist" or "permission denied" rather than a bare
/// gRPC `unavailable`.
enum ContainerdSocketCheck {
    /// The problem with `path`, or nil when it looks like a socket this process may use.
    static func problem(at path: String) -> ContainerdError? {
        let fileManager = FileManager.default
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try fileManager.attributesOfItem(atPath: path)
        } catch {
            // A directory on the way that this process may not search also hides
            // the socket: tell that apart from a socket that is really absent.
            let parent = (path as NSString).deletingLastPathComponent
            if fileManager.fileExists(atPath: parent), !fileManager.isExecutableFile(atPath: parent) {
                return .permissionDenied(path: path)
            }
            return .socketMissing(path: path)
        }
        if let type = attributes[.type] as? FileAttributeType, type != .typeSocket {
            return .notASocket(path: path)
        }
        // access(2) with W_OK: connecting to a unix socket needs write permission.
        if !fileManager.isWritableFile(atPath: path) {
            return .permissionDenied(path: path)
        }
        return nil
    }
}

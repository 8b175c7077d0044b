#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an OCI image layout, or a file in it, could not be read.
public enum OCILayoutError: Error, Hashable, Sendable, CustomStringConvertible {
    case notADirectory(String)
    /// `oci-layout` or `index.json` is missing or not what the image layout spec says.
    case notAnOCILayout(String)
    case fileNotFound(String)
    /// The path resolves (through a symbolic link) outside the layout.
    case escapesLayout(String)
    case tooLarge(String, size: Int64, limit: Int)
    /// A blob that is a link, not a regular file, or not of the expected size.
    case unservable(String, reason: BeneathError)
    case io(String, errno: Int32)

    public var description: String {
        switch self {
        case .notADirectory(let path): "not a directory: \(path)"
        case .notAnOCILayout(let why): "not an OCI image layout: \(why)"
        case .fileNotFound(let path): "no such file in the layout: \(path)"
        case .escapesLayout(let path): "refusing a path that leads outside the layout: \(path)"
        case .tooLarge(let path, let size, let limit): "\(path) is \(size) bytes, more than \(limit)"
        case .unservable(let path, let reason): "refusing to serve \(path): \(reason)"
        case .io(let path, let code): "\(path): \(String(cString: strerror(code)))"
        }
    }
}

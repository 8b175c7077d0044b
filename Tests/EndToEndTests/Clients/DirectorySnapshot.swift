import Foundation

/// Every entry below a directory with its type, permission bits and (for
/// files) bytes: equal snapshots mean the tree is byte for byte what it was.
struct DirectorySnapshot: Equatable, CustomStringConvertible {
    var entries: [String: String]

    init(_ root: String) {
        var entries: [String: String] = [:]
        let manager = FileManager.default
        for relative in (manager.enumerator(atPath: root)?.allObjects as? [String]) ?? [] {
            let path = root + "/" + relative
            let attributes = (try? manager.attributesOfItem(atPath: path)) ?? [:]
            let mode = String((attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1, radix: 8)
            switch attributes[.type] as? FileAttributeType {
            case .typeDirectory?: entries[relative] = "dir \(mode)"
            case .typeSymbolicLink?: entries[relative] = "link -> \((try? manager.destinationOfSymbolicLink(atPath: path)) ?? "?")"
            default:
                let bytes = manager.contents(atPath: path) ?? Data()
                entries[relative] = "file \(mode) \(bytes.count) bytes: \(bytes.base64EncodedString())"
            }
        }
        self.entries = entries
    }

    var description: String { entries.keys.sorted().map { "\($0): \(entries[$0]!.prefix(80))" }.joined(separator: "\n") }
}

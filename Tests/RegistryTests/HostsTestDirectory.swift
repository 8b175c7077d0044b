import Foundation
import Registry
import TestSupport

/// A scratch directory standing for a hosts directory (`/etc/containerd/certs.d`),
/// with helpers to write, read and fingerprint the files below it.
final class TemporaryHostsDirectory {
    private let scratch: ScratchDirectory
    var path: String { scratch.path }

    init() throws {
        scratch = try ScratchDirectory("hosts-config")
    }

    func url(_ components: String...) -> String {
        components.reduce(path) { $0 + "/" + $1 }
    }

    func write(_ text: String, to components: String..., mode: Int = 0o644) throws {
        let file = components.reduce(path) { $0 + "/" + $1 }
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
    }

    func read(_ components: String...) -> String? {
        let file = components.reduce(path) { $0 + "/" + $1 }
        return FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) }
    }

    func exists(_ components: String...) -> Bool {
        FileManager.default.fileExists(atPath: components.reduce(path) { $0 + "/" + $1 })
    }

    /// Every file and directory below the root with its bytes: a fingerprint
    /// to show that nothing changed.
    func snapshot() -> [String: String] {
        var result: [String: String] = [:]
        guard let walker = FileManager.default.enumerator(atPath: path) else { return result }
        while let relative = walker.nextObject() as? String {
            let full = path + "/" + relative
            var isDirectory: ObjCBool = false
            let attributes = try? FileManager.default.attributesOfItem(atPath: full)
            if (attributes?[.type] as? FileAttributeType) == .typeSymbolicLink {
                result[relative] = "-> " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: full)) ?? "?")
                walker.skipDescendants()
            } else if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), isDirectory.boolValue {
                result[relative] = "<dir>"
            } else {
                result[relative] = FileManager.default.contents(atPath: full).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            }
        }
        return result
    }

    func mode(_ components: String...) -> Int? {
        let attributes = try? FileManager.default.attributesOfItem(atPath: components.reduce(path) { $0 + "/" + $1 })
        return (attributes?[.posixPermissions] as? NSNumber)?.intValue
    }
}

let mirror = try! MirrorEndpoint(validating: "http://127.0.0.1:5000")

/// Settings for `registries` under `directory`, mirrored by `mirror` (or `mirrors`).
func hostsSettings(
    _ directory: TemporaryHostsDirectory, _ registries: [String], mirrors: [MirrorEndpoint] = [mirror], resolveTags: Bool = true
) throws -> HostsSettings {
    HostsSettings(
        hostsDirectory: directory.path, registries: try registries.map { try MirroredRegistry(validating: $0) },
        mirrors: mirrors, resolveTags: resolveTags)
}

/// A site's own hosts.toml: a pull-through cache tried before Docker Hub.
let foreignDockerHub = """
    server = "https://registry-1.docker.io"

    [host."https://corporate-mirror.example.com"]
      capabilities = ["pull", "resolve"]
      ca = "/etc/ssl/corporate.pem"

    """

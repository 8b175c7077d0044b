import Foundation

/// The source tree the tests run from, for the scripts and files they check.
enum Repository {
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }

    /// `BuildInfo.version`, read from the source as the release scripts do.
    static var version: String {
        let source = (try? String(contentsOfFile: "\(root)/Sources/gossip-mirror/Observability/BuildInfo.swift", encoding: .utf8)) ?? ""
        let line = source.split(separator: "\n").first { $0.contains("static let version = ") } ?? ""
        return line.split(separator: "\"").dropFirst().first.map(String.init) ?? "?"
    }
}

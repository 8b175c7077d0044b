import Foundation

/// Decides whether tests that drive real programs run here.
///
/// On a developer machine without the programs (or without root for
/// containerd), such tests are skipped with a message naming what is missing.
/// Under CI (`CI` set to anything but `false`/`0`) they always run, so a missing
/// install step fails loudly instead of passing silently.
///
/// Use with Swift Testing: `@Suite(.enabled(if: TestEnvironment.canRun(TestEnvironment.containerdTools)))`.
public enum TestEnvironment {
    /// What `ContainerdProcess` needs (Debian package `containerd`).
    public static let containerdTools = ["containerd", "ctr"]
    /// What `RegistryProcess` needs (Debian packages `docker-registry`, `skopeo`).
    public static let registryTools = ["docker-registry", "skopeo"]
    /// What `TestImageBuilder` needs (coreutils, gzip).
    public static let imageTools = ["sha256sum", "gzip"]

    public static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"]?.lowercased(), !value.isEmpty else { return false }
        return value != "false" && value != "0"
    }

    public static var isRoot: Bool { geteuid() == 0 }

    /// The programs of `tools` that are not on PATH.
    public static func missing(_ tools: [String]) -> [String] {
        tools.filter { Subprocess.find($0) == nil }
    }

    /// True when every tool is present (and root, if `needsRoot`), or under CI.
    /// Prints why when it returns false, so a skip is never silent.
    public static func canRun(_ tools: [String], needsRoot: Bool = false) -> Bool {
        if isCI { return true }
        let absent = missing(tools)
        var reasons: [String] = []
        if !absent.isEmpty { reasons.append("missing \(absent.joined(separator: ", "))") }
        if needsRoot && !isRoot { reasons.append("not running as root") }
        guard reasons.isEmpty else {
            print("TestSupport: skipping real-process tests: \(reasons.joined(separator: "; ")) (set CI=true to make them fail instead)")
            return false
        }
        return true
    }
}

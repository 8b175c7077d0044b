import Foundation

/// The configuration files of the daemons a test or the demo starts
/// (containerd, docker-registry), read from `scripts/cluster/templates/`:
/// the one description of a host that this harness and the demo's
/// `scripts/cluster/lib.sh` share, so that they cannot drift apart.
///
/// A template holds `@NAME@` placeholders; `render` replaces them and leaves
/// out the lines a caller does not want.
public enum DaemonTemplates {
    /// `scripts/cluster/templates` of the source tree the tests were built from.
    public static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/cluster/templates").path
    }

    /// The template `name` with every `@KEY@` of `values` replaced, without the
    /// lines for which `omit` is true. Throws if a placeholder is left.
    public static func render(
        _ name: String, _ values: [String: String], omit: (Substring) -> Bool = { _ in false }
    ) throws -> String {
        let path = directory + "/" + name
        var text = try String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !omit($0) }
            .joined(separator: "\n")
        for (key, value) in values { text = text.replacingOccurrences(of: "@\(key)@", with: value) }
        if let left = text.range(of: #"@[A-Z_]+@"#, options: .regularExpression) {
            throw Subprocess.Failure(command: ["render", path], reason: "left the placeholder \(text[left]) unset")
        }
        return text
    }

    /// The quoted names in the `disabled_plugins` list of `containerd.toml`.
    public static func containerdDisabledPlugins() throws -> [String] {
        try render("containerd.toml", ["ROOT": "", "STATE": "", "SOCKET": ""])
            .split(separator: "\n").compactMap(pluginName)
    }

    /// The plugin a `  "io.containerd.…",` line of a list names, else nil.
    static func pluginName(_ line: Substring) -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("\"io.containerd."), trimmed.hasSuffix("\",") else { return nil }
        return String(trimmed.dropFirst().dropLast(2))
    }
}

/// Reads containerd's `config.toml` (never writes it) to tell whether
/// containerd will read the hosts directory, naming the key that the
/// file's config version uses:
///
/// | config version | containerd | key |
/// | --- | --- | --- |
/// | 1 (no `version`) | 1.x | `[plugins.cri.registry] config_path` |
/// | 2 | 1.x, 2.x (migrated) | `[plugins."io.containerd.grpc.v1.cri".registry] config_path` |
/// | 3 | 2.x | `[plugins.'io.containerd.cri.v1.images'.registry] config_path` |
///
/// containerd 2.1 and later pull for the CRI through the transfer service
/// unless `use_local_image_pull = true`; that path takes `config_path` as
/// one directory, so a list (`a:b`, as EKS writes) is not read there
/// (containerd issue 12415).
public enum ContainerdConfigCheck {
    public static let defaultConfigFile = "/etc/containerd/config.toml"

    /// What an operator should change for containerd to read `hostsDirectory`;
    /// empty when the file is missing or already right.
    public static func notes(configFile: String, hostsDirectory: String) -> [String] {
        guard let bytes = try? ConfigFileSystem.read(configFile), let outline = try? TOMLOutline(bytes) else { return [] }
        let version = outline.root.keys.first { $0.path == ["version"] }.flatMap { Int($0.raw) } ?? 1
        let imagesTable: [String]
        switch version {
        case 1: imagesTable = ["plugins", "cri"]
        case 2: imagesTable = ["plugins", "io.containerd.grpc.v1.cri"]
        default: imagesTable = ["plugins", "io.containerd.cri.v1.images"]
        }
        let registryTable = imagesTable + ["registry"]
        let configPath = value(of: "config_path", in: registryTable, outline)?.string
        let quote = version >= 3 ? "'" : "\""
        let header = "[" + registryTable.map { $0.contains(".") ? quote + $0 + quote : $0 }.joined(separator: ".") + "]"
        var notes: [String] = []
        let directories = configPath.map { $0.split(separator: ":").map { Self.trimmingSlash(String($0)) } } ?? []
        if !directories.contains(trimmingSlash(hostsDirectory)) {
            let found = configPath.map { "config_path = \"\($0)\"" } ?? "no config_path"
            let imports = outline.root.keys.contains { $0.path == ["imports"] } ? " (or in a file it imports)" : ""
            notes.append(
                "\(configFile) (config version \(version)) has \(found) for the CRI registry\(imports): containerd reads "
                    + "these hosts.toml files only with \(header) config_path = \"\(hostsDirectory)\" (then restart containerd once)")
        }
        if version >= 3, directories.count > 1,
            value(of: "use_local_image_pull", in: imagesTable, outline)?.raw != "true"
        {
            notes.append(
                "\(configFile): containerd 2.1+ pulls for the CRI through the transfer service, which reads config_path as one "
                    + "directory, not the list \"\(configPath ?? "")\": give one directory, or set use_local_image_pull = true in "
                    + "[plugins.'io.containerd.cri.v1.images']")
        }
        return notes
    }

    /// `key` in the table `path`, written as a table header or as dotted keys above it.
    private static func value(of key: String, in path: [String], _ outline: TOMLOutline) -> TOMLOutline.Key? {
        for table in [outline.root] + outline.tables where path.starts(with: table.header) {
            let wanted = Array(path.dropFirst(table.header.count)) + [key]
            if let found = table.keys.first(where: { $0.path == wanted }) { return found }
        }
        return nil
    }

    private static func trimmingSlash(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}

/// What writing the `hosts.toml` files would do, worked out without changing
/// anything: one `HostsChange` per registry. Bad input and unusable
/// directories fail here, before anything is written.
///
/// - A directory's `hosts.toml` that gossip-mirror did not write is kept:
///   its entries follow the mirrors in the new file, and the file itself is
///   moved aside to `hosts.toml.gossip-mirror.bak` (a hard link: same bytes,
///   mode, owner and times), which cleanup renames back.
/// - Files gossip-mirror wrote carry a marker comment that records what to
///   undo (a backup, a directory it created), so re-running is idempotent
///   and cleanup needs no other state.
public struct HostsPlan: Sendable, Equatable {
    public var settings: HostsSettings
    public var changes: [HostsChange]

    public init(_ settings: HostsSettings) throws(ClientConfigError) {
        try Self.preflight(settings)
        self.settings = settings
        var changes: [HostsChange] = []
        for registry in settings.registries { changes.append(try Self.inspect(registry, settings)) }
        self.changes = changes
    }

    static func preflight(_ settings: HostsSettings) throws(ClientConfigError) {
        guard !settings.registries.isEmpty else { throw .noRegistries }
        guard !settings.mirrors.isEmpty else { throw .invalidMirrorURL("", reason: "no mirror URL given") }
        switch try ConfigFileSystem.kind(settings.hostsDirectory, followLinks: true) {
        case .directory: break
        case .missing: throw .hostsDirectoryMissing(settings.hostsDirectory)
        default: throw .notADirectory(settings.hostsDirectory)
        }
    }

    /// The directory containerd reads for `registry`: `host_port_` when that
    /// spelling already exists (containerd looks there first), else the name.
    static func directory(for registry: MirroredRegistry, in hostsDirectory: String) throws(ClientConfigError) -> String {
        if let alternate = registry.alternateDirectoryName {
            let path = ConfigFileSystem.join(hostsDirectory, alternate)
            if try ConfigFileSystem.kind(path, followLinks: true) == .directory { return path }
        }
        return ConfigFileSystem.join(hostsDirectory, registry.name)
    }

    /// What writing `registry`'s file does now (`HostsTransaction` asks again
    /// right before acting).
    static func inspect(_ registry: MirroredRegistry, _ settings: HostsSettings) throws(ClientConfigError) -> HostsChange {
        let directory = try directory(for: registry, in: settings.hostsDirectory)
        let createsDirectory: Bool
        switch try ConfigFileSystem.kind(directory, followLinks: true) {
        case .missing:
            createsDirectory = true
            try ConfigFileSystem.checkWritable(settings.hostsDirectory)
        case .directory:
            createsDirectory = false
            try ConfigFileSystem.checkWritable(directory)
        default:
            throw .notADirectory(directory)
        }
        var file = settings.file(for: registry)
        var change = HostsChange(registry: registry, directory: directory, action: .unchanged, file: file, notes: [])
        let path = change.path
        let backupPath = change.backupPath
        var backupExists = false
        if !createsDirectory { backupExists = try ConfigFileSystem.kind(backupPath, followLinks: false) != .missing }
        if !createsDirectory { file.certificates = DockerCertificates(fileNames: try ConfigFileSystem.list(directory)) }
        switch try ConfigFileSystem.kind(path, followLinks: false) {
        case .missing:
            file.state = HostsFile.State(backup: false, createdDirectory: createsDirectory)
            change.action = .create(directory: createsDirectory)
            if backupExists { change.notes.append(HostsMessages.staleBackup(backupPath)) }
            if !registry.isCatchAll, createsDirectory {
                let catchAll = ConfigFileSystem.join(
                    ConfigFileSystem.join(settings.hostsDirectory, MirroredRegistry.catchAllName), HostsFile.fileName)
                if let bytes = try ConfigFileSystem.read(catchAll), HostsFile.state(of: bytes) == nil {
                    change.notes.append(HostsMessages.catchAllStopsApplying(catchAll, registry: registry))
                }
            }
        case .directory, .other:
            throw .notAFile(path)
        case .regularFile, .symbolicLink:
            let bytes = try ConfigFileSystem.read(path) ?? []
            if let state = HostsFile.state(of: bytes) {
                file.state = state
                if state.backup {
                    // The kept entries come from the original, not from our own copy of them.
                    guard let original = try ConfigFileSystem.read(backupPath) else { throw .backupMissing(path: path, backup: backupPath) }
                    file.existing = try keep(original, path: path, settings)
                }
                change.action = file.bytes == bytes ? .unchanged : .update
            } else {
                file.state = HostsFile.State(backup: true, createdDirectory: false)
                file.existing = try keep(bytes, path: path, settings)
                change.action = .replace(replacingOlderBackup: backupExists)
                change.notes.append(HostsMessages.keptEntries(file.existing!, path: path))
                if backupExists { change.notes.append(HostsMessages.olderBackupSuperseded) }
            }
        }
        if change.action != .unchanged {
            if file.existing == nil, !file.certificates.isEmpty, !file.plainHTTP {
                change.notes.append(HostsMessages.certificatesNamed(directory))
            }
            if file.existing?.hasServer == true, file.plainHTTP { change.notes.append(HostsMessages.keptServer(path)) }
        }
        change.file = file
        return change
    }

    /// `bytes` (the file at `path`, or its backup) as entries to keep.
    private static func keep(_ bytes: [UInt8], path: String, _ settings: HostsSettings) throws(ClientConfigError) -> ExistingHostsFile {
        let existing = try ExistingHostsFile(bytes: bytes, path: path)
        if let listed = settings.mirrors.first(where: existing.lists) { throw .mirrorAlreadyListed(path: path, url: listed.url) }
        return existing
    }
}

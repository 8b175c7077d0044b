/// Points containerd at the local mirror by writing
/// `<hosts dir>/<registry>/hosts.toml` for each mirrored registry, and puts
/// back what was there before.
///
/// - A directory's `hosts.toml` that gossip-mirror did not write is moved
///   aside to `hosts.toml.gossip-mirror.bak` (a hard link: same bytes, mode,
///   owner and times) before being replaced; restoring renames it back.
/// - Files gossip-mirror wrote carry a marker comment that records what to
///   undo (a backup, a directory it created), so re-running is idempotent
///   and `cleanup` needs no other state.
/// - A file without the marker is never modified or removed by `restore`
///   or `cleanup`.
/// - Every write is atomic (temporary file, fsync, rename, directory fsync).
/// - Inputs and directories are checked before anything is written; if a
///   write still fails, what this call already wrote is undone.
public struct HostsConfigurator: Sendable {
    public var hostsDirectory: String
    public var registries: [MirroredRegistry]
    public var mirror: MirrorEndpoint
    public var resolveTags: Bool
    /// Registries whose upstream speaks plain HTTP (they are mirrored too).
    public var plainHTTPRegistries: Set<MirroredRegistry>

    public init(
        hostsDirectory: String, registries: [MirroredRegistry] = MirroredRegistry.defaults,
        mirror: MirrorEndpoint, resolveTags: Bool = true, plainHTTPRegistries: [MirroredRegistry] = []
    ) {
        self.hostsDirectory = hostsDirectory
        var seen = Set<MirroredRegistry>()
        self.registries = (registries + plainHTTPRegistries).filter { seen.insert($0).inserted }
        self.mirror = mirror
        self.resolveTags = resolveTags
        self.plainHTTPRegistries = Set(plainHTTPRegistries)
    }

    /// The registries named on a command line, validated: `names` (the
    /// common public registries when none are named) and `plainHTTPNames`
    /// (see `MirroredRegistry.init(validatingPlainHTTP:)`).
    public static func registries(
        named names: [String], plainHTTP plainHTTPNames: [String]
    ) throws(HostsConfigError) -> (registries: [MirroredRegistry], plainHTTP: [MirroredRegistry]) {
        let named = try names.map { name throws(HostsConfigError) in try MirroredRegistry(validating: name) }
        let plainHTTP = try plainHTTPNames.map { name throws(HostsConfigError) in try MirroredRegistry(validatingPlainHTTP: name) }
        return (named.isEmpty ? MirroredRegistry.defaults : named, plainHTTP)
    }

    /// What `apply` would do (or did) for one registry.
    public struct Change: Sendable, Equatable {
        public enum Action: Sendable, Equatable {
            /// A new file; `directory` if its directory is created too.
            case create(directory: Bool)
            /// Someone else's file moved to the backup name, then replaced.
            /// `replacingOlderBackup`: a backup from an earlier run was
            /// superseded by this newer foreign file.
            case replace(replacingOlderBackup: Bool)
            /// A file gossip-mirror wrote earlier, with different content.
            case update
            case unchanged
        }

        public var registry: MirroredRegistry
        public var directory: String
        public var action: Action
        public var file: HostsFile
        /// Things an operator should know (what is not carried over, what stops applying).
        public var notes: [String]

        public var path: String { HostsFileSystem.join(directory, HostsFile.fileName) }
        public var backupPath: String { HostsFileSystem.join(directory, HostsFile.backupFileName) }

        public var summary: String {
            switch action {
            case .create(directory: true): return "create \(path) (and its directory)"
            case .create: return "create \(path)"
            case .replace: return "replace \(path) (previous file kept as \(HostsFile.backupFileName))"
            case .update: return "update \(path)"
            case .unchanged: return "\(path) is already up to date"
            }
        }
    }

    /// What `restore`/`cleanup` did (or would do) in one registry directory.
    public struct Outcome: Sendable, Equatable {
        public enum Action: Sendable, Equatable {
            /// The file that was there before gossip-mirror's was put back.
            case restoredBackup
            /// gossip-mirror's file removed, and its directory if gossip-mirror
            /// had created it and it was empty.
            case removed(directory: Bool)
            /// The marker says there was a backup, but it is gone: gossip-mirror's
            /// file was removed and nothing could be put back.
            case removedBackupMissing
            /// The file there is not gossip-mirror's: left alone.
            case notOurs
            /// No `hosts.toml` there.
            case nothing
            case failed(HostsConfigError)
        }

        public var directory: String
        public var action: Action

        public var path: String { HostsFileSystem.join(directory, HostsFile.fileName) }

        public var summary: String {
            switch action {
            case .restoredBackup: return "restored \(path) from \(HostsFile.backupFileName)"
            case .removed(directory: true): return "removed \(path) and its directory"
            case .removed: return "removed \(path)"
            case .removedBackupMissing: return "removed \(path); its backup \(HostsFile.backupFileName) was missing, nothing to put back"
            case .notOurs: return "left \(path) alone (not written by gossip-mirror)"
            case .nothing: return "no hosts.toml in \(directory)"
            case let .failed(error): return "could not restore \(path): \(error)"
            }
        }

        /// The same, for a dry run: what would be done.
        public var plannedSummary: String {
            switch action {
            case .restoredBackup: return "would restore \(path) from \(HostsFile.backupFileName)"
            case .removed(directory: true): return "would remove \(path) and its directory"
            case .removed: return "would remove \(path)"
            case .removedBackupMissing: return "would remove \(path); its backup \(HostsFile.backupFileName) is missing"
            default: return summary
            }
        }

        /// Whether gossip-mirror had something to undo here.
        public var touchedOurFile: Bool {
            switch action {
            case .notOurs, .nothing: return false
            default: return true
            }
        }
    }

    /// What `apply` returns: enough to undo it later (on SIGTERM, say).
    public struct Restoration: Sendable, Equatable {
        public var hostsDirectory: String
        /// Every registry directory `apply` covered, including unchanged ones.
        public var directories: [String]
        public var changes: [Change]

        /// Restores every directory `apply` covered: gossip-mirror's files
        /// are removed or replaced by their backups; files that are no longer
        /// gossip-mirror's (someone rewrote them since) are left alone.
        /// Idempotent.
        public func restore() -> [Outcome] {
            directories.map { HostsConfigurator.restoreDirectory($0, dryRun: false) }
        }
    }

    // MARK: - Apply

    /// What `apply` would do, without changing anything. Fails on the same
    /// bad inputs and unusable directories as `apply`.
    public func plan() throws(HostsConfigError) -> [Change] {
        try preflight()
        var changes: [Change] = []
        for registry in registries { changes.append(try inspect(registry)) }
        return changes
    }

    /// Writes the files. On failure, files this call wrote are restored and
    /// the error says so (`rolledBack`).
    public func apply() throws(HostsConfigError) -> Restoration {
        // Check everything first, so bad input changes nothing.
        _ = try plan()
        var changes: [Change] = []
        var undo: [(Change, [UInt8]?)] = []
        for registry in registries {
            do throws(HostsConfigError) {
                // Inspect again right before acting: the plan may be a moment old.
                let change = try inspect(registry)
                let previous = change.action == .update ? try HostsFileSystem.read(change.path) : nil
                try execute(change)
                changes.append(change)
                if change.action != .unchanged { undo.append((change, previous)) }
            } catch {
                if undo.isEmpty { throw error }
                var leftBehind: [String] = []
                for (change, previous) in undo.reversed() where !Self.undo(change, previous: previous) {
                    leftBehind.append(change.path)
                }
                throw .rolledBack(error, leftBehind: leftBehind)
            }
        }
        return Restoration(hostsDirectory: hostsDirectory, directories: changes.map(\.directory), changes: changes)
    }

    private func preflight() throws(HostsConfigError) {
        guard !registries.isEmpty else { throw .noRegistries }
        switch try HostsFileSystem.kind(hostsDirectory, followLinks: true) {
        case .directory: break
        case .missing: throw .hostsDirectoryMissing(hostsDirectory)
        default: throw .notADirectory(hostsDirectory)
        }
    }

    /// The directory containerd reads for `registry`: `host_port_` when that
    /// spelling already exists (containerd looks there first), else the name.
    private func directory(for registry: MirroredRegistry) throws(HostsConfigError) -> String {
        if let alternate = registry.alternateDirectoryName {
            let path = HostsFileSystem.join(hostsDirectory, alternate)
            if try HostsFileSystem.kind(path, followLinks: true) == .directory { return path }
        }
        return HostsFileSystem.join(hostsDirectory, registry.name)
    }

    private func inspect(_ registry: MirroredRegistry) throws(HostsConfigError) -> Change {
        let directory = try directory(for: registry)
        let createsDirectory: Bool
        switch try HostsFileSystem.kind(directory, followLinks: true) {
        case .missing:
            createsDirectory = true
            try HostsFileSystem.checkWritable(hostsDirectory)
        case .directory:
            createsDirectory = false
            try HostsFileSystem.checkWritable(directory)
        default:
            throw .notADirectory(directory)
        }
        var file = HostsFile(
            registry: registry, mirror: mirror, resolveTags: resolveTags, plainHTTP: plainHTTPRegistries.contains(registry))
        var notes: [String] = []
        let path = HostsFileSystem.join(directory, HostsFile.fileName)
        let backupPath = HostsFileSystem.join(directory, HostsFile.backupFileName)
        var backupExists = false
        if !createsDirectory {
            let names = try HostsFileSystem.list(directory)
            file.certificates = HostsFile.Certificates(fileNames: names)
            backupExists = try HostsFileSystem.kind(backupPath, followLinks: false) != .missing
        }
        let action: Change.Action
        switch try HostsFileSystem.kind(path, followLinks: false) {
        case .missing:
            file.state = HostsFile.State(backup: false, createdDirectory: createsDirectory)
            action = .create(directory: createsDirectory)
            if backupExists {
                notes.append("\(backupPath) is left from an earlier run whose hosts.toml was removed by hand; it is left alone")
            }
            if !registry.isCatchAll {
                let catchAll = HostsFileSystem.join(HostsFileSystem.join(hostsDirectory, MirroredRegistry.catchAllName), HostsFile.fileName)
                if createsDirectory, let bytes = try HostsFileSystem.read(catchAll), HostsFile.state(of: bytes) == nil {
                    notes.append("\(catchAll) no longer applies to \(registry) while this directory exists")
                }
            }
        case .directory, .other:
            throw .notAFile(path)
        case .regularFile, .symbolicLink:
            let bytes = try HostsFileSystem.read(path)
            if let bytes, let state = HostsFile.state(of: bytes) {
                file.state = state
                action = file.bytes == bytes ? .unchanged : .update
            } else {
                file.state = HostsFile.State(backup: true, createdDirectory: false)
                action = .replace(replacingOlderBackup: backupExists)
                notes.append(
                    "the existing \(path) is not gossip-mirror's: it is kept as \(HostsFile.backupFileName) and put back by cleanup; "
                        + "its settings (other mirrors, ca, client, skip_verify, headers) do not apply meanwhile")
                if backupExists {
                    notes.append("an older \(HostsFile.backupFileName) is replaced by this newer file")
                }
            }
        }
        if !file.certificates.isEmpty, action != .unchanged {
            notes.append("the certificate files in \(directory) are named in the new file, so TLS to the upstream keeps using them")
        }
        return Change(registry: registry, directory: directory, action: action, file: file, notes: notes)
    }

    private func execute(_ change: Change) throws(HostsConfigError) {
        switch change.action {
        case .unchanged:
            return
        case .create(directory: true):
            try HostsFileSystem.makeDirectory(change.directory)
            do throws(HostsConfigError) {
                try HostsFileSystem.writeAtomically(change.file.bytes, to: change.path)
            } catch {
                _ = HostsFileSystem.removeDirectoryIfEmpty(change.directory)
                throw error
            }
        case .create(directory: false), .update:
            try HostsFileSystem.writeAtomically(change.file.bytes, to: change.path)
        case .replace:
            try HostsFileSystem.preserve(change.path, as: change.backupPath)
            do throws(HostsConfigError) {
                try HostsFileSystem.writeAtomically(change.file.bytes, to: change.path)
            } catch {
                // The original is still in place; drop the fresh backup link.
                try? HostsFileSystem.remove(change.backupPath)
                throw error
            }
        }
    }

    /// Undoes one executed change; reports whether that worked.
    private static func undo(_ change: Change, previous: [UInt8]?) -> Bool {
        do {
            switch change.action {
            case .unchanged:
                return true
            case .create(directory: let createdDirectory):
                try HostsFileSystem.remove(change.path)
                if createdDirectory { _ = HostsFileSystem.removeDirectoryIfEmpty(change.directory) }
            case .replace:
                // Puts the foreign file back. (When it had superseded an older
                // backup, that older one stays superseded: the newer file wins.)
                try HostsFileSystem.rename(change.backupPath, to: change.path)
            case .update:
                if let previous { try HostsFileSystem.writeAtomically(previous, to: change.path) }
            }
            return true
        } catch {
            return false
        }
    }

    // MARK: - Restore

    /// Restores every `hosts.toml` gossip-mirror wrote under `hostsDirectory`,
    /// whichever registries they were for. Returns one outcome per directory
    /// where gossip-mirror had something to undo. A missing `hostsDirectory`
    /// means there is nothing to do.
    public static func cleanup(hostsDirectory: String, dryRun: Bool = false) throws(HostsConfigError) -> [Outcome] {
        switch try HostsFileSystem.kind(hostsDirectory, followLinks: true) {
        case .missing: return []
        case .directory: break
        default: throw .notADirectory(hostsDirectory)
        }
        var outcomes: [Outcome] = []
        for name in try HostsFileSystem.list(hostsDirectory) {
            let directory = HostsFileSystem.join(hostsDirectory, name)
            guard (try? HostsFileSystem.kind(directory, followLinks: true)) == .directory else { continue }
            if !dryRun { removeTemporaryFiles(in: directory) }
            let outcome = restoreDirectory(directory, dryRun: dryRun)
            if outcome.touchedOurFile { outcomes.append(outcome) }
        }
        return outcomes
    }

    static func restoreDirectory(_ directory: String, dryRun: Bool) -> Outcome {
        let path = HostsFileSystem.join(directory, HostsFile.fileName)
        let backupPath = HostsFileSystem.join(directory, HostsFile.backupFileName)
        do throws(HostsConfigError) {
            guard try HostsFileSystem.kind(path, followLinks: false) != .missing else {
                return Outcome(directory: directory, action: .nothing)
            }
            guard let bytes = try? HostsFileSystem.read(path), let state = HostsFile.state(of: bytes) else {
                return Outcome(directory: directory, action: .notOurs)
            }
            if state.backup, try HostsFileSystem.kind(backupPath, followLinks: false) != .missing {
                if !dryRun { try HostsFileSystem.rename(backupPath, to: path) }
                return Outcome(directory: directory, action: .restoredBackup)
            }
            if !dryRun { try HostsFileSystem.remove(path) }
            var removedDirectory = false
            if state.createdDirectory {
                if dryRun {
                    removedDirectory = (try HostsFileSystem.list(directory)) == [HostsFile.fileName]
                } else {
                    removedDirectory = HostsFileSystem.removeDirectoryIfEmpty(directory)
                }
            }
            return Outcome(directory: directory, action: state.backup ? .removedBackupMissing : .removed(directory: removedDirectory))
        } catch {
            return Outcome(directory: directory, action: .failed(error))
        }
    }

    /// Leftovers of a write interrupted by a crash (`.gossip-mirror-*.tmp`).
    private static func removeTemporaryFiles(in directory: String) {
        guard let names = try? HostsFileSystem.list(directory) else { return }
        for name in names where name.hasPrefix(HostsFileSystem.temporaryPrefix) && name.hasSuffix(".tmp") {
            try? HostsFileSystem.remove(HostsFileSystem.join(directory, name))
        }
    }
}

/// What writing one registry's `hosts.toml` does (or would do).
public struct HostsChange: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// A new file; `directory` if its directory is created too.
        case create(directory: Bool)
        /// Someone else's file moved to the backup name and replaced by one
        /// that keeps its entries after the mirrors. `replacingOlderBackup`:
        /// a backup from an earlier run was superseded by this newer foreign file.
        case replace(replacingOlderBackup: Bool)
        /// A file gossip-mirror wrote earlier, with different content.
        case update
        case unchanged
    }

    public var registry: MirroredRegistry
    public var directory: String
    public var action: Action
    public var file: HostsFile
    /// Things an operator should know (what stops applying, what is kept).
    public var notes: [String]

    public var path: String { ConfigFileSystem.join(directory, HostsFile.fileName) }
    public var backupPath: String { ConfigFileSystem.join(directory, HostsFile.backupFileName) }

    /// "would create …" / "created …".
    public func summary(_ tense: ChangeTense) -> String { HostsMessages.describe(self, tense) }
}

/// What restoring one registry directory did (or would do).
public struct HostsOutcome: Sendable, Equatable {
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
        case failed(ClientConfigError)
    }

    public var directory: String
    public var action: Action

    public var path: String { ConfigFileSystem.join(directory, HostsFile.fileName) }

    /// "would restore …" / "restored …".
    public func summary(_ tense: ChangeTense) -> String { HostsMessages.describe(self, tense) }

    /// Whether gossip-mirror had something to undo here.
    public var touchedOurFile: Bool {
        switch action {
        case .notOurs, .nothing: return false
        default: return true
        }
    }

    public var failed: Bool {
        if case .failed = action { return true }
        return false
    }
}

/// Writes, and removes again, gossip-mirror's drop-in for containers/image
/// clients. One file, written atomically; a file of that name that
/// gossip-mirror did not write is never touched.
public enum RegistriesDropInWriter {
    public struct Settings: Sendable, Equatable {
        /// `/etc/containers/registries.conf.d` (root), or
        /// `$HOME/.config/containers/registries.conf.d` for one user.
        public var directory: String
        /// The main `registries.conf`, read for entries to carry (nil: none).
        public var mainFile: String?
        public var registries: [MirroredRegistry]
        public var mirrors: [MirrorEndpoint]
        public var resolveTags: Bool

        public init(
            directory: String, mainFile: String?, registries: [MirroredRegistry] = MirroredRegistry.defaults,
            mirrors: [MirrorEndpoint], resolveTags: Bool = true
        ) {
            self.directory = directory
            self.mainFile = mainFile
            self.registries = registries
            self.mirrors = mirrors
            self.resolveTags = resolveTags
        }

        public var path: String { ConfigFileSystem.join(directory, RegistriesDropIn.fileName) }
    }

    public enum Action: Sendable, Equatable {
        case create(directory: Bool)
        case update
        case unchanged
    }

    /// What writing the drop-in does (or would do).
    public struct Change: Sendable, Equatable {
        public var path: String
        public var action: Action
        public var file: RegistriesDropIn
        public var notes: [String]

        public func summary(_ tense: ChangeTense) -> String {
            switch (action, tense) {
            case (.create(directory: true), .planned): return "would create \(path) (and its directory)"
            case (.create(directory: true), .done): return "created \(path) (and its directory)"
            case (.create, .planned): return "would create \(path)"
            case (.create, .done): return "created \(path)"
            case (.update, .planned): return "would update \(path)"
            case (.update, .done): return "updated \(path)"
            case (.unchanged, _): return "\(path) is already up to date"
            }
        }
    }

    /// What writing the drop-in would do; bad input and unusable directories fail here.
    public static func plan(_ settings: Settings) throws(ClientConfigError) -> Change {
        guard !settings.registries.isEmpty else { throw .noRegistries }
        guard !settings.mirrors.isEmpty else { throw .invalidMirrorURL("", reason: "no mirror URL given") }
        for registry in settings.registries {
            if let reason = registry.containersPathProblem { throw .invalidRegistry(registry.name, reason: reason) }
        }
        let createsDirectory: Bool
        switch try ConfigFileSystem.kind(settings.directory, followLinks: true) {
        case .directory:
            createsDirectory = false
            try ConfigFileSystem.checkWritable(settings.directory)
        case .missing:
            let parent = parentDirectory(settings.directory)
            guard try ConfigFileSystem.kind(parent, followLinks: true) == .directory else {
                throw .dropInDirectoryMissing(settings.directory)
            }
            createsDirectory = true
            try ConfigFileSystem.checkWritable(parent)
        default:
            throw .notADirectory(settings.directory)
        }
        var file = RegistriesDropIn(
            registries: settings.registries, mirrors: settings.mirrors, resolveTags: settings.resolveTags,
            state: .init(createdDirectory: createsDirectory))
        var action = Action.create(directory: createsDirectory)
        var notes: [String] = []
        if !createsDirectory {
            switch try ConfigFileSystem.kind(settings.path, followLinks: false) {
            case .missing: break
            case .regularFile, .symbolicLink:
                let bytes = try ConfigFileSystem.read(settings.path) ?? []
                guard let state = RegistriesDropIn.state(of: bytes) else { throw .foreignFile(settings.path) }
                file.state = state
                action = .update
            default:
                throw .notAFile(settings.path)
            }
        }
        // Entries in force before ours: the main file, then the drop-ins that load before ours.
        let dropIns = ExistingRegistryEntries.dropIns(in: settings.directory).filter { $0 != settings.path }
        let before = dropIns.filter { $0 < settings.path }
        let existing = try ExistingRegistryEntries(files: (settings.mainFile.map { [$0] } ?? []) + before)
        let later = try ExistingRegistryEntries(files: dropIns.filter { !before.contains($0) })
        for registry in settings.registries {
            if let entry = existing.entries[registry.name] {
                if entry.hasInlineMirrors {
                    throw .cannotCarry(
                        path: entry.source,
                        reason: "the [[registry]] entry for \(registry) lists its mirrors inline (mirror = [...]), which cannot "
                            + "be followed by gossip-mirror's: write them as [[registry.mirror]] tables")
                }
                file.carried[registry.name] = entry
                notes.append("\(registry): the entry of \(entry.source) is carried into the drop-in, its mirrors after gossip-mirror's; re-run configure-containers after editing it")
            }
            if let entry = later.entries[registry.name] {
                notes.append("\(registry): \(entry.source) loads after \(RegistriesDropIn.fileName) and replaces its entry: gossip-mirror is not used for \(registry)")
            }
            for (prefix, entry) in existing.entries where prefix.hasPrefix(registry.name + "/") {
                notes.append("\(prefix) (\(entry.source)) is more specific than \(registry) and stays in force for its images, without gossip-mirror")
            }
        }
        if action == .update, try ConfigFileSystem.read(settings.path) == file.bytes { action = .unchanged }
        return Change(path: settings.path, action: action, file: file, notes: notes.sorted())
    }

    /// Writes the drop-in (atomically).
    @discardableResult
    public static func apply(_ settings: Settings) throws(ClientConfigError) -> Change {
        let change = try plan(settings)
        switch change.action {
        case .unchanged: break
        case .create(directory: true):
            try ConfigFileSystem.makeDirectory(settings.directory)
            do throws(ClientConfigError) { try ConfigFileSystem.writeAtomically(change.file.bytes, to: change.path) } catch {
                _ = ConfigFileSystem.removeDirectoryIfEmpty(settings.directory)
                throw error
            }
        case .create, .update:
            try ConfigFileSystem.writeAtomically(change.file.bytes, to: change.path)
        }
        return change
    }

    public enum Outcome: Sendable, Equatable {
        case removed(directory: Bool)
        case notOurs
        case nothing

        public func summary(path: String, _ tense: ChangeTense) -> String {
            switch (self, tense) {
            case (.removed(directory: true), .planned): return "would remove \(path) and its directory"
            case (.removed(directory: true), .done): return "removed \(path) and its directory"
            case (.removed, .planned): return "would remove \(path)"
            case (.removed, .done): return "removed \(path)"
            case (.notOurs, _): return "left \(path) alone (not written by gossip-mirror)"
            case (.nothing, _): return "no \(RegistriesDropIn.fileName) in \(parentDirectory(path))"
            }
        }
    }

    /// Removes gossip-mirror's drop-in from `directory` (and the directory,
    /// if gossip-mirror created it and it is empty now). A missing directory
    /// or file means there is nothing to do.
    public static func cleanup(directory: String, dryRun: Bool = false) throws(ClientConfigError) -> Outcome {
        switch try ConfigFileSystem.kind(directory, followLinks: true) {
        case .missing: return .nothing
        case .directory: break
        default: throw .notADirectory(directory)
        }
        let path = ConfigFileSystem.join(directory, RegistriesDropIn.fileName)
        guard try ConfigFileSystem.kind(path, followLinks: false) != .missing else { return .nothing }
        guard let bytes = try? ConfigFileSystem.read(path), let state = RegistriesDropIn.state(of: bytes) else { return .notOurs }
        if dryRun {
            let onlyFile = try ConfigFileSystem.list(directory) == [RegistriesDropIn.fileName]
            return .removed(directory: state.createdDirectory && onlyFile)
        }
        ConfigFileSystem.removeTemporaryFiles(in: directory)
        try ConfigFileSystem.remove(path)
        return .removed(directory: state.createdDirectory && ConfigFileSystem.removeDirectoryIfEmpty(directory))
    }

    static func parentDirectory(_ path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }
}

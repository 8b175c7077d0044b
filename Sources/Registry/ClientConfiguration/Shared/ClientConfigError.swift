/// What went wrong while pointing a client at the mirror (writing or
/// restoring `hosts.toml` files or the containers/image drop-in). Every
/// description names the path or the input at fault and, where there is
/// one, what to do about it.
public enum ClientConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidRegistry(String, reason: String)
    case invalidMirrorURL(String, reason: String)
    case duplicateMirrorURL(String)
    case noRegistries
    case hostsDirectoryMissing(String)
    case dropInDirectoryMissing(String)
    case notADirectory(String)
    case notAFile(String)
    case notWritable(String, errno: Int32)
    case io(operation: String, path: String, errno: Int32)
    /// Someone else's `hosts.toml` (or registries.conf) cannot be read as
    /// TOML, so its entries cannot be kept beside the mirror's.
    case unreadableExistingFile(String, line: Int, reason: String)
    /// An existing registries.conf entry cannot be carried into the drop-in.
    case cannotCarry(path: String, reason: String)
    /// The existing `hosts.toml` already has a `[host."…"]` entry for a
    /// mirror URL gossip-mirror would add: TOML forbids the same table twice.
    case mirrorAlreadyListed(path: String, url: String)
    /// gossip-mirror's file says it replaced another one, whose backup is gone.
    case backupMissing(path: String, backup: String)
    /// A file of the drop-in's name exists and is not gossip-mirror's.
    case foreignFile(String)
    /// A write failed part-way; the files written before it were restored.
    indirect case rolledBack(ClientConfigError, leftBehind: [String])

    public var description: String {
        switch self {
        case let .invalidRegistry(text, reason):
            return "invalid registry '\(text)': \(reason)"
        case let .invalidMirrorURL(text, reason):
            return "invalid mirror URL '\(text)': \(reason)"
        case let .duplicateMirrorURL(url):
            return "mirror URL \(url) is given twice"
        case .noRegistries:
            return "no registries to configure"
        case let .hostsDirectoryMissing(path):
            return "hosts directory \(path) does not exist; containerd reads hosts.toml files only from the directory its "
                + "registry config_path names (often /etc/containerd/certs.d): create it there first, or pass --hosts-dir"
        case let .dropInDirectoryMissing(path):
            return "\(path) does not exist, nor does its parent: are containers/image clients (Podman, Buildah, Skopeo, CRI-O) "
                + "installed here? Pass --registries-dir for another directory"
        case let .notADirectory(path):
            return "\(path) exists but is not a directory"
        case let .notAFile(path):
            return "\(path) exists but is not a file"
        case let .notWritable(path, errno):
            return "cannot write in \(path): \(ConfigFileSystem.message(errno)) (run as root, or check the mount is writable)"
        case let .io(operation, path, errno):
            return "\(operation) \(path): \(ConfigFileSystem.message(errno))"
        case let .unreadableExistingFile(path, line, reason):
            return "\(path), line \(line): \(reason); its entries cannot be kept beside the mirror's, so nothing was written"
        case let .cannotCarry(path, reason):
            return "\(path): \(reason); nothing was written"
        case let .mirrorAlreadyListed(path, url):
            return "\(path) already lists [host.\"\(url)\"]; remove that entry (gossip-mirror adds it before the others) "
                + "or give another --mirror-url"
        case let .backupMissing(path, backup):
            return "\(path) was written by gossip-mirror over an earlier file, but that file's backup \(backup) is missing; "
                + "run `gossip-mirror cleanup` (it removes \(path)) and configure again"
        case let .foreignFile(path):
            return "\(path) exists and was not written by gossip-mirror; it is left alone: move it away first"
        case let .rolledBack(error, leftBehind):
            if leftBehind.isEmpty { return "\(error); the files written before it were restored" }
            return "\(error); restoring the files written before it also failed for: \(leftBehind.joined(separator: ", "))"
        }
    }
}

/// Docker-style certificate files in a registry's `hosts.toml` directory.
/// containerd reads them only when there is no `hosts.toml`, so a file
/// gossip-mirror creates names them explicitly to keep TLS to the server
/// working. (Where a `hosts.toml` was there already, containerd ignored them
/// before too, and the kept file's own `ca`/`client` keys still apply.)
public struct DockerCertificates: Equatable, Sendable {
    public var authorities: [String] = []
    public var clientPairs: [[String]] = []
    public var isEmpty: Bool { authorities.isEmpty && clientPairs.isEmpty }

    public init(authorities: [String] = [], clientPairs: [[String]] = []) {
        self.authorities = authorities
        self.clientPairs = clientPairs
    }

    /// The same files containerd's Docker-compatible fallback would use:
    /// `*.crt` are CAs, `X.cert` with `X.key` are client key pairs (a
    /// `.cert` without `.key` is taken to hold both).
    public init(fileNames: [String]) {
        let names = Set(fileNames)
        for name in fileNames.sorted() {
            if name.hasSuffix(".crt") {
                authorities.append(name)
            } else if name.hasSuffix(".cert") {
                let key = String(name.dropLast(5)) + ".key"
                clientPairs.append([name, names.contains(key) ? key : name])
            }
        }
    }
}

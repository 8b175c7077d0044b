/// The installed cluster keys: the primary seals, every key opens.
///
/// Rotation without downtime (as in Serf's keyring): install the new key on
/// every node (it opens but does not seal yet), make it primary everywhere,
/// then remove the old one.
public struct Keyring: Sendable, Hashable {
    public private(set) var keys: [ClusterKey]

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case empty
        case notInstalled
        case removingPrimary

        public var description: String {
            switch self {
            case .empty: "a keyring needs at least one key"
            case .notInstalled: "that key is not installed"
            case .removingPrimary: "the primary key cannot be removed; make another key primary first"
            }
        }
    }

    /// - Parameter keys: the first key is primary.
    public init(_ keys: [ClusterKey]) throws(Error) {
        guard !keys.isEmpty else { throw .empty }
        var unique: [ClusterKey] = []
        for k in keys where !unique.contains(k) { unique.append(k) }
        self.keys = unique
    }

    /// The key that seals.
    public var primary: ClusterKey { keys[0] }

    /// Adds a key that opens but does not seal.
    public mutating func install(_ key: ClusterKey) {
        if !keys.contains(key) { keys.append(key) }
    }

    /// Makes an installed key the primary.
    public mutating func use(_ key: ClusterKey) throws(Error) {
        guard let i = keys.firstIndex(of: key) else { throw .notInstalled }
        keys.swapAt(0, i)
    }

    /// Removes a key that is not primary.
    public mutating func remove(_ key: ClusterKey) throws(Error) {
        guard let i = keys.firstIndex(of: key) else { throw .notInstalled }
        guard i != 0 else { throw .removingPrimary }
        keys.remove(at: i)
    }

    /// Keys to try for a key id: matching ids first (ids are one byte and may
    /// collide, so the rest follow).
    func candidates(for id: UInt8) -> [ClusterKey] {
        keys.filter { $0.id == id } + keys.filter { $0.id != id }
    }
}

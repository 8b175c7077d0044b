import Catalog
import Logging

/// Fetches from peers through libcurl (see `PeerFetcher`).
public struct CurlPeerClient: PeerClient {
    let credentials: PeerCredentials
    let metrics: RegistryMetrics
    let peers: PeerDirectory
    let logger: Logger

    public init(credentials: PeerCredentials, metrics: RegistryMetrics, peers: PeerDirectory, logger: Logger) {
        self.credentials = credentials
        self.metrics = metrics
        self.peers = peers
        self.logger = logger
    }

    public func manifest(_ reference: ImageReference, from candidates: [PeerCandidate]) async -> PeerManifest? { nil }

    public func blob(_ digest: Digest, repository: ImageReference, range: String?, from candidates: [PeerCandidate]) async -> PeerBlob? { nil }
}

import Catalog
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Gets things from the cluster: the one noun of the peer path.
///
/// It owns the peer directory (who holds what, who is alive, who misbehaved),
/// the fetcher (libcurl transfers) and the credentials (tokens out, seals
/// in). The handler asks it for a manifest or a blob and gets verified bytes
/// or a clear miss (nil, answered 404 so containerd goes upstream).
///
/// Every request to a holder is an attempt: a lease on the directory, begun
/// when it starts and ended exactly once however it ends (a streamed body
/// holds its lease until its last byte, its failure, or its consumer going
/// away), with a token minted for that attempt alone, so a resume long after
/// the start still authenticates. How an attempt ends is the only thing that
/// changes a holder's standing (`PeerDirectory.judge`).
///
/// One request per blob: the GET's own `Content-Length` decides buffered or
/// streamed (no HEAD first); a 404 moves on to the next holder, and so does
/// a refused connection, at once. The first response head is hedged: if the
/// chosen holder has not answered within `HedgeDelay`, the next is asked too
/// and the first head wins.
public final class PeerRouter: Sendable {
    public let directory: PeerDirectory
    public let credentials: PeerCredentials
    public let settings: PeerRouterSettings
    let seal: PeerAnswerSeal
    let fetcher: PeerFetcher
    let metrics: RegistryMetrics
    let logger: Logger
    let hedgeDelay: HedgeDelay

    public init(credentials: PeerCredentials, settings: PeerRouterSettings = .init(), metrics: RegistryMetrics, logger: Logger) {
        self.credentials = credentials
        self.settings = settings
        self.directory = PeerDirectory(
            selfName: credentials.nodeName, banDuration: settings.banDuration, failureHalfLife: settings.failureHalfLife)
        self.seal = PeerAnswerSeal(credentials: credentials)
        self.fetcher = PeerFetcher(configuration: settings.fetcher)
        self.metrics = metrics
        self.logger = logger
        self.hedgeDelay = HedgeDelay(settings: settings)
    }

    /// Fetcher-wide counters (buffers, transfers, connections).
    public var fetcherStatistics: PeerFetcher.Statistics { fetcher.statistics }

    /// `/v2/<repository>/<kind>/<reference>?ns=<registry>` as the peer expects it.
    static func target(_ repository: ImageReference, kind: String, reference: String) -> String {
        "/v2/\(repository.repository)/\(kind)/\(reference)?ns=\(repository.registry)"
    }

    /// The holders to ask for `key`, best first, at most `maximumAttempts`.
    func candidates(for key: SummaryKey, excluding: Set<String> = []) -> [PeerCandidate] {
        Array(directory.candidates(for: key).filter { !excluding.contains($0.name) }.prefix(settings.maximumAttempts))
    }

    // MARK: Attempts

    /// A holder's answer whose head was accepted: the lease is still running.
    struct OpenAttempt: Sendable {
        let lease: AttemptLease
        let response: PeerResponse
        var peer: String { lease.name }

        /// Ends the attempt with the outcome `error` means, dropping the body.
        func fail(_ error: any Error) {
            response.body.cancel()
            lease.end(PeerRouter.outcome(of: error))
        }
    }

    /// What an error says about the holder that caused it.
    static func outcome(of error: any Error) -> AttemptOutcome {
        switch error as? PeerFetchError ?? .transferFailed("\(error)") {
        case .cancelled: .cancelled
        case .digestMismatch: .lied
        case .httpStatus(404): .absent
        case let other: .failed(other)
        }
    }

    static let unsealed = PeerFetchError.invalidResponse("the answer is not sealed by the holder")

    /// Sends one request to `peer` under a new lease with a fresh token, and
    /// returns once its head is in and acceptable: 200 (or, when resuming
    /// from `offset` > 0, 206) and sealed by that holder. Otherwise the
    /// attempt is ended with what went wrong, and that error returned.
    /// `lowSpeedTime` replaces the settings' for an answer that may pause
    /// longer (a cold-pull follow grows at the upstream's pace).
    func open(
        _ peer: PeerCandidate, target: String, method: PeerRequest.Method, accept: String? = nil, from offset: Int64 = 0,
        lowSpeedTime: Duration? = nil
    ) async -> Result<OpenAttempt, PeerFetchError> {
        let lease = directory.lease(peer) { [self] peer, outcome in settled(peer, outcome) }
        var headers: HTTPHeaders = [PeerCredentials.hopHeader: "1"]
        guard let token = await credentials.token(method: method.rawValue, target: target, destination: peer.name) else {
            lease.end(.cancelled)
            return .failure(.invalidRequest("no cluster key to sign with"))
        }
        headers.add(name: PeerCredentials.tokenHeader, value: token)
        if let accept { headers.add(name: "Accept", value: accept) }
        let request = PeerRequest(
            url: "http://\(peer.registryAddress)\(target)", method: method, headers: headers,
            range: offset > 0 ? PeerRequest.ByteRange(start: offset) : nil, connectTimeout: settings.connectTimeout,
            lowSpeedLimit: settings.lowSpeedLimit, lowSpeedTime: lowSpeedTime ?? settings.lowSpeedTime)
        let started = ContinuousClock.now
        let response: PeerResponse
        do {
            response = try await fetcher.fetch(request)
        } catch {
            let error = error as? PeerFetchError ?? .transferFailed("\(error)")
            lease.end(Self.outcome(of: error))
            return .failure(error)
        }
        let attempt = OpenAttempt(lease: lease, response: response)
        guard response.status == 200 || (offset > 0 && response.status == 206) else {
            await response.body.discard()
            attempt.fail(PeerFetchError.httpStatus(response.status))
            return .failure(.httpStatus(response.status))
        }
        guard await seal.verify(response.head, responder: peer.name, token: token, method: method.rawValue, target: target) else {
            attempt.fail(Self.unsealed)
            return .failure(Self.unsealed)
        }
        if offset == 0 { hedgeDelay.observe(ContinuousClock.now - started) }
        return .success(attempt)
    }

    /// Metrics and logs for an ended attempt (the directory has judged it).
    private func settled(_ peer: PeerCandidate, _ outcome: AttemptOutcome) {
        switch outcome {
        case .served, .absent, .cancelled:
            break
        case .failed(let error):
            metrics.peerFailed()
            logger.debug("peer attempt failed", metadata: ["peer": "\(peer.name)", "error": "\(error)"])
        case .lied:
            verificationFailed([peer.name])
        }
    }

    /// Bytes from `peers` did not match their digest: ban them (a streamed
    /// blob learns this only after its attempts have ended).
    func verificationFailed(_ peers: [String], settle: Bool = false) {
        metrics.verificationFailed()
        if settle { for name in peers { directory.settle(name, .lied) } }
        logger.warning("peer served bytes that do not match their digest", metadata: ["peers": "\(peers)"])
    }
}

import Registry

/// Who may read what on the status port.
///
/// `/healthz`, `/readyz` and `/metrics` answer anyone who reaches the port:
/// the kubelet probes them and Prometheus scrapes them from other hosts, and
/// they say nothing about what the cluster holds. Everything else (`/status`,
/// `/status.json`, `/locate`, and any path added later: deny by default) tells
/// which member holds which image, tag to digest, member addresses and key
/// ids, so it answers only loopback (the node's own `gossip-mirror members`),
/// a `--trusted-network`, or a request carrying a valid cluster token, the
/// registry's peer token over this request's method and target.
struct StatusAccess: Sendable {
    /// Paths that answer anyone.
    static let openPaths: Set<Substring> = ["/healthz", "/readyz", "/metrics"]

    let trustedNetworks: [CIDR]
    let credentials: PeerCredentials

    /// Whether `request` may be answered.
    func allows(_ request: HTTPRequest) async -> Bool {
        if Self.openPaths.contains(request.path) || request.isLoopback { return true }
        if let ip = request.remoteAddress?.ipAddress {
            // A socket bound to `::` reports IPv4 clients as `::ffff:a.b.c.d`.
            let address = ip.hasPrefix("::ffff:") && ip.contains(".") ? String(ip.dropFirst(7)) : ip
            if trustedNetworks.contains(where: { $0.contains(address) }) { return true }
        }
        return await Self.hasClusterToken(request, credentials: credentials)
    }

    /// The one place the status port checks a cluster token: the registry's
    /// peer token (`X-Gossip-Mirror-Token`), verified as the registry port
    /// verifies it: the token must name this node as its destination, so a
    /// token captured on its way to another node does not open this one.
    static func hasClusterToken(_ request: HTTPRequest, credentials: PeerCredentials) async -> Bool {
        guard let token = request.headers.first(name: PeerCredentials.tokenHeader) else { return false }
        return await credentials.verify(token, method: request.method.rawValue, target: request.uri)
    }

    /// What a refused request gets: 403, and how to be let in.
    static let refusal = HTTPResponse.text(
        .forbidden,
        "forbidden: this endpoint answers loopback, --trusted-network or a request with a cluster token "
            + "(\(PeerCredentials.tokenHeader)); /metrics, /healthz and /readyz answer anyone\n")
}

import Catalog
import Foundation
import Gossip
import Metrics
import NIOCore
import Prometheus
import Registry

/// The status port: health, readiness, Prometheus metrics, the node's view
/// and `locate`; who may read which is `StatusAccess`.
struct StatusHandler: HTTPHandler {
    let node: GossipNode
    let catalog: LocalCatalog
    let locator: Locator
    let registryMetrics: RegistryMetrics
    var coldPull: ColdPull? = nil
    let metrics: PrometheusCollectorRegistry
    let access: StatusAccess
    let peers: PeerDirectory
    let recent: RecentActivity
    /// What `/readyz` says, for alerts (`gossip_mirror_ready`); set at each scrape.
    let ready = Metrics.Gauge(label: NodeMetrics.ready)

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return .text(.methodNotAllowed, "method not allowed\n")
        }
        guard await access.allows(request) else { return StatusAccess.refusal }
        switch request.path {
        case "/healthz":
            return .text(.ok, "ok\n")
        case "/readyz":
            // Ready once the store has been read: before that, every pull
            // would miss locally even for images this node holds.
            let status = await catalog.storeStatus
            return status == .starting ? .text(.serviceUnavailable, "store: \(status)\n") : .text(.ok, "ready (store: \(status))\n")
        case "/metrics":
            ready.record(await catalog.storeStatus == .starting ? 0 : 1)
            var body = ByteBuffer(bytes: metrics.emitToBuffer())
            body.writeString(ProcessMetrics.exposition())
            return HTTPResponse(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"], body: .bytes(body))
        case "/status.json":
            return json(await report())
        case "/locate":
            guard let reference = request.query["ref"], !reference.isEmpty else {
                return .text(.badRequest, "missing ?ref=<digest or image reference>\n")
            }
            do { return json(try await locator.locate(reference)) } catch {
                return .text(.badRequest, "\(error)\n")
            }
        case "/status", "/":
            // Content negotiation: a browser gets the HTML page, curl and scripts the text.
            var page =
                StatusPageHTML.isPreferred(accept: request.headers["Accept"])
                ? HTTPResponse.text(.ok, StatusPageHTML.render(await report()), contentType: "text/html; charset=utf-8")
                : HTTPResponse.text(.ok, StatusPage.render(await report()))
            page.headers.add(name: "Vary", value: "Accept")
            return page
        default:
            return .text(.notFound, "not found\n")
        }
    }

    private func report() async -> StatusReport {
        await StatusReport.make(from: node, catalog: catalog, registry: registryMetrics, peers: peers, recent: recent, coldPull: coldPull)
    }

    private func json(_ value: some Encodable) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(ByteBuffer(bytes: data)))
    }
}

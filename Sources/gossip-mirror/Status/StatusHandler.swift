import Catalog
import Foundation
import Gossip
import NIOCore
import Prometheus
import Registry

/// The status port: health, readiness, Prometheus metrics, the node's view
/// and `locate`.
struct StatusHandler: HTTPHandler {
    let node: GossipNode
    let catalog: LocalCatalog
    let locator: Locator
    let registryMetrics: RegistryMetrics
    var coldPull: ColdPull? = nil
    let metrics: PrometheusCollectorRegistry

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return .text(.methodNotAllowed, "method not allowed\n")
        }
        switch request.path {
        case "/healthz":
            return .text(.ok, "ok\n")
        case "/readyz":
            // Ready once the store has been read: before that, every pull
            // would miss locally even for images this node holds.
            let status = await catalog.storeStatus
            return status == .starting ? .text(.serviceUnavailable, "store: \(status)\n") : .text(.ok, "ready (store: \(status))\n")
        case "/metrics":
            return HTTPResponse(
                status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: .bytes(ByteBuffer(bytes: metrics.emitToBuffer())))
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
            return .text(.ok, StatusPage.render(await report()))
        default:
            return .text(.notFound, "not found\n")
        }
    }

    private func report() async -> StatusReport {
        await StatusReport.make(from: node, catalog: catalog, registry: registryMetrics, coldPull: coldPull)
    }

    private func json(_ value: some Encodable) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(ByteBuffer(bytes: data)))
    }
}

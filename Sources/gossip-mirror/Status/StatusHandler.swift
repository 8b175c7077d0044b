import Foundation
import Gossip
import NIOCore
import Prometheus
import Registry

/// The status port: health, readiness, Prometheus metrics and the node's view.
struct StatusHandler: HTTPHandler {
    let node: GossipNode
    let metrics: PrometheusCollectorRegistry

    func handle(_ request: HTTPRequest) async -> HTTPResponse {
        guard request.method == .GET || request.method == .HEAD else {
            return .text(.methodNotAllowed, "method not allowed\n")
        }
        switch request.path {
        case "/healthz":
            return .text(.ok, "ok\n")
        case "/readyz":
            return .text(.ok, "ready\n")
        case "/metrics":
            return HTTPResponse(
                status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                body: .bytes(ByteBuffer(bytes: metrics.emitToBuffer())))
        case "/status.json":
            let report = await StatusReport.make(from: node)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = (try? encoder.encode(report)) ?? Data()
            return HTTPResponse(status: .ok, headers: ["Content-Type": "application/json"], body: .bytes(ByteBuffer(bytes: data)))
        case "/status", "/":
            return .text(.ok, StatusPage.render(await StatusReport.make(from: node)))
        default:
            return .text(.notFound, "not found\n")
        }
    }
}

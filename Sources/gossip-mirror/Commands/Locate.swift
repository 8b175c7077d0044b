import ArgumentParser
import Foundation
import Registry

/// `gossip-mirror locate REF`: which members probably hold a digest or image.
struct Locate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show whether this node holds a digest or image, and which members probably do.",
        discussion: "Holders come from the members' Bloom-filter summaries: a listed member holds it with about 99 % certainty; an unlisted one certainly does not advertise it."
    )

    @Argument(help: "A digest (sha256:…) or an image reference (registry/repository:tag).")
    var reference: String

    @Option(name: .customLong("status-addr"), help: "The node's status address.")
    var statusAddr = "127.0.0.1:9090"

    @Flag(help: "Print JSON: digest (when known), local, holders.")
    var json = false

    func run() async throws {
        let escaped = reference.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? reference
        let data = try await StatusClient(address: statusAddr).get("/locate?ref=\(escaped)")
        let report: LocateReport
        do { report = try JSONDecoder().decode(LocateReport.self, from: data) } catch {
            throw ValidationError("unexpected answer from \(statusAddr): \(error)")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print("reference: \(report.reference)")
            print("digest:    \(report.digest ?? "unknown here")")
            print("local:     \(report.local ? "yes" : "no")")
            print("holders:   \(report.holders.isEmpty ? "none" : report.holders.joined(separator: ", "))")
            for entry in report.skipped ?? [] {
                print("skipped:   \(entry.name) \(entry.digest) here: \(entry.reason)")
            }
        }
    }
}

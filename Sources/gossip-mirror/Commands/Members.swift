import ArgumentParser
import Foundation

/// `gossip-mirror members`: the member list as a running node sees it.
struct Members: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the members a running node sees.")

    @Option(name: .customLong("status-addr"), help: "The node's status address.")
    var statusAddr = "127.0.0.1:9090"

    @Flag(help: "Print a JSON array of members (name, address, state, incarnation, ...).")
    var json = false

    func run() async throws {
        let report = try await StatusClient(address: statusAddr).report()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report.members), as: UTF8.self))
        } else {
            print(StatusPage.membersTable(report.members), terminator: "")
        }
    }
}

/// `gossip-mirror status`: a running node's summary.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a running node's status.")

    @Option(name: .customLong("status-addr"), help: "The node's status address.")
    var statusAddr = "127.0.0.1:9090"

    @Flag(help: "Print the full status as JSON.")
    var json = false

    func run() async throws {
        let client = StatusClient(address: statusAddr)
        if json {
            print(String(decoding: try await client.get("/status.json"), as: UTF8.self))
        } else {
            print(StatusPage.render(try await client.report()), terminator: "")
        }
    }
}

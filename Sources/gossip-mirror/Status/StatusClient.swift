import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Reads a running node's status port.
struct StatusClient {
    let address: String

    func get(_ path: String) async throws -> Data {
        guard let url = URL(string: "http://\(address)\(path)") else {
            throw ValidationError("--status-addr \(address) is not HOST:PORT")
        }
        do {
            let (data, response) = try await URLSession.shared.data(from: url)
            guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                if status == 403 {
                    throw ValidationError(
                        "\(url) answered 403: the node answers this only from loopback or a --trusted-network; run the command on the node")
                }
                throw ValidationError("\(url) answered \(status)")
            }
            return data
        } catch let error as ValidationError {
            throw error
        } catch {
            throw ValidationError("cannot reach a gossip-mirror node at \(address): \(error.localizedDescription)")
        }
    }

    func report() async throws -> StatusReport {
        let data = try await get("/status.json")
        do { return try JSONDecoder().decode(StatusReport.self, from: data) } catch {
            throw ValidationError("\(address) did not answer with a gossip-mirror status: \(error)")
        }
    }
}

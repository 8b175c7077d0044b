import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Minimal HTTP for tests: URLSession GETs, and `curl` for requests sent exactly as written.
enum HTTPGet {
    static func data(_ url: URL, timeout: TimeInterval = 2) async -> (Int, Data)? {
        var request = URLRequest(url: url)
        request.timeoutInterval = timeout
        guard let (data, response) = try? await URLSession.shared.data(for: request),
            let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, data)
    }

    static func json<T: Decodable>(_ url: URL, as type: T.Type) async -> T? {
        guard let (status, data) = await data(url), status == 200 else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }

    /// GET or HEAD with curl, exactly as given (`--path-as-is`): status and body.
    static func curl(_ url: String, method: String = "GET", headers: [String] = []) async throws -> (Int, String) {
        var arguments = ["curl", "-s", "--path-as-is", "-X", method, "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"]
        if method == "HEAD" { arguments = ["curl", "-s", "--path-as-is", "-I", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10"] }
        for h in headers { arguments += ["-H", h] }
        let output = try await Subprocess.run(arguments + [url], check: false)
        let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        return (status, lines.dropLast().joined(separator: "\n"))
    }
}

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Minimal HTTP GET for tests.
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
}

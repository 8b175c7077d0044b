import Catalog
import Logging
import NIOCore
import NIOHTTP1

/// A member's side of the claim protocol: sends a claim message to the
/// coordinator of its digest, and when that member does not answer, to the
/// next one in rendezvous order, which is where the claims of the digest go
/// once the silent one is declared dead. This node's own turn in that order
/// is answered in process.
struct ClaimClient: Sendable {
    let members: ColdPullMembers
    let coordinator: ClaimCoordinator
    let fetcher: PeerFetcher
    let credentials: PeerCredentials
    let attempts: Int
    let logger: Logger

    /// A coordinator must answer within this (it only consults a table).
    static let timeout = Duration.seconds(2)

    /// The first answer from the members ranked for the message's digest, or
    /// nil when none of the first `attempts` answered.
    func send(_ message: ClaimMessage) async -> ClaimAnswer? {
        for name in members.coordinators(of: message.digest).prefix(attempts) {
            if name == members.selfName { return coordinator.answer(message) }
            guard let member = members.member(named: name) else { continue }
            do {
                return try await send(message, to: member)
            } catch {
                logger.debug(
                    "claim coordinator did not answer, asking the next",
                    metadata: ["coordinator": "\(name)", "digest": "\(message.digest)", "error": "\(error)"])
            }
        }
        return nil
    }

    private func send(_ message: ClaimMessage, to member: ColdPullMembers.Member) async throws -> ClaimAnswer {
        let target = message.target
        var headers: HTTPHeaders = [PeerCredentials.hopHeader: "1"]
        if let token = await credentials.token(method: "GET", target: target, destination: member.name) {
            headers.add(name: PeerCredentials.tokenHeader, value: token)
        }
        let request = PeerRequest(url: "http://\(member.registryAddress)\(target)", headers: headers, timeout: Self.timeout)
        let response = try await fetcher.fetch(request)
        guard response.status == 200 else {
            await response.body.discard()
            throw PeerFetchError.httpStatus(response.status)
        }
        var text = ByteBuffer()
        for try await chunk in response.body {
            guard text.readableBytes + chunk.readableBytes <= ClaimMessage.maximumAnswerLength + 2 else {
                response.body.cancel()
                throw PeerFetchError.tooLarge
            }
            var chunk = chunk
            text.writeBuffer(&chunk)
        }
        let line = String(buffer: text)
        guard let answer = ClaimAnswer(text: line.hasSuffix("\n") ? line.dropLast() : Substring(line)) else {
            throw PeerFetchError.invalidResponse("not a claim answer")
        }
        return answer
    }
}

import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// What a handler answers.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes(ByteBuffer)
        /// A region of an open file, written with sendfile(2) (zero-copy).
        /// The server closes the handle after writing.
        case file(NIOFileHandle, offset: Int64, length: Int64)
        /// Chunks produced while the response is written; throwing aborts
        /// the connection so the client never sees a complete wrong body.
        case stream(length: Int64?, AsyncThrowingStream<ByteBuffer, any Error>)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body
    /// What the handler adds to the access log line (e.g. where a blob
    /// came from). Not sent to the client.
    public var logMetadata: Logger.Metadata

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body = .empty, logMetadata: Logger.Metadata = [:]) {
        self.status = status
        self.headers = headers
        self.body = body
        self.logMetadata = logMetadata
    }

    public static func text(_ status: HTTPResponseStatus, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(ByteBuffer(string: text)))
    }
}

/// Answers requests.
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest) async -> HTTPResponse
}

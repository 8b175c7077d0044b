import NIOCore
import NIOHTTP1

/// Error codes of the OCI distribution spec ("Error Codes"), answered as
/// `{"errors":[{"code":…,"message":…}]}`.
public enum OCIErrorCode: String, Sendable {
    case blobUnknown = "BLOB_UNKNOWN"
    case manifestUnknown = "MANIFEST_UNKNOWN"
    case nameInvalid = "NAME_INVALID"
    case nameUnknown = "NAME_UNKNOWN"
    case digestInvalid = "DIGEST_INVALID"
    case manifestInvalid = "MANIFEST_INVALID"
    case rangeInvalid = "RANGE_INVALID"
    case unauthorized = "UNAUTHORIZED"
    case denied = "DENIED"
    case unsupported = "UNSUPPORTED"
    case tooManyRequests = "TOOMANYREQUESTS"
}

extension HTTPResponse {
    /// An OCI error response. The message never echoes request bytes beyond
    /// a short, sanitised excerpt.
    static func ociError(_ status: HTTPResponseStatus, _ code: OCIErrorCode, _ message: String) -> HTTPResponse {
        let body = #"{"errors":[{"code":"\#(code.rawValue)","message":"\#(jsonEscaped(message))"}]}"# + "\n"
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Docker-Distribution-API-Version": "registry/2.0"]
        if code == .unauthorized { headers.add(name: "WWW-Authenticate", value: #"GossipMirror realm="cluster""#) }
        return HTTPResponse(status: status, headers: headers, body: .bytes(ByteBuffer(string: body)))
    }

    private static func jsonEscaped(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars.prefix(300) {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "?"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

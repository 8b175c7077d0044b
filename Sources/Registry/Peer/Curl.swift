import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// libcurl's option and information calls, and its one-time global
/// initialisation. `curl_easy_setopt`, `curl_easy_getinfo` and
/// `curl_multi_setopt` are C variadic functions, which Swift does not import;
/// the typed `static inline` wrappers in `Sources/CCurl/shim.h` call them with
/// exactly the argument type each option kind expects.
enum Curl {
    typealias Handle = UnsafeMutableRawPointer

    /// `curl_global_init` exactly once per process, before any other call
    /// (Swift initialises globals and static lets once, thread-safely).
    static let globalInit: Void = {
        let code = curl_global_init(Int(CURL_GLOBAL_ALL))
        precondition(code == CURLE_OK, "curl_global_init failed: \(code)")
    }()

    /// Sets a `long` (or `curl_off_t`, the same width on LP64) option.
    @discardableResult
    static func setopt(_ easy: Handle, _ option: CURLoption, _ value: Int) -> CURLcode {
        gm_curl_easy_setopt_long(easy, option, value)
    }

    /// Sets a string, data-pointer or function-pointer option. libcurl copies
    /// strings (since 7.17), so `value` need only live for the call.
    @discardableResult
    static func setopt(_ easy: Handle, _ option: CURLoption, _ value: UnsafeRawPointer?) -> CURLcode {
        gm_curl_easy_setopt_pointer(easy, option, value)
    }

    @discardableResult
    static func setopt(_ easy: Handle, _ option: CURLoption, _ value: String) -> CURLcode {
        value.withCString { gm_curl_easy_setopt_pointer(easy, option, $0) }
    }

    @discardableResult
    static func setopt(_ multi: Handle, _ option: CURLMoption, _ value: Int) -> CURLMcode {
        gm_curl_multi_setopt_long(multi, option, value)
    }

    /// A `long` information item.
    static func info(_ easy: Handle, _ item: CURLINFO) -> Int {
        var value = 0
        _ = gm_curl_easy_getinfo_long(easy, item, &value)
        return value
    }

    /// A pointer information item (`CURLINFO_PRIVATE`).
    static func pointerInfo(_ easy: Handle, _ item: CURLINFO) -> UnsafeMutableRawPointer? {
        var value: UnsafeMutableRawPointer? = nil
        _ = gm_curl_easy_getinfo_pointer(easy, item, &value)
        return value
    }
}

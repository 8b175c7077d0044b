import CCurl

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few libcurl entry points Swift cannot call directly, and the one-time
/// global initialisation.
///
/// `curl_easy_setopt`, `curl_easy_getinfo` and `curl_multi_setopt` are C
/// variadic functions, which Swift does not import. The usual fix is a typed
/// `static inline` wrapper in the C shim; `Sources/CCurl/shim.h` is not ours
/// to change, so we call the exported symbols through non-variadic function
/// pointer types instead. Every argument we pass after the option is one
/// pointer-sized integer or pointer (`long`, `curl_off_t`, `char *`, `void *`,
/// a function pointer or an out-pointer for getinfo), and:
///
/// - On x86-64 System V, variadic and fixed arguments of INTEGER class travel
///   in the same registers (rdi, rsi, rdx); the callee's prologue spills them
///   to its register save area for `va_arg`. `%al` only tells it whether to
///   spill xmm registers too (checked here: Debian's libcurl does
///   `test %al,%al; je` before the `movaps`), so a stale value costs at most a
///   few harmless stores.
/// - On AArch64 Linux (AAPCS64) anonymous arguments are passed exactly like
///   named ones.
///
/// Apple's arm64 ABI passes variadic arguments on the stack, so this would be
/// wrong there: on such targets the first use stops with a clear message
/// (the rest of the package still builds for development). Adding typed
/// wrappers to the CCurl shim would remove this file's only trick.
enum Curl {
    typealias Handle = UnsafeMutableRawPointer

    private typealias SetoptInteger = @convention(c) (Handle?, UInt32, Int) -> CURLcode
    private typealias SetoptPointer = @convention(c) (Handle?, UInt32, UnsafeRawPointer?) -> CURLcode
    private typealias Getinfo = @convention(c) (Handle?, UInt32, UnsafeMutableRawPointer?) -> CURLcode
    private typealias MultiSetoptInteger = @convention(c) (Handle?, UInt32, Int) -> CURLMcode

    /// Resolved once (C function pointers are Sendable: they capture nothing).
    private static let symbols: (
        setoptInteger: SetoptInteger, setoptPointer: SetoptPointer, getinfo: Getinfo, multiSetopt: MultiSetoptInteger
    ) = {
        #if !(os(Linux) && (arch(x86_64) || arch(arm64))) && !arch(x86_64)
        fatalError("libcurl's variadic setopt/getinfo can't be called through fixed-argument pointers on this ABI; add typed wrappers to Sources/CCurl/shim.h")
        #endif
        func resolve(_ name: String) -> UnsafeMutableRawPointer {
            // RTLD_DEFAULT: libcurl is linked into the process by the CCurl module.
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
                fatalError("libcurl symbol \(name) not found")
            }
            return symbol
        }
        return (
            unsafeBitCast(resolve("curl_easy_setopt"), to: SetoptInteger.self),
            unsafeBitCast(resolve("curl_easy_setopt"), to: SetoptPointer.self),
            unsafeBitCast(resolve("curl_easy_getinfo"), to: Getinfo.self),
            unsafeBitCast(resolve("curl_multi_setopt"), to: MultiSetoptInteger.self)
        )
    }()

    /// `curl_global_init` exactly once per process, before any other call
    /// (Swift initialises globals and static lets once, thread-safely).
    static let globalInit: Void = {
        let code = curl_global_init(Int(CURL_GLOBAL_ALL))
        precondition(code == CURLE_OK, "curl_global_init failed: \(code)")
    }()

    /// Sets a `long` (or `curl_off_t`, the same width on LP64) option.
    @discardableResult
    static func setopt(_ easy: Handle, _ option: CURLoption, _ value: Int) -> CURLcode {
        symbols.setoptInteger(easy, option.rawValue, value)
    }

    /// Sets a string, data-pointer or function-pointer option. libcurl copies
    /// strings (since 7.17), so `value` need only live for the call.
    @discardableResult
    static func setopt(_ easy: Handle, _ option: CURLoption, _ value: UnsafeRawPointer?) -> CURLcode {
        symbols.setoptPointer(easy, option.rawValue, value)
    }

    @discardableResult
    static func setopt(_ easy: Handle, _ option: CURLoption, _ value: String) -> CURLcode {
        value.withCString { symbols.setoptPointer(easy, option.rawValue, $0) }
    }

    @discardableResult
    static func setopt(_ multi: Handle, _ option: CURLMoption, _ value: Int) -> CURLMcode {
        symbols.multiSetopt(multi, option.rawValue, value)
    }

    /// A `long` information item.
    static func info(_ easy: Handle, _ item: CURLINFO) -> Int {
        var value = 0
        _ = withUnsafeMutablePointer(to: &value) { symbols.getinfo(easy, item.rawValue, $0) }
        return value
    }

    /// A pointer information item (`CURLINFO_PRIVATE`).
    static func pointerInfo(_ easy: Handle, _ item: CURLINFO) -> UnsafeMutableRawPointer? {
        var value: UnsafeMutableRawPointer? = nil
        _ = withUnsafeMutablePointer(to: &value) { symbols.getinfo(easy, item.rawValue, $0) }
        return value
    }
}

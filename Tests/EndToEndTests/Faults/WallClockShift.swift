import Foundation
import TestSupport

/// Shifts a process's wall clock at run time, and only its wall clock: a
/// tiny `LD_PRELOAD` library, compiled here with the toolchain's clang,
/// that adds the whole seconds written in a file (read on every call) to
/// `CLOCK_REALTIME` in `clock_gettime`, `gettimeofday` and `time`. The
/// monotonic clocks are untouched, as when NTP steps the clock.
///
/// Not libfaketime: with libfaketime 0.9.10 (Debian 12) preloaded, Swift
/// programs lose their command-line arguments (`swift-format --version`
/// behaves the same), so `gossip-mirror run` would not even start.
struct WallClockShift {
    /// The compiled library.
    let library: String

    static let source = #"""
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <fcntl.h>
        #include <stdlib.h>
        #include <sys/time.h>
        #include <time.h>
        #include <unistd.h>

        static long offset(void) {
          const char *path = getenv("GM_WALL_CLOCK_OFFSET_FILE");
          if (!path) return 0;
          int fd = open(path, O_RDONLY | O_CLOEXEC);
          if (fd < 0) return 0;
          char text[32];
          ssize_t n = read(fd, text, sizeof text - 1);
          close(fd);
          if (n <= 0) return 0;
          text[n] = 0;
          return strtol(text, NULL, 10);
        }

        typedef int (*clock_gettime_t)(clockid_t, struct timespec *);

        int clock_gettime(clockid_t id, struct timespec *ts) {
          static clock_gettime_t real;
          if (!real) real = (clock_gettime_t)dlsym(RTLD_NEXT, "clock_gettime");
          int result = real(id, ts);
          if (result == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += offset();
          return result;
        }

        int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
          (void)tz;
          struct timespec ts;
          int result = clock_gettime(CLOCK_REALTIME, &ts);
          if (result == 0) { tv->tv_sec = ts.tv_sec; tv->tv_usec = ts.tv_nsec / 1000; }
          return result;
        }

        time_t time(time_t *out) {
          struct timespec ts;
          clock_gettime(CLOCK_REALTIME, &ts);
          if (out) *out = ts.tv_sec;
          return ts.tv_sec;
        }
        """#

    /// Compiles the library into `dir`.
    init(in dir: ScratchDirectory) async throws {
        let source = dir.appending("wall-clock-shift.c")
        library = dir.appending("wall-clock-shift.so")
        try Self.source.write(toFile: source, atomically: true, encoding: .utf8)
        try await Subprocess.run(["clang", "-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"])
    }

    /// The environment that makes a node read its wall-clock offset from `file`.
    func environment(offsetFile file: String) -> [String: String] {
        ["LD_PRELOAD": library, "GM_WALL_CLOCK_OFFSET_FILE": file]
    }

    /// Sets the offset, in seconds, of every process reading `file`.
    static func set(_ file: String, seconds: Int) throws {
        try Data("\(seconds)\n".utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }
}

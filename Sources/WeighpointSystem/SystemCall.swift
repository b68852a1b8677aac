// WeighpointSystem: the unit's one door to the operating system for files and clocks. It owns
// the syscall wrapper (EINTR retried, typed errors naming the call and the path), durable file
// replacement, the wall and monotonic clocks behind protocols a test can replace, and the
// worker-thread type of the unit's loops. It imports Glibc and WeighpointCore only.
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: which call, on what, and the kernel's reason.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let path: String
    public let code: Int32

    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var reason: String { String(cString: strerror(code)) }
    public var description: String { "\(operation) \(path): \(reason)" }
    /// No space left on the device (ENOSPC) or over quota (EDQUOT).
    public var isOutOfSpace: Bool { code == ENOSPC || code == EDQUOT }
}

public enum SystemCall {
    /// Runs `body`, which returns a negative value and sets errno on failure, again while it was
    /// interrupted by a signal (EINTR); throws the failure otherwise.
    @discardableResult
    public static func retrying<T: BinaryInteger>(_ operation: String, _ path: String, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw SystemError(operation, path, code: e)
        }
    }
}

/// Limits the kernel puts on this process.
public enum ProcessLimits {
    /// The soft limit on open file descriptors (RLIMIT_NOFILE), or nil if it cannot be read.
    public static var openFiles: Int? {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return nil }
        return r.rlim_cur == rlim_t.max ? Int.max : Int(clamping: r.rlim_cur)  // RLIM_INFINITY
    }
}

import CLinux
import Glibc
import WeighpointCore
import WeighpointJSON
import WeighpointSystem

/// The kernel clock's synchronisation state (adjtimex), recorded with every record so its time
/// can be weighed: whether NTP/PTP discipline is in effect and the error bounds.
public struct ClockState: Sendable, Equatable {
    public var synchronised: Bool
    /// Maximum error, µs (kernel `maxerror`).
    public var maxErrorMicroseconds: Int
    /// Estimated error, µs (kernel `esterror`).
    public var estimatedErrorMicroseconds: Int

    public init(synchronised: Bool, maxErrorMicroseconds: Int, estimatedErrorMicroseconds: Int) {
        self.synchronised = synchronised
        self.maxErrorMicroseconds = maxErrorMicroseconds
        self.estimatedErrorMicroseconds = estimatedErrorMicroseconds
    }

    /// `adjtimex` in read-only mode (modes 0 needs no privilege).
    public static func read() -> ClockState {
        var maxError = 0, estError = 0
        let synced = wp_clock_state(&maxError, &estError) == 1
        return ClockState(synchronised: synced, maxErrorMicroseconds: maxError, estimatedErrorMicroseconds: estError)
    }

    /// The current UTC time: the system wall clock (WeighpointSystem), the one every part reads.
    public static func now() -> Timestamp { SystemWallClock().now() }

    var json: JSONValue {
        .object(["synchronised": .bool(synchronised), "max_error_us": .int(Int64(maxErrorMicroseconds)), "est_error_us": .int(Int64(estimatedErrorMicroseconds))])
    }
}

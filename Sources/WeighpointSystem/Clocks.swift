#if canImport(Glibc)
import Glibc
#endif
import WeighpointCore

/// The time of day (UTC), as records carry it. The unit reads it through this protocol so a test
/// can drive time; the system's is `SystemWallClock`.
public protocol WallClock: Sendable {
    func now() -> Timestamp
}

/// CLOCK_REALTIME.
public struct SystemWallClock: WallClock {
    public init() {}
    public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }
}

/// Time that only goes forward, for durations and timeouts (never written into a record).
public protocol MonotonicClock: Sendable {
    /// Microseconds since an arbitrary start.
    func microseconds() -> Int64
}

/// CLOCK_MONOTONIC.
public struct SystemMonotonicClock: MonotonicClock {
    public init() {}
    public func microseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}

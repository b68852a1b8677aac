import Glibc
import Foundation

public func percentiles(_ nanos: [Int64]) -> String {
    guard !nanos.isEmpty else { return "no samples" }
    let s = nanos.sorted()
    func at(_ p: Double) -> Int64 { s[min(s.count - 1, Int(Double(s.count) * p))] }
    func show(_ ns: Int64) -> String { ns >= 1_000_000 ? "\(format(Double(ns) / 1e6, 1)) ms" : "\(format(Double(ns) / 1000, 2)) µs" }
    let mean = Double(s.reduce(0, +)) / Double(s.count)
    return "p50 \(show(at(0.5)))  p99 \(show(at(0.99)))  mean \(show(Int64(mean)))"
}

/// Resident set size of this process in KiB, from /proc/self/status.
public func residentKiB() -> Int {
    let status = FileHandle(forReadingAtPath: "/proc/self/status").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
    return 0
}

public func format(_ v: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", v) }

extension Duration {
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    public var microseconds: Double { Double(nanoseconds) / 1000 }
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }
}

/// CPU seconds the calling thread spends in `body` (CLOCK_THREAD_CPUTIME_ID).
public func threadCPU(_ body: () -> Void) -> Double {
    var a = timespec(), b = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
    body()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
    return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9
}

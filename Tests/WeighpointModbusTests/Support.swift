import Foundation
import Testing
import WeighpointCore
@testable import WeighpointModbus
import WeighpointTesting

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let hardware = packageRoot.appendingPathComponent("Hardware/wim")

func profile(_ name: String) throws -> WIMProfile { try WIMProfile.load(path: hardware.appendingPathComponent("\(name).toml").path) }

/// Collects driver events from any thread.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WIMEvent] = []

    func append(_ e: WIMEvent) { lock.withLock { events.append(e) } }
    var all: [WIMEvent] { lock.withLock { events } }
    var records: [WIMRecord] { all.compactMap { if case .weighing(let r) = $0 { r } else { nil } } }
    var sequences: [UInt64] { records.map(\.sequence) }
    var retries: Int { all.filter { if case .retry = $0 { true } else { false } }.count }
    var disconnects: Int { all.filter { if case .disconnected = $0 { true } else { false } }.count }
    var duplicates: [UInt64] { all.compactMap { if case .duplicate(let s) = $0 { s } else { nil } } }
    var gaps: [ClosedRange<UInt64>] { all.compactMap { if case .gap(let m) = $0 { m } else { nil } } }
    /// Sequence resets as "from→to".
    var resets: [String] { all.compactMap { if case .sequenceReset(let f, let t) = $0 { "\(f)→\(t)" } else { nil } } }
    /// Sequences that went back, as "from→to", confirmed or not.
    var wentBack: [String] { all.compactMap { if case .sequenceWentBack(let f, let t) = $0 { "\(f)→\(t)" } else { nil } } }
    /// Numbers out of order as "sequence after→next".
    var outOfOrder: [String] { all.compactMap { if case .sequenceOutOfOrder(let s, let a, let n) = $0 { "\(s) \(a)→\(n)" } else { nil } } }
}

/// Polls `condition` every 20 ms for up to `seconds`; no timing is asserted, only the outcome.
func eventually(_ seconds: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return condition()
}

/// Traffic records, `count` of them from sequence `first`.
func traffic(_ count: Int, first: UInt64 = 1, seed: UInt64 = 5, flagged: Double = 0) -> [WIMRecord] {
    var g = TrafficGenerator(seed: seed, firstSequence: first, flaggedShare: flagged)
    return (0..<count).map { i in g.vehicle(at: Timestamp(rfc3339: "2026-11-20T08:00:00.000Z")!.adding(microseconds: Int64(i) * 3_000_000)) }
}

/// A socat pty pair: two linked pseudo-terminals, as a null-modem cable. Spawned with
/// posix_spawn and ended with kill/waitpid (Foundation's Process did not reap it reliably
/// inside the test runner).
final class PtyPair {
    let pid: pid_t
    let a: String
    let b: String
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("wp-pty-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        a = dir.appendingPathComponent("a").path
        b = dir.appendingPathComponent("b").path
        pid = try spawn(["/usr/bin/socat", "pty,raw,echo=0,link=\(a)", "pty,raw,echo=0,link=\(b)"])
        guard eventually(10, { FileManager.default.fileExists(atPath: a) && FileManager.default.fileExists(atPath: b) }) else {
            stop()
            throw PtyError.notReady
        }
    }

    enum PtyError: Error { case notReady, spawn(Int32) }

    /// Ends socat. Call it when done (in a defer): ARC may release an object after its last
    /// use, which would pull the cable out mid-test if this ran in deinit.
    func stop() {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        try? FileManager.default.removeItem(at: dir)
    }
}

/// Starts a program with posix_spawn, output discarded; returns its pid.
func spawn(_ argv: [String]) throws -> pid_t {
    var pid: pid_t = 0
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    // The runner's threads block signals and a spawned child inherits that mask: give it an
    // empty one, or it would ignore SIGTERM.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { for p in cArgs { free(p) } }
    let rc = posix_spawn(&pid, argv[0], &actions, &attributes, cArgs, environ)
    guard rc == 0 else { throw PtyPair.PtyError.spawn(rc) }
    return pid
}

/// A TCP port that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) { p in
        p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            _ = bind(fd, $0, len)
            _ = getsockname(fd, $0, &len)
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A switch and a count shared with a driver's thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var on = false
    var isSet: Bool { lock.withLock { on } }
    func set() { lock.withLock { on = true } }
    func clear() { lock.withLock { on = false } }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.withLock { n } }
    func increment() { lock.withLock { n += 1 } }
}

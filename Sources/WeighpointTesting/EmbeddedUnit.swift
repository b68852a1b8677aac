// WeighpointTesting owns what must never ship: the Modbus server and WIM simulator, traffic and
// sensor-error generators, replay cameras, synthetic plates, StoreFloor, and the embedded unit
// for tests. Only weighpoint-dev, console-fuzz and the tests may import it (Scripts/check-layout).
import WeighpointCrypto
import WeighpointImaging
import Foundation
import Logging
import Synchronization
import WeighpointCapture
import WeighpointCore
import WeighpointEvidence
import WeighpointModbus
import WeighpointService
import WeighpointSystem
import WeighpointJSON

/// A wall clock a test sets and advances.
public final class ManualClock: WallClock {
    private let time: Mutex<Timestamp>
    public init(_ start: Timestamp) { time = Mutex(start) }
    public func now() -> Timestamp { time.withLock { $0 } }
    public func advance(milliseconds: Int64) { time.withLock { $0 = $0.adding(microseconds: milliseconds * 1000) } }
    public func set(_ t: Timestamp) { time.withLock { $0 = t } }
}

/// Weighings from memory instead of a controller: each record is encoded with the profile and
/// decoded again, so what the unit journals is what a controller's register block would give.
public final class MemoryWeighingSource: WeighingSource, @unchecked Sendable {
    public let profile: WIMProfile
    private let lock = NSLock()
    private var onEvent: (@Sendable (WIMEvent) -> Void)?
    private var keep: (@Sendable (WIMRecord) -> Bool)?
    /// Where the unit told the source to resume, at each start.
    public private(set) var resumedAfter: [UInt64?] = []
    /// Events offered while stopped (the unit asked the source to stop and it must not deliver).
    public private(set) var refusedWhileStopped = 0

    public init(profile: WIMProfile) { self.profile = profile }

    public func start(resumeAfter: UInt64?, keep: @escaping @Sendable (WIMRecord) -> Bool, onEvent: @escaping @Sendable (WIMEvent) -> Void) {
        lock.withLock {
            resumedAfter.append(resumeAfter)
            self.onEvent = onEvent
            self.keep = keep
        }
        onEvent(.connected("memory"))
    }

    public func stop() {
        lock.withLock {
            onEvent = nil
            keep = nil
        }
    }

    /// Delivers an event as the driver would (a `.weighing` to the unit's `keep`); false while
    /// stopped, or for a weighing the unit did not keep (a controller would not be acknowledged).
    @discardableResult
    public func send(_ event: WIMEvent) -> Bool {
        guard let (deliver, keep) = lock.withLock({ onEvent.flatMap { e in keep.map { (e, $0) } } }) else {
            lock.withLock { refusedWhileStopped += 1 }
            return false
        }
        if case .weighing(let r) = event { return keep(r) }
        deliver(event)
        return true
    }

    /// Delivers a weighing, through the profile's register block.
    @discardableResult
    public func weigh(_ r: WIMRecord) -> Bool { send(.weighing(profile.decode(profile.encode(r)))) }

    /// A two-axle rigid truck (limit 18 t) weighed at `time`: 21 t is overloaded, 14 t is not.
    public static func truck(seq: UInt64, lane: Int, time: Timestamp, grossKg: Int = 21_000, speedKmh: Double = 36) -> WIMRecord {
        let steer = 7_000
        return WIMRecord(
            sequence: seq, time: time, lane: lane, speedKmh: speedKmh, axleCount: 2, grossKg: grossKg, lengthMm: 9_000, body: .rigid,
            driveAxles: 1, axleLoadsKg: [steer, grossKg - steer], tyres: [.single, .dual], groups: [1, 1], groupTypes: [.steer, .drive],
            spacingsMm: [4_500])
    }
}

/// A camera whose frames the test shows by hand; it can be unplugged.
public final class MemoryCamera: FrameSource, @unchecked Sendable {
    public let ring: FrameRing
    private let lock = NSLock()
    private var current = "stopped"
    private var sequence: UInt32 = 0
    public private(set) var stoppedAt: Int?
    /// Shared across cameras of one unit: the order in which parts were stopped.
    let order: StopOrder

    init(ring: FrameRing, order: StopOrder) {
        self.ring = ring
        self.order = order
    }

    public var state: String { lock.withLock { current } }
    public func start() { lock.withLock { current = "capturing" } }
    public func stop() {
        lock.withLock { current = "stopped" }
        order.note("camera \(ring.camera)")
    }
    public func unplug(_ reason: String = "unplugged") { lock.withLock { current = "down: \(reason)" } }

    /// Puts a JPEG frame taken at `time` into the ring.
    public func show(_ jpeg: [UInt8], at time: Timestamp) {
        let seq = lock.withLock { () -> UInt32 in sequence += 1; return sequence }
        let size = JPEGEncoder.dimensions(of: jpeg) ?? (0, 0)
        ring.push(CapturedFrame(sequence: seq, time: time, format: .mjpeg, width: size.0, height: size.1, bytes: jpeg))
    }
}

/// The order in which parts of an embedded unit stopped.
final class StopOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func note(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}

/// A whole `StationUnit` in one process with no devices, in the spirit of NIOEmbedded: its time
/// is a `ManualClock`, its weighings come from a `MemoryWeighingSource`, its cameras are
/// `MemoryCamera`s. The store, journal, signing, decisions and evidence are the real ones, in a
/// temporary directory. Lane 1 has `front-1` (12 m ahead of the sensor) and `rear-1` (2 m,
/// behind the vehicle's length); the match window is 800 ms.
public final class EmbeddedUnit: @unchecked Sendable {
    public let directory: String
    public let clock: ManualClock
    public let source: MemoryWeighingSource
    private let lock = NSLock()
    private var current: StationUnit?
    private var cams: [String: MemoryCamera] = [:]
    private let order = StopOrder()

    /// The unit as it runs now (a new one after `restart`).
    public var unit: StationUnit { lock.withLock { current! } }
    /// The configuration file the unit runs on.
    public var configPath: String { directory + "/station.toml" }

    /// A started unit. `extraConfig` is appended to its station.toml; `http` is the body of its
    /// `[http]` section; `front` and `rear` are added to the cameras' sections (plates, credentials).
    public init(
        start: Timestamp = Timestamp(rfc3339: "2026-12-01T08:00:00Z")!, http: String = #"listen = "127.0.0.1:0""#, extraConfig: String = "",
        front: String = "", rear: String = ""
    ) throws {
        directory = NSTemporaryDirectory() + "wp-embedded-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/frames", withIntermediateDirectories: true)
        _ = try SigningKey.generate(.ed25519).write(to: directory + "/key")
        try Self.config(extraConfig, http: http, front: front, rear: rear).write(toFile: directory + "/station.toml", atomically: true, encoding: .utf8)
        clock = ManualClock(start)
        source = MemoryWeighingSource(profile: try StationConfig.load(path: directory + "/station.toml").wim.profile)
        try startUnit()
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    private func startUnit() throws {
        let config = try StationConfig.load(path: configPath)
        let made = Mutex<[String: MemoryCamera]>([:])
        let order = self.order
        let unit = try StationUnit(
            config: config, software: try SoftwareIdentity.current(), logger: Logger(label: "embedded-unit"), clock: clock, weighings: source,
            frames: { c, ring, _ in
                let cam = MemoryCamera(ring: ring, order: order)
                made.withLock { $0[c.id] = cam }
                return cam
            })
        try unit.start()
        lock.withLock {
            current = unit
            cams = made.withLock { $0 }
        }
    }

    public func camera(_ id: String) -> MemoryCamera { lock.withLock { cams[id]! } }

    /// Advances the clock and runs one decision pass, as the service's 20 ms tick does.
    @discardableResult
    public func advance(milliseconds: Int64) async -> Int {
        clock.advance(milliseconds: milliseconds)
        return await unit.decideDue()
    }

    /// The graceful shutdown of `UnitService`: input stopped, everything pending decided,
    /// recogniser and cameras stopped. Returns how many were decided at the end and the order
    /// in which the parts stopped.
    public func shutDown() async -> (flushed: Int, order: [String]) {
        let unit = self.unit
        unit.stopInput()
        source.send(.connected("after stop"))
        order.note("input stopped, refused afterwards \(source.refusedWhileStopped)")
        let n = await unit.decideDue(flush: true)
        order.note("decided \(n)")
        unit.stopRecognition()
        unit.stopCameras()
        return (n, order.all)
    }

    /// The unit killed (nothing pending decided, frames lost) and started again on the same
    /// directory and source, with the clock where it is.
    public func killAndRestart() throws {
        let old = lock.withLock { () -> StationUnit? in defer { current = nil }; return current }
        old?.stopInput()
        old?.stopCameras()
        _ = old
        try startUnit()
    }

    /// Records in the store, oldest first, as JSON.
    public func records() throws -> [JSONValue] { try unit.store.records().compactMap(\.json) }

    static func config(_ extra: String, http: String, front: String, rear: String) -> String {
        """
        [station]
        code = "E-1"
        device_id = "WP-E1"
        site_type = "fixed"

        [[lanes]]
        number = 1

        [wim]
        profile = "generic-wim-v1"
        transport = "tcp://127.0.0.1:1"
        model = "memory"
        serial = "M1"
        accuracy_class = "5"

        [[cameras]]
        id = "front-1"
        lane = 1
        role = "front"
        distance_m = 12.0
        replay = "frames"
        post_window_s = 0.1
        \(front)

        [[cameras]]
        id = "rear-1"
        lane = 1
        role = "rear"
        distance_m = 2.0
        replay = "frames"
        post_window_s = 0.1
        \(rear)

        [http]
        \(http)

        [rules]
        match_window_ms = 800

        [storage]
        data = "data"

        [signing]
        key = "key/key.pem"
        \(extra)
        """
    }
}

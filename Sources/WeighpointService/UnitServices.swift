import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import WeighpointCore
import WeighpointEvidence
import WeighpointJSON
import WeighpointUplink

#if canImport(Glibc)
import Glibc
#endif

/// The unit's HTTP endpoint: plate reads in, health and metrics out.
///
/// `POST /v1/reads` takes one read or an array of reads:
/// `{"camera":"front-1","time":"2026-11-28T08:00:01.250Z","plate":"苏A12345","color":"yellow","confidence":0.93}`
/// and answers `202 {"accepted":N}`, or `400 {"error":…}` naming the item and field; a bad batch
/// is refused whole. `GET /health` answers 200 while the unit can take evidence (status `ok` or
/// `degraded`, with what is degraded) and 503 when it cannot. `GET /metrics` is Prometheus text.
public enum UnitHTTP {
    public static func application(
        unit: StationUnit, host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let router = Router()
        @Sendable func json(_ status: HTTPResponse.Status, _ v: JSONValue) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: v.canonicalBytes)))
        }
        router.post("/v1/reads") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            switch parseReads(Array(buffer: body), cameras: unit.cameraIDs) {
            case .success(let reads):
                unit.addReads(reads)
                return json(.accepted, .object(["accepted": .int(Int64(reads.count))]))
            case .failure(let e):
                return json(.badRequest, .object(["error": .string(e.message)]))
            }
        }
        router.get("/health") { _, _ -> Response in
            let h = unit.health()
            return json(h.healthy ? .ok : .serviceUnavailable, h.json)
        }
        router.get("/metrics") { _, _ -> Response in
            _ = unit.health()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: unit.metrics.render())))
        }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "weighpointd"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    public struct ReadError: Error { public let message: String }

    /// A plate-read body holds a few reads of short strings: 16 levels and 64 KiB strings are
    /// far beyond any camera's, and refused before anything is built from them.
    static let plateReadLimits = JSONLimits(maxBytes: 1 << 20, maxDepth: 16, maxStringBytes: 64 << 10)

    /// Parses a read or an array of reads; every error names the item index and the field.
    public static func parseReads(_ bytes: [UInt8], cameras: Set<String>) -> Result<[PlateRead], ReadError> {
        let v: JSONValue
        do { v = try JSONValue.parse(bytes, limits: plateReadLimits) } catch { return .failure(ReadError(message: "body is not JSON: \(error)")) }
        let items: [JSONValue]
        if case .array(let a) = v { items = a } else { items = [v] }
        var out: [PlateRead] = []
        for (i, item) in items.enumerated() {
            func bad(_ field: String, _ m: String) -> Result<[PlateRead], ReadError> { .failure(ReadError(message: "read \(i): \(field): \(m)")) }
            guard case .object = item else { return bad("-", "must be an object") }
            guard let camera = item["camera"]?.stringValue else { return bad("camera", "missing or not a string") }
            guard cameras.contains(camera) else { return bad("camera", "'\(camera)' is not a configured camera (\(cameras.sorted().joined(separator: ", ")))") }
            guard let t = item["time"]?.stringValue, let time = Timestamp(rfc3339: t) else { return bad("time", "missing or not an RFC 3339 time") }
            guard let text = item["plate"]?.stringValue, !text.isEmpty else { return bad("plate", "missing or empty") }
            guard let c = item["color"]?.stringValue, let color = PlateColor(rawValue: c) else {
                return bad("color", "missing or not one of \(PlateColor.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let confidence: Double
            switch item["confidence"] {
            case .double(let d)?: confidence = d
            case .int(let n)?: confidence = Double(n)
            case nil: confidence = 1
            default: return bad("confidence", "must be a number")
            }
            guard (0...1).contains(confidence) else { return bad("confidence", "\(confidence) is outside 0…1") }
            out.append(PlateRead(camera: camera, time: time, text: text, color: color, confidence: confidence))
        }
        return .success(out)
    }
}

/// The unit as a swift-service-lifecycle service: starts the cameras and the WIM driver, decides
/// every 20 ms, and on graceful shutdown stops the WIM input, decides and commits everything
/// still pending (reads or not), then stops the cameras. Nothing received is dropped.
public struct UnitService: Service {
    public let unit: StationUnit
    public let onReady: @Sendable () -> Void
    public init(unit: StationUnit, onReady: @escaping @Sendable () -> Void = {}) {
        self.unit = unit
        self.onReady = onReady
    }

    public func run() async throws {
        try unit.start()
        onReady()
        await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                await unit.decideDue()
                ticks += 1
                if ticks % 250 == 0 { Task.detached { unit.reloadChangedLists() } }  // every ≈ 5 s
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        unit.stopInput()
        let n = await unit.decideDue(flush: true)
        unit.stopRecognition()
        unit.stopCameras()
        unit.log.info("unit stopped", metadata: ["flushed": "\(n)"])
    }
}

/// Delivery to the case system until shutdown.
public struct UplinkService: Service {
    public let uplink: Uplink
    let log: Logger
    public init(uplink: Uplink, logger: Logger) {
        self.uplink = uplink
        self.log = logger
    }

    public func run() async throws {
        let log = self.log
        await cancelWhenGracefulShutdown {
            await uplink.run { error in log.warning("delivery", metadata: ["error": "\(error)"]) }
        }
        await uplink.shutdown()
    }
}

/// systemd's notify protocol: `READY=1` once, then `WATCHDOG=1` every half watchdog period while
/// the unit is healthy (a unit that stops answering is restarted by systemd). Datagrams to
/// $NOTIFY_SOCKET; does nothing when it is not set. Sends never block: a manager that stops
/// reading must not stall the unit (a full socket drops the ping, as a missed ping should).
public struct SystemdNotifier: Service {
    let unit: StationUnit
    let ready: ReadyFlag

    public init(unit: StationUnit, ready: ReadyFlag) {
        self.unit = unit
        self.ready = ready
    }

    public static func send(_ message: String) {
        guard let path = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !path.isEmpty else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        // An abstract socket is written with a leading '@' and sent with a leading NUL.
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        _ = message.withCString { m in
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, m, strlen(m), Int32(MSG_DONTWAIT), $0, len) }
            }
        }
    }

    public func run() async throws {
        while !ready.isSet {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        Self.send("READY=1\nSTATUS=deciding")
        let usec = ProcessInfo.processInfo.environment["WATCHDOG_USEC"].flatMap(Int.init) ?? 0
        guard usec > 0 else {
            try? await gracefulShutdown()
            Self.send("STOPPING=1")
            return
        }
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if unit.store.refusalReason == nil { Self.send("WATCHDOG=1") }
                try? await Task.sleep(for: .microseconds(usec / 2))
            }
        }
        Self.send("STOPPING=1")
    }
}

/// Set once, read many times: the unit started and the HTTP endpoint is listening.
public final class ReadyFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: Set<String> = []
    private let needed: Set<String>
    public init(needs: Set<String>) { needed = needs }
    public func mark(_ part: String) { lock.withLock { _ = parts.insert(part) } }
    public var isSet: Bool { lock.withLock { parts.isSuperset(of: needed) } }
}

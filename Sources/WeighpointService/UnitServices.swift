import Foundation
import Logging
import ServiceLifecycle
import WeighpointCore
import WeighpointEvidence
import WeighpointUplink

#if canImport(Glibc)
import Glibc
#endif

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
                if ticks % 250 == 0 {  // every ≈ 5 s
                    Task.detached { unit.reloadChangedLists() }
                    unit.refusals.flush()
                    unit.maintainStorage()
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        unit.stopInput()
        // Bounded: past the stop budget what is left stays journalled for the next start.
        let n = await unit.decideDue(flush: true, stopBy: ContinuousClock.now + .seconds(unit.config.storage.stopBudgetS))
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
                // Alive, also while the disk is full: a restart frees no space and would lose
                // the cameras' rings; a full disk is an alarm in /health, not a hang.
                Self.send("WATCHDOG=1")
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

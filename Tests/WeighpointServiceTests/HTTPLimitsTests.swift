import Foundation
import Glibc
import Hummingbird
import Synchronization
import Testing
import WeighpointHTTP
import WeighpointService
import WeighpointTesting

/// The unit's real HTTP server (hummingbird, as weighpointd runs it) under clients that hold
/// connections: over the per-address limit a connection is closed at once; one that sends no
/// request head, or does not finish its request, is closed after its timeout; the server still
/// answers afterwards, and each closing is counted. Timeouts are 3 s, so the test's own requests
/// meet them on a loaded machine; closings are waited for up to 30 s; no duration is asserted.
@Suite(.serialized) struct HTTPLimitsTests: Sendable {
    /// A TCP connection to 127.0.0.1:`port`, as a file descriptor.
    func connect(_ port: Int, from source: String? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let rc = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        return fd
    }

    /// Whether the server closed `fd` within `seconds` (a read returns end of file or an error).
    func closedByServer(_ fd: Int32, within seconds: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if poll(&p, 1, 100) > 0 {
                var b = [UInt8](repeating: 0, count: 4096)
                let n = read(fd, &b, b.count)
                if n <= 0 { return true }
            }
        }
        return false
    }

    func get(_ port: Int, _ path: String) throws -> (Int, String) {
        try request(port, "GET \(path) HTTP/1.1\r\nHost: unit\r\nConnection: close\r\n\r\n")
    }

    /// Sends `text` as it is and reads the answer to the end: the status and the whole answer.
    func request(_ port: Int, _ text: String) throws -> (Int, String) {
        let fd = try connect(port)
        defer { close(fd) }
        let req = Array(text.utf8)
        _ = req.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count) }
        var out: [UInt8] = []
        var b = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &b, b.count)
            if n <= 0 { break }
            out += b[0..<n]
        }
        let text = String(decoding: out, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, text)
    }

    /// Runs blocking socket code off Swift's cooperative threads (two on this machine), which the
    /// server's own request handling needs.
    func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in DispatchQueue.global().async { c.resume(with: Result { try body() }) } }
    }

    @Test func heldAndSlowConnectionsAreClosedAndTheServerKeepsAnswering() async throws {
        let e = try EmbeddedUnit(http: """
            listen = "127.0.0.1:0"
            max_connections_per_address = 4
            header_timeout_s = 3
            request_timeout_s = 3
            """)
        let (server, p) = try await servePlain(e)
        defer { server.cancel() }

        try await offPool {
            // Four idle connections are held until their header timeout; the fifth and sixth from
            // the same address are closed at once.
            let idle = try (0..<4).map { _ in try connect(p) }
            usleep(100_000)
            let over = try (0..<2).map { _ in try connect(p) }
            for fd in over { #expect(closedByServer(fd, within: 30), "a connection over the per-address limit stayed open") }
            for fd in idle { #expect(closedByServer(fd, within: 30), "an idle connection outlived its header timeout") }
            (idle + over).forEach { close($0) }

            // Reads half-sent to the plain listener are answered 403 at once, unread, and the
            // connection is closed at the header timeout of its next request. (A read whose body
            // never finishes on the TLS listener: ReadAuthenticationTests.)
            let slow = try connect(p)
            let head = Array("POST /v1/reads HTTP/1.1\r\nHost: unit\r\nContent-Length: 1000\r\n\r\n{\"cam".utf8)
            _ = head.withUnsafeBufferPointer { write(slow, $0.baseAddress, $0.count) }
            #expect(closedByServer(slow, within: 30), "a half-sent request was held")
            close(slow)
        }
        let (status, health) = try await offPool { try get(p, "/health") }
        #expect(status == 200, "\(health)")
        let metrics = try await offPool { try get(p, "/metrics").1 }
        #expect(metrics.contains(#"weighpoint_http_connections_closed_total{reason="refused_address"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"weighpoint_http_connections_closed_total{reason="header_timeout"} 5"#), "\(metrics)")
        #expect(metrics.contains(#"weighpoint_reads_refused_total{reason="plain_http"} 1"#), "\(metrics)")
    }

    /// Neighbours holding every connection of the listener leave the unit's own loopback address
    /// its reserved slots: /health still answers from 127.0.0.1.
    @Test func theUnitsOwnLoopbackReachesHealthWhenTheListenerIsFull() async throws {
        let e = try EmbeddedUnit(http: """
            listen = "127.0.0.1:0"
            max_connections = 8
            header_timeout_s = 30
            """)
        let (server, p) = try await servePlain(e)
        defer { server.cancel() }
        let held = try await offPool { try (0..<8).map { i in try connect(p, from: "127.0.0.\(2 + i % 3)") } }
        defer { held.forEach { close($0) } }
        try await Task.sleep(for: .milliseconds(200))
        let ninthClosed = try await offPool {
            let fd = try connect(p, from: "127.0.0.5")
            defer { close(fd) }
            return closedByServer(fd, within: 20)
        }
        #expect(ninthClosed, "a ninth neighbour connection was held")
        let (status, body) = try await offPool { try get(p, "/health") }
        #expect(status == 200, "\(body)")
    }

    @Test func anIPv6ClientIsCountedByItsSlash64() {
        #expect(ConnectionGuard.client(of: "2001:db8:1:2:aaaa::1") == ConnectionGuard.client(of: "2001:db8:1:2:ffff:1:2:3"))
        #expect(ConnectionGuard.client(of: "2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(ConnectionGuard.client(of: "2001:db8:1:3::1") != ConnectionGuard.client(of: "2001:db8:1:2::1"))
        #expect(ConnectionGuard.client(of: "::ffff:192.0.2.7") == "192.0.2.7")
        #expect(ConnectionGuard.client(of: "192.0.2.7") == "192.0.2.7" && ConnectionGuard.client(of: "::1") == "::1")
    }
}

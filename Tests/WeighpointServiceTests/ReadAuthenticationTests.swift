import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import Synchronization
import Testing
import WeighpointCore
import WeighpointJSON
import WeighpointService
import WeighpointTesting

/// The unit's listeners as weighpointd runs them (hummingbird, TLS by NIOSSL) under clients
/// with and without credentials (AsyncHTTPClient): front-1 pushes with its client certificate
/// (by subject), rear-1 with a bearer token. What is refused is refused with the status the
/// security notes give, counted, and never reaches a record; what is taken carries its
/// provenance into the signed record.
@Suite(.serialized) struct ReadAuthenticationTests {
    let pki: TestPKI
    let token = PushCredential.newToken()

    init() throws { pki = try TestPKI() }

    func unit(timeouts: String = "") throws -> EmbeddedUnit {
        try EmbeddedUnit(
            http: """
                listen = "127.0.0.1:0"
                \(timeouts)
                tls_listen = "127.0.0.1:0"
                tls_certificate = "\(pki.serverCert)"
                tls_key = "\(pki.serverKey)"
                tls_client_ca = "\(pki.ca)"
                """,
            front: #"plates = "pushed""# + "\n" + #"credentials = ["subject:CN=anpr-front-1"]"#,
            rear: #"plates = "pushed""# + "\n" + "credentials = [\"\(PushCredential.configured(token: token))\"]")
    }

    func client(certificate: String? = nil, key: String? = nil) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(pki.ca)
        if let certificate, let key {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    func post(_ client: HTTPClient, _ url: String, _ body: String, bearer: String? = nil) async throws -> (Int, String) {
        var req = HTTPClientRequest(url: url)
        req.method = .POST
        if let bearer { req.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        req.body = .bytes(ByteBuffer(string: body))
        let res = try await client.execute(req, timeout: .seconds(20))
        let text = String(buffer: try await res.body.collect(upTo: 1 << 20))
        return (Int(res.status.code), text)
    }

    func read(_ camera: String, _ plate: String, at t: Timestamp) -> String {
        #"{"camera":"\#(camera)","time":"\#(t.rfc3339(fractionDigits: 3))","plate":"\#(plate)","color":"yellow","confidence":0.9}"#
    }

    @Test func readsAreTakenOnlyWithTheCamerasOwnCredentialAndRecordedWithIt() async throws {
        let e = try unit()
        let shared = UnitHTTP.Shared(unit: e.unit)
        let tlsPort = ListeningPort(), plainPort = ListeningPort()
        let (tlsTask, tp) = try await serve(try UnitHTTP.authenticated(unit: e.unit, shared: shared, listener: #require(e.unit.config.tlsListener)) { tlsPort.set($0) }, port: tlsPort)
        let (plainTask, pp) = try await serve(UnitHTTP.plain(unit: e.unit, shared: shared, host: "127.0.0.1", port: 0) { plainPort.set($0) }, port: plainPort)
        defer { tlsTask.cancel(); plainTask.cancel() }
        let url = "https://127.0.0.1:\(tp)/v1/reads"

        let t = e.clock.now()
        e.source.weigh(MemoryWeighingSource.truck(seq: 1, lane: 1, time: t))
        let front = t.adding(microseconds: 1_200_000), rear = t.adding(microseconds: 1_100_000)

        let anonymous = try client(), camera = try client(certificate: pki.cameraCert, key: pki.cameraKey)
        let unmapped = try client(certificate: pki.clientCert, key: pki.clientKey), rogue = try client(certificate: pki.rogueCert, key: pki.rogueKey)

        // No credential, an unknown token, a certificate of the CA that names no camera: 401.
        for (c, bearer, why) in [(anonymous, nil, "a credential is needed"), (anonymous, "not-a-token", "the bearer token is not a credential"), (unmapped, nil, "the client certificate")] as [(HTTPClient, String?, String)] {
            let (status, body) = try await post(c, url, read("front-1", "苏E00001", at: front), bearer: bearer)
            #expect(status == 401 && body.contains(why), "\(status) \(body)")
        }
        // A certificate from another CA does not get through the handshake.
        await #expect(throws: (any Error).self) { _ = try await post(rogue, url, read("front-1", "苏E00002", at: front)) }
        // Camera A's credential for camera B's read: 403, naming both.
        var (status, body) = try await post(camera, url, read("rear-1", "苏E00003挂", at: rear))
        #expect(status == 403 && body.contains("credential subject:CN=anpr-front-1 may post reads for front-1 only, not for 'rear-1'"), "\(status) \(body)")
        (status, body) = try await post(anonymous, url, read("front-1", "苏E00004", at: front), bearer: token)
        #expect(status == 403 && body.contains("may post reads for rear-1 only, not for 'front-1'"), "\(status) \(body)")
        // The plain listener takes no reads at all, loopback included.
        let plainBody: String
        (status, plainBody) = try await offPool {
            try HTTPLimitsTests().request(pp, "POST /v1/reads HTTP/1.1\r\nHost: unit\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        }
        #expect(status == 403 && plainBody.contains("only with a camera's credential over TLS"), "\(plainBody)")

        // Each camera with its own credential: taken.
        (status, body) = try await post(camera, url, read("front-1", "苏A12345", at: front))
        #expect(status == 202, "\(body)")
        (status, body) = try await post(anonymous, url, read("rear-1", "苏B5678挂", at: rear), bearer: token)
        #expect(status == 202, "\(body)")

        #expect(await e.advance(milliseconds: 2_100) == 1)
        let record = try #require(try e.records().first)
        #expect(record["plate"]?.stringValue == "苏A12345" && record["trailer_plate"]?.stringValue == "苏B5678挂")
        var provenance: [String: String] = [:]
        if case .array(let plates)? = record["plates"] {
            for p in plates { provenance[p["camera"]?.stringValue ?? "?"] = "\(p["provenance"]?["credential"]?.stringValue ?? "-") \(p["provenance"]?["transport"]?.stringValue ?? "-")" }
        }
        #expect(provenance == ["front-1": "subject:CN=anpr-front-1 https-client-certificate", "rear-1": "token:\(PushCredential.configured(token: token).dropFirst(6).prefix(16)) https-bearer-token"], "\(provenance)")
        #expect(!String(decoding: record.canonicalBytes, as: UTF8.self).contains("苏E0000"), "a refused read reached the record")

        for c in [anonymous, camera, unmapped, rogue] { try await c.shutdown() }
        let metrics = e.unit.metrics.render()
        #expect(metrics.contains(#"weighpoint_reads_refused_total{reason="unauthenticated"} 3"#), "\(metrics)")
        #expect(metrics.contains(#"weighpoint_reads_refused_total{reason="forbidden"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"weighpoint_reads_refused_total{reason="plain_http"} 1"#), "\(metrics)")
    }

    /// A camera that authenticates and then never finishes its body is closed at the request
    /// timeout; the read is counted as incomplete and nothing of it is taken.
    @Test func aReadThatNeverFinishesIsClosedAtTheRequestTimeout() async throws {
        let e = try unit(timeouts: "request_timeout_s = 2")
        let tlsPort = ListeningPort()
        let (task, tp) = try await serve(try UnitHTTP.authenticated(unit: e.unit, shared: UnitHTTP.Shared(unit: e.unit), listener: #require(e.unit.config.tlsListener)) { tlsPort.set($0) }, port: tlsPort)
        defer { task.cancel() }
        let c = try client()
        var req = HTTPClientRequest(url: "https://127.0.0.1:\(tp)/v1/reads")
        req.method = .POST
        req.headers.add(name: "Authorization", value: "Bearer \(token)")
        let stalled = AsyncStream<ByteBuffer> { continuation in continuation.yield(ByteBuffer(string: "[{\"camera\":")) }  // and nothing more
        req.body = .stream(stalled, length: .known(Int64(1000)))
        await #expect(throws: (any Error).self) { _ = try await c.execute(req, timeout: .seconds(60)) }
        try await c.shutdown()
        // The handler sees its body end after the client sees the connection close: wait for it.
        for _ in 0..<500 where e.unit.metrics.value(UnitMetrics.series("weighpoint_reads_refused_total", [("reason", "incomplete")])) == nil {
            try await Task.sleep(for: .milliseconds(20))
        }
        let metrics = e.unit.metrics.render()
        #expect(metrics.contains(#"weighpoint_http_connections_closed_total{reason="request_timeout"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"weighpoint_reads_refused_total{reason="incomplete"} 1"#), "\(metrics)")
        #expect(e.unit.metrics.value("weighpoint_plate_reads_total") ?? 0 == 0)
    }

    func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in DispatchQueue.global().async { c.resume(with: Result { try body() }) } }
    }
}

import Hummingbird
import Synchronization
import WeighpointService
import WeighpointTesting

/// The port a server started on port 0 bound, once it listens.
final class ListeningPort: Sendable {
    let value = Mutex<Int?>(nil)
    func set(_ p: Int) { value.withLock { $0 = p } }
}

/// Runs an application (built to report to `port`) and returns it with its port once it listens.
func serve(_ app: some ApplicationProtocol, port: ListeningPort) async throws -> (Task<Void, Error>, Int) {
    let task = Task { try await app.run() }
    for _ in 0..<500 {
        if let p = port.value.withLock({ $0 }) { return (task, p) }
        try await Task.sleep(for: .milliseconds(20))
    }
    task.cancel()
    throw CancellationError()
}

/// The unit's plain listener on an ephemeral port.
func servePlain(_ e: EmbeddedUnit) async throws -> (Task<Void, Error>, Int) {
    let port = ListeningPort()
    return try await serve(UnitHTTP.plain(unit: e.unit, shared: UnitHTTP.Shared(unit: e.unit), host: "127.0.0.1", port: 0) { port.set($0) }, port: port)
}

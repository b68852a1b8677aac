import CModbus
import Glibc
import WeighpointSystem

/// How the unit reaches a Modbus device.
public enum ModbusTransport: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case rtu(device: String, baud: Int, parity: Parity, dataBits: Int, stopBits: Int)

    /// libmodbus takes N, E or O (`parse` refuses mark and space).
    public typealias Parity = SerialFraming.Parity

    /// A libmodbus context for this transport (`modbus_new_tcp` / `modbus_new_rtu`); the caller frees it.
    public func makeContext() throws(ModbusError) -> OpaquePointer {
        let made: OpaquePointer?
        switch self {
        case .tcp(let host, let port):
            made = modbus_new_tcp(host, Int32(port))
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits):
            made = modbus_new_rtu(device, Int32(baud), CChar(UInt8(ascii: parity.rawValue.unicodeScalars.first!)), Int32(dataBits), Int32(stopBits))
        }
        guard let made else { throw ModbusClient.error(description, "create context", nil) }
        return made
    }

    /// Parses the form `description` prints: `tcp://HOST:PORT` or `rtu:DEVICE@BAUD-8N1`.
    public static func parse(_ text: String) throws(TransportSyntaxError) -> ModbusTransport {
        if text.hasPrefix("tcp://") {
            let rest = text.dropFirst(6)
            guard let hp = HostPort(rest, ports: HostPort.connectPorts) else { throw TransportSyntaxError(text: text) }
            return .tcp(host: hp.host, port: hp.port)
        }
        if text.hasPrefix("rtu:") {
            let rest = text.dropFirst(4)
            guard let at = rest.lastIndex(of: "@"), rest.first == "/" else { throw TransportSyntaxError(text: text) }
            let line = rest[rest.index(after: at)...]
            guard let dash = line.firstIndex(of: "-"), let baud = Int(line[..<dash]), baud > 0 else { throw TransportSyntaxError(text: text) }
            guard let f = SerialFraming(line[line.index(after: dash)...]), [.none, .even, .odd].contains(f.parity) else {
                throw TransportSyntaxError(text: text)
            }
            return .rtu(device: String(rest[..<at]), baud: baud, parity: f.parity, dataBits: f.dataBits, stopBits: f.stopBits)
        }
        throw TransportSyntaxError(text: text)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .rtu(let device, let baud, let parity, let dataBits, let stopBits): "rtu:\(device)@\(baud)-\(dataBits)\(parity.rawValue)\(stopBits)"
        }
    }
}

public struct TransportSyntaxError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public var description: String { "'\(text)' is not tcp://HOST:PORT or rtu:/dev/DEVICE@BAUD-8N1 (data bits 5–8, parity N/E/O, stop bits 1–2)" }
}

/// A failed Modbus operation: which device, which operation and register, and libmodbus's reason.
public struct ModbusError: Error, CustomStringConvertible, Sendable {
    public let endpoint: String
    public let operation: String
    /// First register of the request, when the operation addressed registers.
    public let register: Int?
    public let errno: Int32
    public let reason: String

    public var description: String {
        "\(endpoint): \(operation)\(register.map { " at register \($0)" } ?? "") failed: \(reason)"
    }
}

/// One libmodbus client context (the C call each method stands for is named on it).
/// Not thread-safe: libmodbus calls block, so one owner thread uses it (PLATFORM-NOTES.md).
public final class ModbusClient {
    public let transport: ModbusTransport
    private let ctx: OpaquePointer
    private var connected = false

    /// `modbus_new_tcp` / `modbus_new_rtu` and `modbus_set_slave`.
    public init(_ transport: ModbusTransport, unitId: Int, responseTimeoutMs: Int = 500) throws(ModbusError) {
        self.transport = transport
        ctx = try transport.makeContext()
        guard modbus_set_slave(ctx, Int32(unitId)) == 0 else {
            modbus_free(ctx)
            throw ModbusClient.error(transport.description, "set unit id \(unitId)", nil)
        }
        let ms = UInt32(max(responseTimeoutMs, 1))
        modbus_set_response_timeout(ctx, ms / 1000, (ms % 1000) * 1000)
    }

    deinit {
        if connected { modbus_close(ctx) }
        modbus_free(ctx)
    }

    /// `modbus_connect`.
    public func connect() throws(ModbusError) {
        if connected { return }
        guard modbus_connect(ctx) == 0 else { throw ModbusClient.error(transport.description, "connect", nil) }
        connected = true
    }

    /// `modbus_close`.
    public func close() {
        if connected { modbus_close(ctx) }
        connected = false
    }

    public var isConnected: Bool { connected }

    /// `modbus_read_registers` (function 0x03), `count` ≤ 125.
    public func readHoldingRegisters(at address: Int, count: Int) throws(ModbusError) -> [UInt16] {
        var out = [UInt16](repeating: 0, count: count)
        let n = modbus_read_registers(ctx, Int32(address), Int32(count), &out)
        guard n == count else { throw ModbusClient.error(transport.description, "read \(count) holding registers", address) }
        return out
    }

    /// `modbus_write_registers` (function 0x10).
    public func writeRegisters(at address: Int, _ values: [UInt16]) throws(ModbusError) {
        let n = values.withUnsafeBufferPointer { modbus_write_registers(ctx, Int32(address), Int32(values.count), $0.baseAddress) }
        guard n == values.count else { throw ModbusClient.error(transport.description, "write \(values.count) registers", address) }
    }

    /// `modbus_flush`: drops bytes left over from a broken exchange.
    public func flush() { _ = modbus_flush(ctx) }

    public static func error(_ endpoint: String, _ operation: String, _ register: Int?) -> ModbusError {
        let code = Glibc.errno
        return ModbusError(endpoint: endpoint, operation: operation, register: register, errno: code, reason: String(cString: modbus_strerror(code)))
    }
}

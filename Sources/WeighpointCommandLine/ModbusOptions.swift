import ArgumentParser
import Foundation
import WeighpointModbus

/// Where a Modbus device is, as given on the command line.
public struct LinkOptions: ParsableArguments {
    public init() {}

    @Option(help: "Modbus TCP controller, HOST:PORT.")
    public var tcp: String?

    @Option(help: "Modbus RTU serial device, e.g. /dev/ttyUSB0.")
    public var rtu: String?

    @Option(help: "RTU baud rate.")
    public var baud = 9600

    @Option(help: "RTU parity: N, E or O.")
    public var parity = "N"

    @Option(help: "RTU data bits.")
    public var dataBits = 8

    @Option(help: "RTU stop bits.")
    public var stopBits = 1

    public func transport() throws -> ModbusTransport {
        try makeTransport(tcp: tcp, rtu: rtu, baud: baud, parity: parity, dataBits: dataBits, stopBits: stopBits, listening: false)
    }
}

/// The transport for `--tcp`/`--listen` or `--rtu` and its serial settings.
public func makeTransport(tcp: String?, rtu: String?, baud: Int, parity: String = "N", dataBits: Int = 8, stopBits: Int = 1, listening: Bool) throws -> ModbusTransport {
        switch (tcp, rtu) {
        case (let t?, nil):
            guard let colon = t.lastIndex(of: ":"), let port = Int(t[t.index(after: colon)...]), (0...65535).contains(port) else {
                throw ValidationError("'\(t)' is not HOST:PORT")
            }
            return .tcp(host: String(t[..<colon]), port: port)
        case (nil, let d?):
            guard let p = ModbusTransport.Parity(rawValue: parity.uppercased()) else { throw ValidationError("parity '\(parity)' is not N, E or O") }
            guard [5, 6, 7, 8].contains(dataBits), [1, 2].contains(stopBits) else { throw ValidationError("data bits 5–8 and stop bits 1–2") }
            return .rtu(device: d, baud: baud, parity: p, dataBits: dataBits, stopBits: stopBits)
        default:
            throw ValidationError(listening ? "give exactly one of --listen HOST:PORT or --rtu DEVICE" : "give exactly one of --tcp HOST:PORT or --rtu DEVICE")
        }
}

public func loadProfile(_ name: String) throws -> WIMProfile {
    do {
        return try WIMProfile.load(name)
    } catch {
        printError("weighpoint: \(error)")
        throw ExitCode(1)
    }
}

/// A thread-safe count for callbacks.
public final class Counter: @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var n = 0
    public var value: Int { lock.withLock { n } }
    public func increment() -> Int { lock.withLock { n += 1; return n } }
}

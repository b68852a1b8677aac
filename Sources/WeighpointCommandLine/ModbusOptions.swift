import ArgumentParser
import Foundation
import WeighpointModbus
import WeighpointSystem

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
            guard let hp = HostPort(t, ports: listening ? HostPort.listenPorts : HostPort.connectPorts) else {
                throw ValidationError("'\(t)' is not HOST:PORT")
            }
            return .tcp(host: hp.host, port: hp.port)
        case (nil, let d?):
            guard let f = SerialFraming("\(dataBits)\(parity)\(stopBits)"), [.none, .even, .odd].contains(f.parity) else {
                throw ValidationError("\(dataBits)\(parity)\(stopBits) is not a Modbus RTU framing: data bits 5–8, parity N, E or O, stop bits 1–2")
            }
            return .rtu(device: d, baud: baud, parity: f.parity, dataBits: f.dataBits, stopBits: f.stopBits)
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

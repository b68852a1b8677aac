import CSerialPort
import Foundation
import Glibc
import WeighpointSystem

/// Where a console's bytes come from and go to.
public protocol ConsoleTransport: AnyObject {
    /// For logs and errors: the device or `stdio`.
    var name: String { get }
    /// Whether to wait for the device and open it again after it was lost (a serial adapter
    /// unplugged); standard input ends for good.
    var reopensAfterLoss: Bool { get }
    func open() throws(ConsoleTransportError)
    /// What arrived within `timeoutMs`; empty on timeout. Throws when the device or peer is gone.
    func read(timeoutMs: Int) throws(ConsoleTransportError) -> [UInt8]
    /// Writes, giving up after a while when the line does not drain (flow control held off by a
    /// peer that stopped reading): the console never waits on a stuck terminal for long.
    func write(_ bytes: [UInt8]) throws(ConsoleTransportError)
    func close()
}

/// A console device that failed, and why, naming the device.
public struct ConsoleTransportError: Error, CustomStringConvertible, Equatable {
    public var device: String
    public var reason: String
    /// The peer or device went away (as opposed to never having opened).
    public var lost: Bool

    public init(device: String, reason: String, lost: Bool = false) {
        self.device = device
        self.reason = reason
        self.lost = lost
    }

    public var description: String { "\(device): \(reason)" }
}

/// Serial line settings, written `8N1` like on every terminal program.
public struct SerialSettings: Sendable, Equatable, CustomStringConvertible {
    public typealias Parity = SerialFraming.Parity
    public enum FlowControl: String, Sendable, CaseIterable { case none, xonxoff, rtscts, dtrdsr }

    public var baud: Int
    public var dataBits: Int
    public var parity: Parity
    public var stopBits: Int
    public var flowControl: FlowControl

    public init(baud: Int = 115_200, dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1, flowControl: FlowControl = .none) {
        self.baud = baud
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
        self.flowControl = flowControl
    }

    /// Parses `8N1`, `7E1`, `8N2` (SerialFraming).
    public static func framing(_ s: String) -> (dataBits: Int, parity: Parity, stopBits: Int)? {
        SerialFraming(s).map { ($0.dataBits, $0.parity, $0.stopBits) }
    }

    public var description: String { "\(baud) \(dataBits)\(parity.rawValue)\(stopBits) flow \(flowControl.rawValue)" }
}

/// A serial port through libserialport: USB-serial adapters and UARTs (not pseudo-terminals,
/// which libserialport does not open; use `--stdio` for those).
public final class SerialPortTransport: ConsoleTransport {
    public let path: String
    public let settings: SerialSettings
    public var name: String { path }
    public var reopensAfterLoss: Bool { true }
    private var port: OpaquePointer?
    private var fd: Int32 = -1

    public init(path: String, settings: SerialSettings) {
        self.path = path
        self.settings = settings
    }

    private func check(_ r: sp_return, _ what: String) throws(ConsoleTransportError) {
        guard r.rawValue < 0 else { return }
        var why = "libserialport error \(r.rawValue)"
        if r == SP_ERR_FAIL, let m = sp_last_error_message() {
            why = String(cString: m)
            sp_free_error_message(m)
        }
        throw ConsoleTransportError(device: path, reason: "\(what): \(why)")
    }

    public func open() throws(ConsoleTransportError) {
        close()
        var p: OpaquePointer?
        guard sp_get_port_by_name(path, &p) == SP_OK, let p else {
            let why = FileManager.default.fileExists(atPath: path)
                ? "not a serial port libserialport knows (a pseudo-terminal? use weighpoint console --stdio)"
                : "no such device (adapter unplugged?)"
            throw ConsoleTransportError(device: path, reason: why)
        }
        port = p
        do {
            try check(sp_open(p, SP_MODE_READ_WRITE), "open")
            try check(sp_set_baudrate(p, Int32(settings.baud)), "baud \(settings.baud)")
            try check(sp_set_bits(p, Int32(settings.dataBits)), "data bits \(settings.dataBits)")
            let parity: sp_parity = switch settings.parity {
            case .none: SP_PARITY_NONE
            case .odd: SP_PARITY_ODD
            case .even: SP_PARITY_EVEN
            case .mark: SP_PARITY_MARK
            case .space: SP_PARITY_SPACE
            }
            try check(sp_set_parity(p, parity), "parity \(settings.parity)")
            try check(sp_set_stopbits(p, Int32(settings.stopBits)), "stop bits \(settings.stopBits)")
            let flow: sp_flowcontrol = switch settings.flowControl {
            case .none: SP_FLOWCONTROL_NONE
            case .xonxoff: SP_FLOWCONTROL_XONXOFF
            case .rtscts: SP_FLOWCONTROL_RTSCTS
            case .dtrdsr: SP_FLOWCONTROL_DTRDSR
            }
            try check(sp_set_flowcontrol(p, flow), "flow control \(settings.flowControl)")
            var handle: Int32 = -1
            try check(sp_get_port_handle(p, &handle), "handle")
            fd = handle
        } catch {
            close()
            throw error
        }
    }

    public func read(timeoutMs: Int) throws(ConsoleTransportError) -> [UInt8] {
        guard let port, fd >= 0 else { throw ConsoleTransportError(device: path, reason: "not open", lost: true) }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let n = poll(&pfd, 1, Int32(timeoutMs))
        if n < 0 {
            if errno == EINTR { return [] }
            throw ConsoleTransportError(device: path, reason: "poll: \(String(cString: strerror(errno)))", lost: true)
        }
        if n == 0 {
            // A UART never hangs up; a device node that vanished means the adapter went.
            if access(path, F_OK) != 0 { throw ConsoleTransportError(device: path, reason: "device node gone", lost: true) }
            return []
        }
        if pfd.revents & Int16(POLLNVAL | POLLERR) != 0 || (pfd.revents & Int16(POLLHUP) != 0 && pfd.revents & Int16(POLLIN) == 0) {
            throw ConsoleTransportError(device: path, reason: "hung up", lost: true)
        }
        var buf = [UInt8](repeating: 0, count: 1024)
        let r = sp_nonblocking_read(port, &buf, buf.count)
        if r.rawValue < 0 { throw ConsoleTransportError(device: path, reason: "read failed", lost: true) }
        // Readable but nothing to read is end of file: the adapter went away under us.
        if r.rawValue == 0 { throw ConsoleTransportError(device: path, reason: "end of file (adapter unplugged?)", lost: true) }
        return Array(buf.prefix(Int(r.rawValue)))
    }

    public func write(_ bytes: [UInt8]) throws(ConsoleTransportError) {
        guard !bytes.isEmpty else { return }
        guard let port else { throw ConsoleTransportError(device: path, reason: "not open", lost: true) }
        // What does not drain in 2 s is dropped: the console never waits on a stuck terminal.
        let r = sp_blocking_write(port, bytes, bytes.count, 2000)
        if r.rawValue < 0 { throw ConsoleTransportError(device: path, reason: "write failed", lost: true) }
    }

    public func close() {
        if let port {
            sp_close(port)
            sp_free_port(port)
        }
        port = nil
        fd = -1
    }

    deinit { close() }
}

/// Standard input and output (`weighpoint console --stdio`): a terminal is put in raw mode for
/// the session (the console echoes, Ctrl-C arrives as a key) and restored after; a pipe is read
/// as it is. End of input ends the console.
public final class StandardIOTransport: ConsoleTransport {
    public var name: String { "stdio" }
    public var reopensAfterLoss: Bool { false }
    private var saved: termios?

    public init() {}

    public func open() throws(ConsoleTransportError) {
        if isatty(0) == 1 {
            var t = termios()
            tcgetattr(0, &t)
            saved = t
            cfmakeraw(&t)
            t.c_oflag |= tcflag_t(OPOST)  // keep output processing sane for logs on the same tty
            tcsetattr(0, TCSANOW, &t)
        }
    }

    public func read(timeoutMs: Int) throws(ConsoleTransportError) -> [UInt8] {
        var pfd = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let n = poll(&pfd, 1, Int32(timeoutMs))
        if n < 0 { return [] }
        if n == 0 { return [] }
        var buf = [UInt8](repeating: 0, count: 1024)
        let r = Glibc.read(0, &buf, buf.count)
        if r < 0 && (errno == EINTR || errno == EAGAIN) { return [] }
        if r <= 0 { throw ConsoleTransportError(device: "stdio", reason: "end of input", lost: true) }
        return Array(buf.prefix(r))
    }

    public func write(_ bytes: [UInt8]) throws(ConsoleTransportError) {
        var off = 0
        while off < bytes.count {
            let r = bytes[off...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
            if r < 0 {
                if errno == EINTR { continue }
                throw ConsoleTransportError(device: "stdio", reason: "write: \(String(cString: strerror(errno)))", lost: true)
            }
            off += r
        }
    }

    public func close() {
        if var t = saved { tcsetattr(0, TCSANOW, &t) }
        saved = nil
    }
}

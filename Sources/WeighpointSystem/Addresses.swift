/// `host:port`: the one parser for every address the unit and its tools listen on or connect to
/// (the HTTP endpoint, the case-system receiver, Modbus TCP). The port is the text after the
/// last colon, so an IPv6 literal in brackets works; the host may not be empty.
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Ports for listening: 0 asks the system for a free one.
    public static let listenPorts: ClosedRange<Int> = 0...65535
    /// Ports for connecting.
    public static let connectPorts: ClosedRange<Int> = 1...65535

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init?(_ text: some StringProtocol, ports: ClosedRange<Int> = HostPort.listenPorts) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let p = Int(text[text.index(after: colon)...]), ports.contains(p)
        else { return nil }
        host = String(text[..<colon])
        port = p
    }

    public var description: String { "\(host):\(port)" }
}

/// A serial line's framing written as terminal programs do, `8N1`: data bits, parity, stop
/// bits. The one parser for the console's serial port and Modbus RTU.
public struct SerialFraming: Sendable, Equatable, CustomStringConvertible {
    public enum Parity: String, Sendable, CaseIterable {
        case none = "N", odd = "O", even = "E", mark = "M", space = "S"
    }

    public var dataBits: Int
    public var parity: Parity
    public var stopBits: Int

    public init(dataBits: Int = 8, parity: Parity = .none, stopBits: Int = 1) {
        self.dataBits = dataBits
        self.parity = parity
        self.stopBits = stopBits
    }

    /// `8N1`, `7E1`, `8N2` (case-insensitive): 5–8 data bits, N/O/E/M/S, 1 or 2 stop bits.
    public init?(_ text: some StringProtocol) {
        let c = Array(text.uppercased())
        guard c.count == 3, let d = Int(String(c[0])), (5...8).contains(d), let p = Parity(rawValue: String(c[1])),
              let st = Int(String(c[2])), (1...2).contains(st)
        else { return nil }
        self.init(dataBits: d, parity: p, stopBits: st)
    }

    public var description: String { "\(dataBits)\(parity.rawValue)\(stopBits)" }
}
